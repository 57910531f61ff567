package dev.atoll.server.runtime;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.shardmap.ShardMapCommand;
import dev.atoll.server.shard.ShardState;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The meta group's shard state: changes through the log, refusals, intents and snapshots. */
class MetaShardStateTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final NodeId N2 = NodeId.of("n2");
    private static final NodeId N3 = NodeId.of("n3");
    private static final ShardId S1 = ShardId.of(1);

    private final MetaStateMachine sm = new MetaStateMachine();
    private long index;

    private Object apply(ShardMapCommand command) {
        return sm.apply(new Entry(++index, 1, Entry.Kind.COMMAND,
                MetaStateMachine.command(MetaCommand.newBuilder().setShardMap(command).build())));
    }

    private void createUsers() {
        Object created = apply(ShardState.command(new ShardChange.CreateKeyspace(KeyspaceSpec.range("users", 2)
                .withInitialShardCount(4), Collections.nCopies(4, List.of(N1, N2)))));
        assertThat(created).isInstanceOf(ChangeResult.Applied.class);
    }

    private ShardDescriptor shard(ShardId id) {
        return sm.shards().map().shard(id).orElseThrow();
    }

    @Test
    void aCreatedKeyspaceIsRoutableAndGetsTheIdOfItsFirstShard() {
        createUsers();

        // four shards cut at the first bytes 0x40, 0x80, 0xc0: "zebra" (0x7a) is in the second
        assertThat(sm.shards().map().lookup("users", Key.utf8("zebra")).orElseThrow().id()).isEqualTo(ShardId.of(2));
        assertThat(sm.shards().keyspaceId("users")).contains(1L);
    }

    @Test
    void aStaleEpochIsTheAnswerAndChangesNothing() {
        createUsers();
        apply(ShardState.command(new ShardChange.AddLearner(S1, ShardEpoch.INITIAL, N3)));
        ShardState before = sm.shards();

        Object stale = apply(ShardState.command(new ShardChange.RemoveReplica(S1, ShardEpoch.INITIAL, N2)));

        assertThat(stale).isInstanceOf(ChangeResult.StaleEpoch.class);
        assertThat(sm.shards()).isSameAs(before);
    }

    @Test
    void aMoveAddsTheLearnerAndEndsOnceTheSourceIsRemoved() {
        createUsers();
        apply(ShardState.startMove(shard(S1), N1, N3));
        assertThat(shard(S1).learners()).containsExactly(N3);
        assertThat(sm.shards().move(S1)).contains(new ShardState.Move(N1, N3));

        apply(ShardState.command(new ShardChange.PromoteLearner(S1, shard(S1).epoch(), N3)));
        assertThat(sm.shards().move(S1)).isPresent();
        apply(ShardState.command(new ShardChange.RemoveReplica(S1, shard(S1).epoch(), N1)));

        assertThat(shard(S1).voters()).containsExactly(N2, N3);
        assertThat(sm.shards().move(S1)).isEmpty();
    }

    @Test
    void aSecondMoveOfAMovingShardIsRefused() {
        createUsers();
        apply(ShardState.startMove(shard(S1), N1, N3));
        ShardState before = sm.shards();

        assertThat(apply(ShardState.startMove(shard(S1), N2, N3))).isInstanceOf(ShardState.MoveRefused.class);
        assertThat(apply(ShardState.startMove(shard(ShardId.of(2)), N3, N1))).isInstanceOf(ShardState.MoveRefused.class);
        assertThat(sm.shards()).isSameAs(before);
    }

    @Test
    void aTransferIsPendingUntilItsTargetIsObservedLeading() {
        createUsers();
        apply(ShardState.command(new ShardChange.TransferLeader(S1, ShardEpoch.INITIAL, N2)));
        assertThat(sm.shards().transfer(S1)).contains(N2);

        apply(ShardState.batch(List.of(new ShardChange.LeaderObserved(S1, N1))));
        assertThat(sm.shards().transfer(S1)).contains(N2);
        Object answers = apply(ShardState.batch(List.of(new ShardChange.LeaderObserved(S1, N2),
                new ShardChange.LeaderObserved(S1, N3))));

        assertThat(sm.shards().transfer(S1)).isEmpty();
        assertThat(shard(S1).leaderHint()).isEqualTo(N2);
        assertThat((List<?>) answers).hasSize(2).element(1).isInstanceOf(ChangeResult.Rejected.class);
    }

    @Test
    void droppingAKeyspaceRemovesItsShardsIdAndIntents() {
        createUsers();
        apply(ShardState.startMove(shard(S1), N1, N3));

        assertThat(apply(ShardState.dropKeyspace("users"))).isInstanceOf(ChangeResult.Applied.class);

        assertThat(sm.shards().map().shards()).isEmpty();
        assertThat(sm.shards().keyspaceId("users")).isEmpty();
        assertThat(sm.shards().moves()).isEmpty();
        assertThat(apply(ShardState.dropKeyspace("users"))).isEqualTo(new ChangeResult.UnknownKeyspace("users"));
    }

    @Test
    void aMalformedCommandIsRefusedAlikeAndChangesNothing() {
        createUsers();
        ShardState before = sm.shards();

        assertThat(apply(ShardMapCommand.getDefaultInstance())).isInstanceOf(ShardState.Malformed.class);
        assertThat(apply(ShardMapCommand.newBuilder().setStartMove(dev.atoll.proto.shardmap.StartMove.newBuilder()
                .setShard(1)).build())).isInstanceOf(ShardState.Malformed.class);
        assertThat(sm.shards()).isSameAs(before);
    }

    @Test
    void aSnapshotCarriesTheShardStateAndAFreshReplicaRestoresIt() {
        createUsers();
        apply(ShardState.startMove(shard(S1), N1, N3));
        apply(ShardState.command(new ShardChange.TransferLeader(ShardId.of(2), ShardEpoch.INITIAL, N2)));
        apply(ShardState.command(new ShardChange.CreateKeyspace(KeyspaceSpec.hash("carts", 1, 3),
                List.of(List.of(N1), List.of(N2), List.of(N3)))));

        var fresh = new MetaStateMachine();
        fresh.install(new Snapshot(index, 1, Membership.ofVoters(Set.of(N1)), sm.snapshotData()));

        assertThat(fresh.shards().toProto()).isEqualTo(sm.shards().toProto());
        assertThat(fresh.shards().map().lookup("carts", Key.utf8("k")))
                .isEqualTo(sm.shards().map().lookup("carts", Key.utf8("k")));
        assertThat(fresh.contents()).isEqualTo(sm.contents());
    }
}
