package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.shardmap.ShardMapState;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SplitPoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Merges in the meta group's shard state: the map drops the source at once and the intent keeps
 * it (snapshotted) until FinishMerge; neither shard takes another operation meanwhile.
 */
class ShardStateMergeTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final NodeId N2 = NodeId.of("n2");
    private static final NodeId N3 = NodeId.of("n3");

    /** users: two range shards on n1, n2. */
    private static ShardState twoShards() {
        var created = ShardState.EMPTY.change(new ShardChange.CreateKeyspace(KeyspaceSpec.range("users", 2).withInitialShardCount(2),
                List.of(List.of(N1, N2), List.of(N1, N2))));
        assertThat(created.answer()).isInstanceOf(ChangeResult.Applied.class);
        return created.state();
    }

    private static ShardChange.Merge mergeOf(ShardState s) {
        List<ShardDescriptor> shards = s.map().shards("users");
        return new ShardChange.Merge(shards.get(0).id(), shards.get(0).epoch(), shards.get(1).id(),
                shards.get(1).epoch());
    }

    @Test
    void aMergeDropsTheSourceFromTheMapAndRecordsItsIntentUntilFinished() {
        ShardState state = twoShards();
        ShardDescriptor left = state.map().shards("users").get(0);
        ShardDescriptor right = state.map().shards("users").get(1);

        var merged = state.change(mergeOf(state));

        assertThat(merged.answer()).isInstanceOf(ChangeResult.Applied.class);
        ShardState s = merged.state();
        assertThat(s.map().shards("users")).hasSize(1);
        assertThat(s.map().shard(left.id()).orElseThrow().keyRange()).isEqualTo(KeyRange.ALL);
        ShardState.Merge intent = s.mergeOf(right.id()).orElseThrow();
        assertThat(intent.source()).isEqualTo(right);
        assertThat(intent.target()).isEqualTo(left.id());
        assertThat(intent.targetEpoch()).isEqualTo(left.epoch());
        assertThat(intent.mergedEpoch()).isEqualTo(s.map().shard(left.id()).orElseThrow().epoch());
        assertThat(s.mergeInto(left.id())).contains(intent);

        // the intent survives the meta group's snapshot
        ShardState restored = ShardState.fromProto(ShardMapState.newBuilder(s.toProto()).build());
        assertThat(restored.merges()).isEqualTo(s.merges());

        var finished = s.apply(ShardState.finishMerge(right.id()));
        assertThat(finished.answer()).isEqualTo(new ShardState.MergeFinished(true));
        assertThat(finished.state().merges()).isEmpty();
        // a repeat (another leader's) changes nothing
        var again = finished.state().apply(ShardState.finishMerge(right.id()));
        assertThat(again.answer()).isEqualTo(new ShardState.MergeFinished(false));
        assertThat(again.state()).isSameAs(finished.state());
    }

    @Test
    void twoHashShardsMergeIntoTheUnionOfTheirSlotsAndDirectoryShardsAreRefused() {
        var created = ShardState.EMPTY.change(new ShardChange.CreateKeyspace(KeyspaceSpec.hash("carts", 2, 3),
                List.of(List.of(N1, N2), List.of(N1, N2), List.of(N1, N2)))).state();
        List<ShardDescriptor> carts = created.map().shards("carts");
        // the first and the last: their slot sets do not touch, which a hash merge does not ask
        ShardDescriptor left = carts.get(0);
        ShardDescriptor right = carts.get(2);

        var merged = created.change(new ShardChange.Merge(left.id(), left.epoch(), right.id(), right.epoch()));

        assertThat(merged.answer()).isInstanceOf(ChangeResult.Applied.class);
        assertThat(merged.state().map().shard(left.id()).orElseThrow().span())
                .isEqualTo(left.hashSlots().plus(right.hashSlots()));
        assertThat(merged.state().mergeOf(right.id())).isPresent();

        var directory = ShardState.EMPTY.change(new ShardChange.CreateKeyspace(new KeyspaceSpec("dir",
                new Sharding.Directory(), 2, 2, KeyspaceSpec.range("dir", 2).placement()),
                List.of(List.of(N1, N2), List.of(N1, N2)))).state();
        List<ShardDescriptor> dir = directory.map().shards("dir");
        var refused = directory.change(new ShardChange.Merge(dir.get(0).id(), dir.get(0).epoch(), dir.get(1).id(),
                dir.get(1).epoch()));
        assertThat(refused.answer()).isInstanceOf(ShardState.MergeRefused.class);
        assertThat(refused.state()).isSameAs(directory);
    }

    @Test
    void theTargetOfAMergeInProgressTakesNoSplitMoveOrMergeAndNothingChanges() {
        ShardState merging = twoShards();
        merging = merging.change(mergeOf(merging)).state();
        ShardDescriptor target = merging.map().shards("users").getFirst();

        var split = merging.change(new ShardChange.Split(target.id(), target.epoch(),
                new SplitPoint.AtKey(Key.utf8("m"))));
        var move = merging.apply(ShardState.startMove(target, N1, N3));

        assertThat(split.answer()).isInstanceOf(ShardState.MergeRefused.class);
        assertThat(split.state()).isSameAs(merging);
        assertThat(move.answer()).isInstanceOf(ShardState.MergeRefused.class);
        assertThat(move.state()).isSameAs(merging);
        // a leader transfer is no change of span or replicas: it goes on
        assertThat(merging.change(new ShardChange.TransferLeader(target.id(), target.epoch(), N2)).answer())
                .isInstanceOf(ChangeResult.Applied.class);
    }

    @Test
    void aShardWithAReplicaMoveInProgressIsNotMerged() {
        ShardState state = twoShards();
        ShardDescriptor right = state.map().shards("users").get(1);
        ShardState moving = state.apply(ShardState.startMove(right, N1, N3)).state();

        var merge = moving.change(mergeOf(moving));

        assertThat(merge.answer()).isInstanceOfSatisfying(ShardState.MergeRefused.class,
                r -> assertThat(r.reason()).contains("move in progress"));
        assertThat(merge.state()).isSameAs(moving);
    }

    @Test
    void droppingTheKeyspaceForgetsItsMerges() {
        ShardState merging = twoShards();
        merging = merging.change(mergeOf(merging)).state();

        var dropped = merging.apply(ShardState.dropKeyspace("users"));

        assertThat(dropped.state().merges()).isEmpty();
    }
}
