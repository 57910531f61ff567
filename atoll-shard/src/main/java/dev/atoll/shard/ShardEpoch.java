package dev.atoll.shard;

import static dev.atoll.core.Check.checkArgument;

/**
 * A shard's version, in two parts as TiKV's RegionEpoch: {@code rangeVersion} goes up when the
 * shard's span changes (split, merge, slots moved) and {@code confVersion} when its replicas
 * change. A command or a request planned against an older epoch is refused, never applied to a
 * shard that has since changed under it. A leader change changes neither.
 */
public record ShardEpoch(long rangeVersion, long confVersion) implements Comparable<ShardEpoch> {
    public static final ShardEpoch INITIAL = new ShardEpoch(1, 1);

    public ShardEpoch {
        checkArgument(rangeVersion >= 1 && confVersion >= 1, "epoch parts start at 1: %d/%d", rangeVersion, confVersion);
    }

    public ShardEpoch nextRange() {
        return new ShardEpoch(rangeVersion + 1, confVersion);
    }

    public ShardEpoch nextConf() {
        return new ShardEpoch(rangeVersion, confVersion + 1);
    }

    /** The epoch of the shard two shards merge into: past both ranges, the larger conf. */
    public static ShardEpoch merged(ShardEpoch left, ShardEpoch right) {
        return new ShardEpoch(Math.max(left.rangeVersion, right.rangeVersion) + 1,
                Math.max(left.confVersion, right.confVersion));
    }

    /** True if neither part of this epoch is behind {@code other}'s. */
    public boolean notOlderThan(ShardEpoch other) {
        return rangeVersion >= other.rangeVersion && confVersion >= other.confVersion;
    }

    @Override
    public int compareTo(ShardEpoch other) {
        int c = Long.compare(rangeVersion, other.rangeVersion);
        return c != 0 ? c : Long.compare(confVersion, other.confVersion);
    }

    @Override
    public String toString() {
        return "v" + rangeVersion + "/c" + confVersion;
    }
}
