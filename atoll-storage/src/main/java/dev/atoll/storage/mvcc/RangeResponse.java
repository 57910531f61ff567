package dev.atoll.storage.mvcc;

import java.util.List;

/**
 * etcd's RangeResponse: {@code revision} is the store's current revision (not the one read
 * at), {@code count} the number of keys in the range at the read revision regardless of
 * limit and filters, {@code more} whether the limit cut the result.
 */
public record RangeResponse(long revision, List<KeyValue> kvs, boolean more, long count) implements ResponseOp {
}
