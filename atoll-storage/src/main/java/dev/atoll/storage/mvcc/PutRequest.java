package dev.atoll.storage.mvcc;

import java.util.Objects;

/**
 * etcd's PutRequest. {@code lease} 0 = no lease; {@code ignoreValue} / {@code ignoreLease}
 * keep the key's current value / lease (the key must exist, and the ignored field must be
 * empty / 0).
 */
public record PutRequest(byte[] key, byte[] value, long lease, boolean prevKv, boolean ignoreValue,
                         boolean ignoreLease) implements RequestOp {
    private static final byte[] EMPTY = new byte[0];

    public PutRequest {
        Objects.requireNonNull(key, "key");
        value = value == null ? EMPTY : value;
    }

    public static PutRequest of(byte[] key, byte[] value) {
        return new PutRequest(key, value, 0, false, false, false);
    }

    public PutRequest withLease(long leaseId) {
        return new PutRequest(key, value, leaseId, prevKv, ignoreValue, ignoreLease);
    }

    public PutRequest withPrevKv() {
        return new PutRequest(key, value, lease, true, ignoreValue, ignoreLease);
    }

    public PutRequest withIgnoreValue() {
        return new PutRequest(key, EMPTY, lease, prevKv, true, ignoreLease);
    }

    public PutRequest withIgnoreLease() {
        return new PutRequest(key, value, 0, prevKv, ignoreValue, true);
    }
}
