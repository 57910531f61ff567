package dev.atoll.server.shard;

import dev.atoll.shard.ShardId;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What the placement driver takes for each shard's size, and when it must measure one exactly.
 *
 * <p>RocksDB's estimate of a replica's bytes is rough both ways while the rows sit in a memtable:
 * it counts rows deleted until a compaction (a split's parent looks as large as before the split)
 * and, from the memtable's entry sampling, can take a split's new shard at half of what it holds
 * (measured: 104 KB of rows estimated at 61 KB, 52 KB at 38 KB). A key sample sums the rows
 * exactly; it costs a scan of the replica. So a shard is measured when its estimate reaches the
 * split size, and also when it reaches half of it without an exact size for its current range
 * (a new or just-split range) or after growing by a quarter of the split size since its last
 * measure. Its last exact size stands in for the estimate until the range changes or the
 * estimate grows that much: each shard is scanned about once per range and per quarter of the
 * split size written, never every round.
 *
 * <p>Not thread-safe: the balancer's thread only. Pure: no I/O, no clock.
 */
final class ShardSizes {
    /** The size to plan with, and whether to take a key sample (an exact measure) this round. */
    record Estimate(long bytes, boolean measure) {
    }

    private record Measured(long rangeVersion, long approximateThen, long exactBytes) {
    }

    private final long splitSizeBytes;
    private final Map<ShardId, Measured> measured = new HashMap<>();

    ShardSizes(long splitSizeBytes) {
        this.splitSizeBytes = splitSizeBytes;
    }

    /** The estimate for {@code shard} at {@code rangeVersion}, RocksDB estimating {@code approximate} bytes. */
    Estimate estimate(ShardId shard, long rangeVersion, long approximate) {
        Measured m = measured.get(shard);
        boolean known = m != null && m.rangeVersion() == rangeVersion
                && approximate < m.approximateThen() + splitSizeBytes / 4;
        if (known) {
            return new Estimate(m.exactBytes(), m.exactBytes() >= splitSizeBytes);
        }
        return new Estimate(approximate, approximate >= splitSizeBytes / 2);
    }

    /** Records a sample's exact sum of {@code shard}'s rows, taken while RocksDB estimated {@code approximate}. */
    void measured(ShardId shard, long rangeVersion, long approximate, long exactBytes) {
        measured.put(shard, new Measured(rangeVersion, approximate, exactBytes));
    }

    /** Forgets the shards not in {@code shards} (merged away). */
    void retain(Set<ShardId> shards) {
        measured.keySet().retainAll(shards);
    }
}
