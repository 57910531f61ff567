package dev.atoll.storage.mvcc;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One version of a key, with etcd's fields: createRevision (revision of the put that created
 * the key since it was last absent), modRevision (revision of this version), version (1 on
 * creation, +1 per put), value and lease (0 = none). Equality compares the bytes.
 */
public record KeyValue(byte[] key, long createRevision, long modRevision, long version, byte[] value, long lease) {

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue kv && createRevision == kv.createRevision && modRevision == kv.modRevision
                && version == kv.version && lease == kv.lease && Arrays.equals(key, kv.key)
                && Arrays.equals(value, kv.value);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key) * 31 + Long.hashCode(modRevision);
    }

    @Override
    public String toString() {
        return "KeyValue[key=" + HexFormat.of().formatHex(key) + ", create=" + createRevision + ", mod=" + modRevision
                + ", version=" + version + ", value=" + HexFormat.of().formatHex(value) + ", lease=" + lease + "]";
    }

    KeyValue withoutValue() {
        return new KeyValue(key, createRevision, modRevision, version, new byte[0], lease);
    }
}
