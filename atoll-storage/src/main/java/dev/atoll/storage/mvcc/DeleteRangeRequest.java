package dev.atoll.storage.mvcc;

import java.util.Objects;

/** etcd's DeleteRangeRequest; {@code rangeEnd} follows {@link RangeRequest}'s conventions. */
public record DeleteRangeRequest(byte[] key, byte[] rangeEnd, boolean prevKv) implements RequestOp {
    public DeleteRangeRequest {
        Objects.requireNonNull(key, "key");
        rangeEnd = rangeEnd == null ? new byte[0] : rangeEnd;
    }

    public static DeleteRangeRequest of(byte[] key) {
        return new DeleteRangeRequest(key, null, false);
    }

    public static DeleteRangeRequest ofRange(byte[] key, byte[] rangeEnd) {
        return new DeleteRangeRequest(key, rangeEnd, false);
    }

    public static DeleteRangeRequest ofPrefix(byte[] prefix) {
        return new DeleteRangeRequest(prefix, RangeRequest.prefixEnd(prefix), false);
    }

    public DeleteRangeRequest withPrevKv() {
        return new DeleteRangeRequest(key, rangeEnd, true);
    }
}
