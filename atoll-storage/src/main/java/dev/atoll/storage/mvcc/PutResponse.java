package dev.atoll.storage.mvcc;

import java.util.Optional;

/** etcd's PutResponse: the revision after the put, and the previous version when asked and present. */
public record PutResponse(long revision, Optional<KeyValue> prevKv) implements ResponseOp {
}
