package dev.atoll.shard;

import dev.atoll.core.NodeId;

import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * What a shard's leader reports about it, at the epoch it knew: its size, its load, how long
 * ago its range last changed, which learners are still catching up, and a sample of its keys.
 * Statistics taken at another range version than the shard's current one describe another
 * range: they are stale and not used to split or merge. (A replica change does not change
 * what the range holds, so the conf version does not matter.)
 */
public record ShardStats(ShardId shard, ShardEpoch epoch, long sizeBytes, long loadQps, long rangeAgeTicks,
                         List<NodeId> catchingUp, KeySample sample) {
    public ShardStats {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(epoch, "epoch");
        Objects.requireNonNull(sample, "sample");
        checkArgument(sizeBytes >= 0 && loadQps >= 0 && rangeAgeTicks >= 0,
                "stats are not negative: %d bytes, %d qps, %d ticks", sizeBytes, loadQps, rangeAgeTicks);
        catchingUp = List.copyOf(catchingUp);
    }

    /** Size and load only: every learner caught up, no key sample, range long settled. */
    public static ShardStats of(ShardDescriptor shard, long sizeBytes, long loadQps) {
        return new ShardStats(shard.id(), shard.epoch(), sizeBytes, loadQps, Long.MAX_VALUE / 2, List.of(),
                KeySample.EMPTY);
    }

    public boolean isCurrentFor(ShardDescriptor shard) {
        return shard.id().equals(this.shard) && shard.epoch().rangeVersion() == epoch.rangeVersion();
    }
}
