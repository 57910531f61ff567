package dev.atoll.server.shard;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.Handoff;
import dev.atoll.shard.replica.Intake;
import dev.atoll.shard.replica.MovedKeys;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCodec;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardReplica;
import dev.atoll.shard.replica.ShardResult;
import dev.atoll.core.NodeId;
import dev.atoll.server.runtime.SnapshotCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pure shard replica driven on one node's shared store: apply, routing, replay, snapshots, splits, deletion. */
class ShardStateMachineTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final long USERS = 1;
    private static final ShardEpoch E = ShardEpoch.INITIAL;

    @TempDir
    Path dir;
    private ShardStore store;
    private final List<ShardResult.Split> splits = new ArrayList<>();

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

    private static ShardBounds range(long id, String start, String end) {
        return new ShardBounds(ShardId.of(id), new KeyRange(start.isEmpty() ? Key.MIN : Key.utf8(start),
                end.isEmpty() ? Key.END : Key.utf8(end)), E, 0);
    }

    /** A founding replica of {@code bounds}, or the one its store holds. */
    private ShardStateMachine replica(ShardStore on, ShardBounds bounds) {
        return new ShardStateMachine(on, bounds.shard(), USERS, ShardReplica.initial(bounds), splits::add);
    }

    private ShardStateMachine replica(ShardBounds bounds) {
        return replica(store, bounds);
    }

    /** Entry {@code index} (the log starts after the bootstrap snapshot at 1) putting key=value into shard 1. */
    private static Entry put(long index, String key, String value) {
        return put(1, index, key, value);
    }

    private static Entry put(long shard, long index, String key, String value) {
        return new Entry(index, 1, Entry.Kind.COMMAND, ShardStateMachine.put(ShardId.of(shard), E, b(key), b(value)));
    }

    private static List<String> keys(List<ShardStore.KeyValue> kvs) {
        return kvs.stream().map(kv -> s(kv.key())).toList();
    }

    @Test
    void replicasOfOneNodeKeepTheirKeysApart() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine left = replica(range(1, "", "m"));
        ShardStateMachine right = replica(range(2, "m", ""));
        left.applyAll(List.of(put(1, 2, "apple", "1"), put(1, 3, "kiwi", "2")));
        right.applyAll(List.of(put(2, 2, "mango", "3"), put(2, 3, "zebra", "4")));

        assertThat(keys(left.scan(b(""), null, 100))).containsExactly("apple", "kiwi");
        assertThat(keys(right.scan(b("m"), null, 100))).containsExactly("mango", "zebra");
        assertThat(keys(right.scan(b("m"), b("n"), 100))).containsExactly("mango");
        assertThat(keys(left.scan(b(""), null, 1))).containsExactly("apple");
    }

    @Test
    void aKeyOutsideTheShardIsRefusedAsMovedAndOnlyMovesTheAppliedIndex() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine left = replica(range(1, "", "m"));

        List<Object> results = left.applyAll(List.of(put(2, "zebra", "x"), put(3, "ant", "y")));

        assertThat(results.get(0)).isInstanceOf(ShardResult.ShardMoved.class);
        assertThat(results.get(1)).isEqualTo(new ShardStateMachine.Written(3));
        assertThat(left.appliedIndex()).isEqualTo(3);
        assertThatThrownBy(() -> left.get(b("zebra"))).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThat(left.scan(b("a"), null, 10)).hasSize(1);
    }

    @Test
    void aCommandRoutedWithAnotherRangeVersionIsRefusedAsStale() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine sm = replica(range(1, "", ""));
        var stale = new Entry(2, 1, Entry.Kind.COMMAND, ShardStateMachine.put(ShardId.of(1), E.nextRange(), b("k"),
                b("v")));

        assertThat(sm.apply(stale)).isInstanceOf(ShardResult.StaleEpoch.class);
        assertThat(sm.get(b("k"))).isEmpty();
    }

    @Test
    void undecodableBytesAreRefusedWithAStableCodeAndChangeNothing() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine sm = replica(range(1, "", ""));

        Object result = sm.apply(new Entry(2, 1, Entry.Kind.COMMAND, new byte[]{(byte) 0xFF, 1, 2}));

        assertThat(result).isInstanceOfSatisfying(ShardResult.Rejected.class,
                r -> assertThat(r.code()).isEqualTo(ShardResult.Code.MALFORMED_COMMAND));
        assertThat(sm.appliedIndex()).isEqualTo(2);
        assertThat(sm.scan(b(""), null, 10)).isEmpty();
    }

    @Test
    void aDeleteSaysWhetherTheKeyWasThereAndReplayedEntriesChangeNothing() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine sm = replica(range(1, "", ""));
        Entry delete = new Entry(3, 1, Entry.Kind.COMMAND, ShardStateMachine.delete(ShardId.of(1), E, b("k")));
        Entry deleteAgain = new Entry(4, 1, Entry.Kind.COMMAND, ShardStateMachine.delete(ShardId.of(1), E, b("k")));

        List<Object> results = sm.applyAll(List.of(put(2, "k", "v"), delete, deleteAgain, put(5, "k", "w")));
        assertThat(results.get(1)).isEqualTo(new ShardStateMachine.Deleted(true, 3));
        assertThat(results.get(2)).isEqualTo(new ShardStateMachine.Deleted(false, 4));

        assertThat(sm.applyAll(List.of(delete))).containsOnlyNulls();
        assertThat(sm.get(b("k")).map(ShardStateMachineTest::s)).contains("w");
    }

    @Test
    void aRestartedReplicaResumesFromWhatItsStoreHolds() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine first = replica(range(1, "", ""));
        first.applyAll(List.of(put(2, "a", "1"), put(3, "b", "2")));
        first.apply(new Entry(4, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.Split(ShardId.of(1), E, new SplitPoint.AtKey(Key.utf8("b")), ShardId.of(2)))));
        store.close();
        store = ShardStore.open(dir.resolve("store"));

        ShardStateMachine again = replica(range(1, "", ""));

        assertThat(again.appliedIndex()).isEqualTo(4);
        assertThat(again.bounds()).hasValueSatisfying(bb -> assertThat(bb.span())
                .isEqualTo(new KeyRange(Key.MIN, Key.utf8("b"))));
        assertThat(again.get(b("a")).map(ShardStateMachineTest::s)).contains("1");
        // the log replays past the store's state: what was applied is not applied again
        assertThat(again.apply(put(3, "a", "stale"))).isNull();
        assertThat(again.get(b("a")).map(ShardStateMachineTest::s)).contains("1");
    }

    @Test
    void aMergeSurvivesARestartAfterEachStepOnTheSameNode() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine target = replica(range(1, "", "m"));
        ShardStateMachine source = replica(range(2, "m", ""));
        target.apply(put(1, 2, "apple", "1"));
        source.apply(put(2, 2, "mango", "2"));
        assertThat(source.frozenSnapshot()).isEmpty();

        // the source freezes, and stays frozen across a restart: its rows are final
        source.apply(new Entry(3, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.PrepareMerge(ShardId.of(2), E, ShardId.of(1), E))));
        assertThat(source.apply(put(2, 4, "mango", "late"))).isInstanceOf(ShardResult.ShardMoved.class);
        // nor does it serve reads: once the target takes the merge, writes go there
        ShardStateMachine frozenSource = source;
        assertThatThrownBy(() -> frozenSource.get(b("mango"))).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThatThrownBy(() -> frozenSource.scanPart(b("m"), null, 10)).isInstanceOf(ShardStateMachine.NotServed.class);
        store.close();
        store = ShardStore.open(dir.resolve("store"));
        source = replica(range(2, "m", ""));
        target = replica(range(1, "", "m"));
        assertThat(source.pendingMerge()).hasValueSatisfying(pm -> assertThat(pm.target()).isEqualTo(ShardId.of(1)));
        var frozen = source.frozenSnapshot().orElseThrow();
        assertThat(frozen.rows()).hasSize(1);

        // the target takes the frozen rows from its log entry, and keeps them across a restart
        Object merged = target.apply(new Entry(3, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.CommitMerge(ShardId.of(1), E, E, frozen))));
        assertThat(merged).isInstanceOf(ShardResult.Merged.class);
        store.close();
        store = ShardStore.open(dir.resolve("store"));
        target = replica(range(1, "", "m"));
        source = replica(range(2, "m", ""));
        assertThat(target.bounds()).hasValueSatisfying(bb -> {
            assertThat(bb.span()).isEqualTo(KeyRange.ALL);
            assertThat(bb.epoch()).isEqualTo(ShardEpoch.merged(E, E));
        });
        assertThat(target.get(b("mango")).map(ShardStateMachineTest::s)).contains("2");
        assertThat(target.get(b("apple")).map(ShardStateMachineTest::s)).contains("1");
        // a repeated commit (another leader's) meets the merged epoch and changes nothing
        assertThat(target.apply(new Entry(4, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.CommitMerge(ShardId.of(1), E, E, frozen))))).isInstanceOf(ShardResult.StaleEpoch.class);
        // the source's data, under its own prefix, goes once the node drops it; the target's stays
        source.data().deleteAll();
        assertThat(store.shardsWithData()).containsOnlyKeys(ShardId.of(1));
        assertThat(target.get(b("mango")).map(ShardStateMachineTest::s)).contains("2");
    }

    @Test
    void aDataMoveSurvivesARestartAfterEachStepAndReleasesOnlyTheMovedRows() {
        store = ShardStore.open(dir.resolve("store"));
        ShardBounds all1 = new ShardBounds(ShardId.of(1), KeyRange.ALL, E, 0);
        ShardBounds all2 = new ShardBounds(ShardId.of(2), KeyRange.ALL, E, 0);
        ShardStateMachine source = replica(all1);
        ShardStateMachine target = replica(all2);
        source.applyAll(List.of(put(1, 2, "acme/a", "1"), put(1, 3, "acme/b", "2"), put(1, 4, "zed", "3")));
        var keys = List.<MovedKeys>of(new MovedKeys.Range(KeyRange.ofPrefix(Key.utf8("acme/"))));
        ShardEpoch next = E.nextRange();
        source.apply(new Entry(5, 1, Entry.Kind.COMMAND, ShardCodec.encode(new ShardCommand.HandOff(ShardId.of(1), E,
                next, List.of(new Handoff(9, ShardId.of(2), keys))))));
        target.apply(new Entry(2, 1, Entry.Kind.COMMAND, ShardCodec.encode(new ShardCommand.Receive(ShardId.of(2), E,
                next, List.of(new Intake(9, ShardId.of(1), keys, Key.MIN))))));

        // readers refuse the keys in flight on both sides, and ranges over them
        ShardStateMachine giving = source;
        ShardStateMachine taking = target;
        assertThatThrownBy(() -> giving.get(b("acme/a"))).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThatThrownBy(() -> taking.get(b("acme/a"))).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThatThrownBy(() -> giving.scan(b(""), null, 10)).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThat(source.get(b("zed")).map(ShardStateMachineTest::s)).contains("3");

        // after a restart each side still knows what is in flight
        store.close();
        store = ShardStore.open(dir.resolve("store"));
        source = replica(all1);
        target = replica(all2);
        assertThat(source.handoffs()).hasSize(1);
        assertThat(target.intakes()).hasSize(1);
        var chunk = source.handedOffRows(9, ShardId.of(2), Key.MIN, 1 << 20).orElseThrow();
        assertThat(chunk.rows()).hasSize(2);
        target.apply(new Entry(3, 1, Entry.Kind.COMMAND, ShardCodec.encode(new ShardCommand.TakeOver(ShardId.of(2),
                next, 9, ShardId.of(1), Key.MIN, chunk.rows(), chunk.resumeAt()))));
        assertThat(target.get(b("acme/b")).map(ShardStateMachineTest::s)).contains("2");

        Object released = source.apply(new Entry(6, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.Release(ShardId.of(1), next, 9))));
        assertThat(released).isInstanceOf(ShardResult.Relocated.class);
        store.close();
        store = ShardStore.open(dir.resolve("store"));
        source = replica(all1);
        assertThat(source.handoffs()).isEmpty();
        assertThat(keys(source.scan(b(""), null, 10))).containsExactly("zed");
        assertThat(source.handedOffRows(9, ShardId.of(2), Key.MIN, 1 << 20)).isEmpty();
    }

    @Test
    void aSplitMovesTheUpperRowsToTheNewShardInOneWrite() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine parent = replica(range(1, "", ""));
        parent.applyAll(List.of(put(2, "apple", "1"), put(3, "kiwi", "2"), put(4, "mango", "3"), put(5, "zebra", "4")));

        Object result = parent.apply(new Entry(6, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.Split(ShardId.of(1), E, new SplitPoint.AtKey(Key.utf8("m")), ShardId.of(2)))));

        assertThat(result).isInstanceOf(ShardResult.Split.class);
        assertThat(splits).hasSize(1);
        assertThat(keys(parent.scan(b(""), null, 10))).containsExactly("apple", "kiwi");
        // the new shard's replica finds its first state in the store, whatever bootstrap it is given
        ShardStateMachine child = new ShardStateMachine(store, ShardId.of(2), USERS, null, splits::add);
        assertThat(child.appliedIndex()).isEqualTo(ShardReplica.INITIAL_INDEX);
        assertThat(child.bounds()).hasValueSatisfying(bb -> {
            assertThat(bb.span()).isEqualTo(new KeyRange(Key.utf8("m"), Key.END));
            assertThat(bb.epoch()).isEqualTo(E.nextRange());
        });
        assertThat(keys(child.scan(b("m"), null, 10))).containsExactly("mango", "zebra");
        // a write routed with the old epoch reaches neither shard
        assertThat(parent.apply(put(7, "apple", "x"))).isInstanceOf(ShardResult.StaleEpoch.class);
        assertThat(child.apply(new Entry(2, 1, Entry.Kind.COMMAND,
                ShardStateMachine.put(ShardId.of(2), E, b("mango"), b("x"))))).isInstanceOf(ShardResult.StaleEpoch.class);
        assertThat(child.get(b("mango")).map(ShardStateMachineTest::s)).contains("3");
    }

    /**
     * A node whose map does not show a split yet routes a Range's part for [a, z) to the parent,
     * whose replica applied the split already: answering its own [a, m) would lose mango and zebra
     * from the stitched range, so the part is refused and the caller re-routes.
     */
    @Test
    void aRangePartReachingPastASplitTheReplicaAppliedIsRefusedNotCut() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine parent = replica(range(1, "", ""));
        parent.applyAll(List.of(put(2, "apple", "1"), put(3, "kiwi", "2"), put(4, "mango", "3"), put(5, "zebra", "4")));
        parent.apply(new Entry(6, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.Split(ShardId.of(1), E, new SplitPoint.AtKey(Key.utf8("m")), ShardId.of(2)))));

        assertThatThrownBy(() -> parent.scanPart(b("a"), b("z"), 10)).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThatThrownBy(() -> parent.scanPart(b("a"), null, 10)).isInstanceOf(ShardStateMachine.NotServed.class);
        assertThat(keys(parent.scanPart(b("a"), b("m"), 10))).containsExactly("apple", "kiwi");
        assertThat(keys(parent.scan(b("a"), b("z"), 10))).as("a plain scan cuts to the replica's span")
                .containsExactly("apple", "kiwi");
    }

    @Test
    void aSlotSplitMovesTheRowsOfTheUpperSlotsToTheNewShardsPrefixAndSurvivesAReopen() {
        store = ShardStore.open(dir.resolve("store"));
        var all = new ShardBounds(ShardId.of(1), HashSlots.of(new SlotRange(0, 16)), E, 16);
        ShardStateMachine parent = new ShardStateMachine(store, all.shard(), USERS, ShardReplica.initial(all),
                splits::add);
        var rows = new ArrayList<Entry>();
        var low = new ArrayList<String>();
        var high = new ArrayList<String>();
        for (int i = 0; i < 40; i++) {
            String k = "cart-" + i;
            rows.add(put(2 + i, k, "v" + i));
            (KeyHash.slot(Key.utf8(k), 16) < 8 ? low : high).add(k);
        }
        parent.applyAll(rows);
        assertThat(low).isNotEmpty();
        assertThat(high).isNotEmpty();

        Object result = parent.apply(new Entry(42, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.Split(ShardId.of(1), E, new SplitPoint.AtSlot(8), ShardId.of(2)))));

        assertThat(result).isInstanceOf(ShardResult.Split.class);
        // the parent's prefix holds the lower slots' rows only: the others left it with the cut
        assertThat(keys(store.replica(ShardId.of(1), USERS).scanRows(b(""), null, 100)))
                .containsExactlyInAnyOrderElementsOf(low);
        assertThat(keys(store.replica(ShardId.of(2), USERS).scanRows(b(""), null, 100)))
                .containsExactlyInAnyOrderElementsOf(high);
        store.close();

        // reopened (as after a restart): both replicas resume from what the one batch wrote
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine lower = new ShardStateMachine(store, ShardId.of(1), USERS, null, splits::add);
        ShardStateMachine upper = new ShardStateMachine(store, ShardId.of(2), USERS, null, splits::add);
        assertThat(lower.appliedIndex()).isEqualTo(42);
        assertThat(lower.bounds().orElseThrow().span()).isEqualTo(HashSlots.of(new SlotRange(0, 8)));
        assertThat(upper.bounds().orElseThrow().span()).isEqualTo(HashSlots.of(new SlotRange(8, 16)));
        assertThat(upper.bounds().orElseThrow().epoch()).isEqualTo(E.nextRange());
        assertThat(keys(lower.scan(b(""), null, 100))).containsExactlyInAnyOrderElementsOf(low);
        assertThat(keys(upper.scan(b(""), null, 100))).containsExactlyInAnyOrderElementsOf(high);
        assertThat(upper.get(b(high.getFirst())).map(ShardStateMachineTest::s))
                .contains("v" + high.getFirst().substring("cart-".length()));
        assertThatThrownBy(() -> lower.get(b(high.getFirst()))).isInstanceOf(ShardStateMachine.NotServed.class);
    }

    @Test
    void aLearnerInstallsTheShardFromASnapshotAndKeepsItsNeighbour() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine leader = replica(range(1, "", "m"));
        leader.applyAll(List.of(put(2, "a", "1"), put(3, "b", "2")));
        byte[] snapshot = leader.snapshotData();
        try (ShardStore other = ShardStore.open(dir.resolve("other"))) {
            ShardStateMachine neighbour = replica(other, range(2, "m", ""));
            neighbour.applyAll(List.of(put(2, 2, "x", "9")));
            var learner = new ShardStateMachine(other, ShardId.of(1), USERS, null, splits::add);
            assertThat(learner.appliedIndex()).isZero();
            assertThatThrownBy(() -> learner.get(b("a"))).isInstanceOf(ShardStateMachine.NotServed.class);

            learner.install(new Snapshot(3, 1, Membership.ofVoters(Set.of(N1)), snapshot));

            assertThat(learner.appliedIndex()).isEqualTo(3);
            assertThat(keys(learner.scan(b(""), null, 10))).containsExactly("a", "b");
            assertThat(keys(neighbour.scan(b("m"), null, 10))).containsExactly("x");
        }
    }

    @Test
    void aCaptureHoldsTheRowsAtItsIndexWhileLaterEntriesApply() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine leader = replica(range(1, "", "m"));
        leader.applyAll(List.of(put(2, "a", "1"), put(3, "b", "2")));
        byte[] snapshot;
        try (SnapshotCapture capture = leader.captureSnapshot()) {
            assertThat(capture.index()).isEqualTo(3);
            // as on the runtime: later entries apply before the capture is materialized
            leader.applyAll(List.of(put(4, "a", "changed"), put(5, "c", "3")));
            leader.apply(new Entry(6, 1, Entry.Kind.COMMAND, ShardStateMachine.delete(ShardId.of(1), E, b("b"))));
            snapshot = capture.materialize();
        }
        try (ShardStore other = ShardStore.open(dir.resolve("other"))) {
            var learner = new ShardStateMachine(other, ShardId.of(1), USERS, null, splits::add);
            learner.install(new Snapshot(3, 1, Membership.ofVoters(Set.of(N1)), snapshot));
            assertThat(learner.appliedIndex()).isEqualTo(3);
            assertThat(keys(learner.scan(b(""), null, 10))).containsExactly("a", "b");
            assertThat(learner.get(b("a")).map(ShardStateMachineTest::s)).contains("1");
        }
        assertThat(keys(leader.scan(b(""), null, 10))).containsExactly("a", "c");
    }

    @Test
    void aDeletedShardLeavesNoDataAndIsNoLongerListed() {
        store = ShardStore.open(dir.resolve("store"));
        var hash = new ShardBounds(ShardId.of(7), HashSlots.of(new SlotRange(0, 16)), E, 16);
        ShardStateMachine sm = new ShardStateMachine(store, hash.shard(), 5, ShardReplica.initial(hash), splits::add);
        sm.applyAll(List.of(put(7, 2, "k1", "v")));
        ShardStateMachine kept = replica(range(1, "", ""));
        kept.applyAll(List.of(put(2, "k1", "v")));
        assertThat(store.shardsWithData()).containsOnlyKeys(ShardId.of(1), ShardId.of(7));
        assertThat(sm.scan(b(""), null, 10)).hasSize(1);

        store.deleteShard(ShardId.of(7), store.shardsWithData().get(ShardId.of(7)));

        assertThat(store.shardsWithData()).containsOnlyKeys(ShardId.of(1));
        assertThat(store.replica(ShardId.of(7), 5).scanRows(b(""), null, 10)).isEmpty();
        assertThat(kept.get(b("k1"))).isPresent();
    }

    @Test
    void theMedianKeyHalvesTheRowsAndAShardOfOneRowHasNone() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine sm = replica(range(1, "", ""));
        sm.apply(put(2, "a", "1"));
        assertThat(sm.medianKey()).isEmpty();

        sm.applyAll(List.of(put(3, "b", "2"), put(4, "c", "3"), put(5, "d", "4"), put(6, "e", "5")));

        assertThat(sm.medianKey()).contains(Key.utf8("c"));
    }

    @Test
    void aNewShardThatInstalledANewerSnapshotKeepsItWhenItsParentAppliesTheSplitLate() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine parent = replica(range(1, "", ""));
        parent.applyAll(List.of(put(2, "apple", "old"), put(3, "zebra", "old")));
        // the new shard's leader sent this node a snapshot of the new group first
        var newer = new dev.atoll.shard.replica.ShardSnapshot(new ShardBounds(ShardId.of(2),
                new KeyRange(Key.utf8("m"), Key.END), E.nextRange(), 0), 9, null,
                List.of(new dev.atoll.shard.replica.KeyValue(Key.utf8("zebra"), b("new"))));
        var child = new ShardStateMachine(store, ShardId.of(2), USERS, null, splits::add);
        child.install(new Snapshot(9, 2, Membership.ofVoters(Set.of(N1)), ShardCodec.encode(newer)));

        parent.apply(new Entry(4, 1, Entry.Kind.COMMAND, ShardCodec.encode(
                new ShardCommand.Split(ShardId.of(1), E, new SplitPoint.AtKey(Key.utf8("m")), ShardId.of(2)))));

        assertThat(keys(parent.scan(b(""), null, 10))).containsExactly("apple");
        assertThat(child.get(b("zebra")).map(ShardStateMachineTest::s)).contains("new");
        assertThat(new ShardStateMachine(store, ShardId.of(2), USERS, null, splits::add).appliedIndex()).isEqualTo(9);
    }

    @Test
    void aRoundIsWrittenWholeAndAReadInItSeesTheEntriesBeforeIt() {
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine sm = replica(range(1, "", ""));
        var get = new Entry(4, 1, Entry.Kind.COMMAND, ShardCodec.encode(new ShardCommand.Get(ShardId.of(1), E,
                Key.utf8("b"))));

        List<Object> results = sm.applyAll(List.of(put(2, "a", "1"), put(3, "b", "2"), get, put(5, "c", "3"),
                new Entry(6, 1, Entry.Kind.NOOP, new byte[0])));

        assertThat(results.get(2)).isEqualTo(new ShardResult.Value(b("2")));
        store.close();
        store = ShardStore.open(dir.resolve("store"));
        ShardStateMachine again = replica(range(1, "", ""));
        assertThat(again.appliedIndex()).isEqualTo(6);
        assertThat(keys(again.scan(b(""), null, 10))).containsExactly("a", "b", "c");
    }
}
