package dev.atoll.server.shard;

import dev.atoll.shard.ShardId;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The size the placement driver plans with, and when it scans a shard to know it exactly. */
class ShardSizesTest {
    private static final long SPLIT = 64 * 1024;
    private static final ShardId S4 = ShardId.of(4);

    @Test
    void aNewRangeEstimatedUnderTheSplitSizeButOverHalfOfItIsMeasured() {
        // a split's new shard, its rows in a memtable: 104 KB of rows estimated at 61 KB (seen in AutoSplitInProcessTest)
        var sizes = new ShardSizes(SPLIT);
        assertThat(sizes.estimate(S4, 3, 61_008)).isEqualTo(new ShardSizes.Estimate(61_008, true));

        sizes.measured(S4, 3, 61_008, 104_000);
        assertThat(sizes.estimate(S4, 3, 61_008)).as("over the split size: measured again for the split's sample")
                .isEqualTo(new ShardSizes.Estimate(104_000, true));
    }

    @Test
    void aMeasuredShardUnderTheSplitSizeIsNotScannedAgainUntilItsRangeChangesOrItGrows() {
        var sizes = new ShardSizes(SPLIT);
        sizes.measured(S4, 3, 40_000, 50_000);

        assertThat(sizes.estimate(S4, 3, 40_000)).isEqualTo(new ShardSizes.Estimate(50_000, false));
        assertThat(sizes.estimate(S4, 3, 40_000 + SPLIT / 4 - 1)).isEqualTo(new ShardSizes.Estimate(50_000, false));
        assertThat(sizes.estimate(S4, 3, 40_000 + SPLIT / 4)).as("grew by a quarter of the split size")
                .isEqualTo(new ShardSizes.Estimate(40_000 + SPLIT / 4, true));
        assertThat(sizes.estimate(S4, 4, 40_000)).as("another range (split or merged since)")
                .isEqualTo(new ShardSizes.Estimate(40_000, true));
    }

    @Test
    void aParentEstimatedWithItsDeletedRowsIsTakenAtItsMeasuredSize() {
        // RocksDB counts the rows a split deleted until a compaction
        var sizes = new ShardSizes(SPLIT);
        sizes.measured(S4, 5, 428_032, 52_000);
        assertThat(sizes.estimate(S4, 5, 440_000)).isEqualTo(new ShardSizes.Estimate(52_000, false));
    }

    @Test
    void aSmallUnmeasuredShardIsTakenAtItsEstimateWithoutAScan() {
        var sizes = new ShardSizes(SPLIT);
        assertThat(sizes.estimate(S4, 1, SPLIT / 2 - 1)).isEqualTo(new ShardSizes.Estimate(SPLIT / 2 - 1, false));
    }

    @Test
    void forgottenShardsStartOverFromTheirEstimate() {
        var sizes = new ShardSizes(SPLIT);
        sizes.measured(S4, 3, 40_000, 50_000);
        sizes.retain(Set.of(ShardId.of(1)));
        assertThat(sizes.estimate(S4, 3, 40_000)).isEqualTo(new ShardSizes.Estimate(40_000, true));
    }
}
