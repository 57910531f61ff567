package dev.atoll.shard.replica;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;

import java.util.List;

/**
 * The ordered key-value store one shard replica keeps its keys in: a {@link MemoryShardStore}
 * in the simulator and in tests, a key prefix of the node's RocksDB in the server. Keys are
 * ordered as {@link Key} orders them (unsigned bytes). A store belongs to one replica; the
 * replica never touches a key outside its span, so a store may also be a prefixed view of a
 * shared one. Not thread-safe: the replica's driver owns it.
 */
public interface ShardStore {
    /** The value of {@code key}, or null when absent. */
    byte[] get(Key key);

    void put(Key key, byte[] value);

    /** Removes {@code key}; absent keys are ignored. */
    void delete(Key key);

    /** At most {@code limit} rows of {@code range}, in ascending key order. */
    List<KeyValue> scan(KeyRange range, int limit);

    /** Removes every key of {@code range}. */
    void deleteRange(KeyRange range);
}
