package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Shard replicas on one node's shared store: apply, ownership, replay, snapshots, deletion. */
class ShardStateMachineTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final long USERS = 1;

    @TempDir
    Path dir;
    private ShardStore store;

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static ShardDescriptor rangeShard(long id, String start, String end) {
        return new ShardDescriptor(ShardId.of(id), "users", new KeyRange(start.isEmpty() ? Key.MIN : Key.utf8(start),
                end.isEmpty() ? Key.END : Key.utf8(end)), List.of(Replica.voter(N1)), null, ShardEpoch.INITIAL);
    }

    private ShardStateMachine replica(ShardDescriptor d) {
        KeyRange r = d.keyRange();
        return new ShardStateMachine(store.shard(d, USERS), r::contains);
    }

    private static Entry put(long index, String key, String value) {
        return new Entry(index, 1, Entry.Kind.COMMAND, ShardStateMachine.put(index, b(key), b(value)));
    }

    private static List<String> keys(List<ShardStore.KeyValue> kvs) {
        return kvs.stream().map(kv -> s(kv.key())).toList();
    }

    @Test
    void rangeShardsOfOneKeyspaceShareAPrefixButEachSeesOnlyItsRange() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine left = replica(rangeShard(1, "", "m"));
        ShardStateMachine right = replica(rangeShard(2, "m", ""));
        left.applyAll(List.of(put(1, "apple", "1"), put(2, "kiwi", "2")));
        right.applyAll(List.of(put(1, "mango", "3"), put(2, "zebra", "4")));

        assertThat(keys(left.scan(b(""), null, 100))).containsExactly("apple", "kiwi");
        assertThat(keys(right.scan(b(""), null, 100))).containsExactly("mango", "zebra");
        assertThat(keys(right.scan(b("a"), b("n"), 100))).containsExactly("mango");
        assertThat(keys(left.scan(b(""), null, 1))).containsExactly("apple");
    }

    @Test
    void aKeyOutsideTheShardIsRefusedAndOnlyMovesTheAppliedIndex() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine left = replica(rangeShard(1, "", "m"));

        List<Object> results = left.applyAll(List.of(put(1, "zebra", "x"), put(2, "ant", "y")));

        assertThat(results.get(0)).isInstanceOf(ShardStateMachine.NotOwned.class);
        assertThat(results.get(1)).isEqualTo(new ShardStateMachine.Written(2));
        assertThat(left.appliedIndex()).isEqualTo(2);
        assertThat(left.get(b("zebra"))).isEmpty();
    }

    @Test
    void aDeleteSeesAPutOfTheSameRoundAndReplayedEntriesChangeNothing() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine sm = replica(rangeShard(1, "", ""));
        Entry delete = new Entry(2, 1, Entry.Kind.COMMAND, ShardStateMachine.delete(2, b("k")));

        List<Object> results = sm.applyAll(List.of(put(1, "k", "v"), delete, put(3, "k", "w")));
        assertThat(results.get(1)).isEqualTo(new ShardStateMachine.Deleted(true, 2));

        assertThat(sm.applyAll(List.of(delete))).containsOnlyNulls();
        assertThat(sm.get(b("k")).map(ShardStateMachineTest::s)).contains("w");
    }

    @Test
    void aRestartedReplicaResumesFromItsAppliedIndex() {
        store = ShardStore.open(dir.resolve("store"));
        replica(rangeShard(1, "", "")).applyAll(List.of(put(1, "a", "1"), put(2, "b", "2")));
        store.close();
        store = ShardStore.open(dir.resolve("store"));

        ShardStateMachine again = replica(rangeShard(1, "", ""));

        assertThat(again.appliedIndex()).isEqualTo(2);
        assertThat(again.get(b("b")).map(ShardStateMachineTest::s)).contains("2");
    }

    @Test
    void aLearnerInstallsTheShardFromASnapshotAndKeepsItsNeighbour() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine leader = replica(rangeShard(1, "", "m"));
        leader.applyAll(List.of(put(1, "a", "1"), put(2, "b", "2")));
        byte[] snapshot = leader.snapshotData();
        try (ShardStore other = ShardStore.open(dir.resolve("other"))) {
            var neighbour = new ShardStateMachine(other.shard(rangeShard(2, "m", ""), USERS), k -> true);
            neighbour.applyAll(List.of(put(1, "x", "9")));
            var learner = new ShardStateMachine(other.shard(rangeShard(1, "", "m"), USERS), k -> true);
            learner.applyAll(List.of(put(1, "c-stale", "0")));

            learner.install(new Snapshot(2, 1, Membership.ofVoters(Set.of(N1)), snapshot));

            assertThat(learner.appliedIndex()).isEqualTo(2);
            assertThat(keys(learner.scan(b(""), null, 10))).containsExactly("a", "b");
            assertThat(keys(neighbour.scan(b(""), null, 10))).containsExactly("x");
        }
    }

    @Test
    void aDeletedShardLeavesNoDataAndIsNoLongerListed() {
        store = ShardStore.open(dir.resolve("store"));
        var hashShard = new ShardDescriptor(ShardId.of(7), "carts", HashSlots.of(new SlotRange(0, 16)),
                List.of(Replica.voter(N1)), null, ShardEpoch.INITIAL);
        ShardStateMachine sm = new ShardStateMachine(store.shard(hashShard, 5), k -> true);
        sm.applyAll(List.of(put(1, "k1", "v")));
        ShardStateMachine kept = replica(rangeShard(1, "", ""));
        kept.applyAll(List.of(put(1, "k1", "v")));
        assertThat(store.shardsWithData()).containsOnlyKeys(ShardId.of(1), ShardId.of(7));

        store.deleteShard(ShardId.of(7), store.shardsWithData().get(ShardId.of(7)));

        assertThat(store.shardsWithData()).containsOnlyKeys(ShardId.of(1));
        assertThat(new ShardStateMachine(store.shard(hashShard, 5), k -> true).scan(b(""), null, 10)).isEmpty();
        assertThat(kept.get(b("k1"))).isPresent();
    }
}
