package dev.atoll.storage.mvcc;

import java.util.List;

/** etcd's DeleteRangeResponse: how many keys were deleted, and their last versions when asked. */
public record DeleteRangeResponse(long revision, long deleted, List<KeyValue> prevKvs) implements ResponseOp {
}
