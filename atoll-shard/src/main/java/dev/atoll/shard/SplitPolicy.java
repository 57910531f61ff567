package dev.atoll.shard;

import static dev.atoll.core.Check.checkArgument;

/**
 * When shards split and merge. A shard splits when it reaches {@code splitSizeBytes} or
 * {@code splitLoadQps}; two neighbours merge when both have kept their ranges for
 * {@code mergeRangeAgeTicksMin} ticks and together stay within {@code mergeSizeBytesMax} and
 * {@code mergeLoadQpsMax}.
 *
 * <p>Hysteresis: the merge limits are at most half the split thresholds. The two halves of a
 * split together hold at least a threshold, so they never qualify to merge back; a merged
 * shard holds at most half a threshold, so it never qualifies to split. (TiKV splits at 96 MiB
 * and merges under 20 MiB; CockroachDB splits at 512 MiB and merges under 128 MiB.)
 */
public record SplitPolicy(long splitSizeBytes, long splitLoadQps, long mergeSizeBytesMax, long mergeLoadQpsMax,
                          long mergeRangeAgeTicksMin) {
    public SplitPolicy {
        checkArgument(splitSizeBytes > 0 && splitLoadQps > 0, "split thresholds are positive: %d bytes, %d qps",
                splitSizeBytes, splitLoadQps);
        checkArgument(mergeSizeBytesMax >= 0 && mergeSizeBytesMax <= splitSizeBytes / 2,
                "mergeSizeBytesMax is at most half of splitSizeBytes (hysteresis): %d vs %d", mergeSizeBytesMax,
                splitSizeBytes);
        checkArgument(mergeLoadQpsMax >= 0 && mergeLoadQpsMax <= splitLoadQps / 2,
                "mergeLoadQpsMax is at most half of splitLoadQps (hysteresis): %d vs %d", mergeLoadQpsMax, splitLoadQps);
        checkArgument(mergeRangeAgeTicksMin >= 0, "mergeRangeAgeTicksMin is not negative: %d", mergeRangeAgeTicksMin);
    }

    /** 96 MiB / 2500 qps to split; under 20 MiB and 500 qps, settled for 600 ticks, to merge. */
    public static SplitPolicy defaults() {
        return new SplitPolicy(96L << 20, 2500, 20L << 20, 500, 600);
    }
}
