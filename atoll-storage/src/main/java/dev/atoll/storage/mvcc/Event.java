package dev.atoll.storage.mvcc;

import java.util.Optional;

/**
 * One change in the history, as etcd's watch Event. A DELETE's {@code kv} carries only the
 * key and the mod revision (the delete's), as etcd's. {@code prevKv} is the key's version
 * before the change, when asked and present. {@code subRevision} orders changes within one
 * revision (a txn).
 */
public record Event(Type type, KeyValue kv, Optional<KeyValue> prevKv, long subRevision) {
    public enum Type { PUT, DELETE }

    public long revision() {
        return kv.modRevision();
    }
}
