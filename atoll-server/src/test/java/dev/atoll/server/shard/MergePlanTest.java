package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.replica.PendingMerge;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The steps of a merge, as the source's and the target's leaders derive them from the intent. */
class MergePlanTest {
    private static final ShardId TARGET = ShardId.of(1);
    private static final ShardId SOURCE = ShardId.of(2);
    private static final ShardEpoch TARGET_EPOCH = new ShardEpoch(2, 1);
    private static final ShardEpoch SOURCE_EPOCH = new ShardEpoch(3, 1);
    private static final KeyRange LOWER = new KeyRange(Key.MIN, Key.utf8("m"));
    private static final KeyRange UPPER = new KeyRange(Key.utf8("m"), Key.END);
    private static final ShardState.Merge MERGE = new ShardState.Merge(TARGET, TARGET_EPOCH,
            new ShardDescriptor(SOURCE, "users", UPPER, List.of(Replica.voter(NodeId.of("n1"))), null, SOURCE_EPOCH));
    private static final PendingMerge FROZEN = new PendingMerge(TARGET, TARGET_EPOCH);

    @Test
    void theSourcesLeaderFreezesItOnceAtTheEpochTheMapMergedIt() {
        var source = Optional.of(new ShardBounds(SOURCE, UPPER, SOURCE_EPOCH, 0));

        assertThat(MergePlan.forSource(MERGE, source, Optional.empty())).contains(new MergePlan.Prepare(
                new ShardCommand.PrepareMerge(SOURCE, SOURCE_EPOCH, TARGET, TARGET_EPOCH)));
        assertThat(MergePlan.forSource(MERGE, source, Optional.of(FROZEN))).isEmpty();
        assertThat(MergePlan.forSource(MERGE, Optional.empty(), Optional.empty())).isEmpty();
    }

    @Test
    void theTargetsLeaderCommitsOnceItsNodesSourceReplicaIsFrozenThenFinishes() {
        var before = Optional.of(new ShardBounds(TARGET, LOWER, TARGET_EPOCH, 0));
        var after = Optional.of(new ShardBounds(TARGET, KeyRange.ALL, MERGE.mergedEpoch(), 0));

        assertThat(MergePlan.forTarget(MERGE, before, Optional.empty())).isEmpty();
        assertThat(MergePlan.forTarget(MERGE, before, Optional.of(FROZEN))).contains(new MergePlan.Commit());
        assertThat(MergePlan.forTarget(MERGE, after, Optional.of(FROZEN))).contains(new MergePlan.Finish());
        // a source frozen for another merge is not this one's
        assertThat(MergePlan.forTarget(MERGE, before, Optional.of(new PendingMerge(ShardId.of(9), TARGET_EPOCH))))
                .isEmpty();
    }

    @Test
    void aTargetStillBehindASplitOfTheMapWaits() {
        var lagging = Optional.of(new ShardBounds(TARGET, KeyRange.ALL, new ShardEpoch(1, 1), 0));

        assertThat(MergePlan.forTarget(MERGE, lagging, Optional.of(FROZEN))).isEmpty();
    }
}
