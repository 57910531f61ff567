package dev.atoll.server.shard;

import dev.atoll.shard.ShardId;

import java.util.List;
import java.util.Optional;

/**
 * One shard replica's data, as its apply logic sees the node's shared {@link ShardStore}: keys
 * as the user wrote them, reads, one atomic write per applied batch (with the applied log
 * position), and whole-shard replacement for a snapshot. This narrow interface is all the
 * shard's state machine needs from storage, so another apply logic can take its place.
 */
public interface ShardData {
    ShardId shardId();

    /** The log position of the last batch written ({@link ShardStore.Applied#NONE} for none). */
    ShardStore.Applied applied();

    Optional<byte[]> get(byte[] key);

    /**
     * The shard's keys in [start, end) in key order (end null: to the shard's end), at most
     * {@code limit}. A range shard sees only its own range of the keyspace.
     */
    List<ShardStore.KeyValue> scan(byte[] start, byte[] end, int limit);

    /** Writes puts and deletes and the applied position at once. */
    void write(List<ShardStore.Write> writes, ShardStore.Applied applied);

    /** Replaces all the shard's data and its applied position at once (snapshot install). */
    void replace(List<ShardStore.KeyValue> pairs, ShardStore.Applied applied);

    /** Deletes all the shard's data and its applied position. */
    void delete();
}
