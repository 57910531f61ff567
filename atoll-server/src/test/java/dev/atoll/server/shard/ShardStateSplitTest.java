package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.SplitPoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Splits in the meta group's shard state: a shard with a replica move in progress is not split. */
class ShardStateSplitTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final NodeId N2 = NodeId.of("n2");
    private static final NodeId N3 = NodeId.of("n3");

    private static ShardState withUsers() {
        var created = ShardState.EMPTY.change(new ShardChange.CreateKeyspace(KeyspaceSpec.range("users", 2),
                List.of(List.of(N1, N2))));
        assertThat(created.answer()).isInstanceOf(ChangeResult.Applied.class);
        return created.state();
    }

    @Test
    void aRangeShardSplitsIntoTwoAtTheNextRangeVersion() {
        ShardState state = withUsers();
        ShardDescriptor s = state.map().shards("users").getFirst();

        var split = state.change(new ShardChange.Split(s.id(), s.epoch(), new SplitPoint.AtKey(Key.utf8("m"))));

        assertThat(split.answer()).isInstanceOf(ChangeResult.Applied.class);
        assertThat(split.state().map().shards("users")).hasSize(2)
                .allMatch(d -> d.epoch().equals(s.epoch().nextRange()));
    }

    @Test
    void aShardWithAReplicaMoveInProgressIsNotSplitAndNothingChanges() {
        ShardState state = withUsers();
        ShardDescriptor s = state.map().shards("users").getFirst();
        ShardState moving = state.apply(ShardState.startMove(s, N1, N3)).state();
        assertThat(moving.move(s.id())).isPresent();
        ShardDescriptor now = moving.map().shard(s.id()).orElseThrow();

        var split = moving.change(new ShardChange.Split(now.id(), now.epoch(), new SplitPoint.AtKey(Key.utf8("m"))));

        assertThat(split.answer()).isInstanceOfSatisfying(ChangeResult.Rejected.class,
                r -> assertThat(r.reason()).contains("move in progress"));
        assertThat(split.state()).isSameAs(moving);
    }
}
