package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.ShardCommand.CommitMerge;
import dev.atoll.shard.replica.ShardCommand.Delete;
import dev.atoll.shard.replica.ShardCommand.Get;
import dev.atoll.shard.replica.ShardCommand.PrepareMerge;
import dev.atoll.shard.replica.ShardCommand.Put;
import dev.atoll.shard.replica.ShardCommand.Scan;
import dev.atoll.shard.replica.ShardCommand.Split;
import dev.atoll.shard.replica.ShardResult.Code;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ShardReplicaTest {
    private static final ShardId S1 = ShardId.of(1);
    private static final ShardId S2 = ShardId.of(2);
    private static final ShardEpoch V1 = ShardEpoch.INITIAL;
    private static final ShardEpoch V2 = V1.nextRange();

    /** A replica and the index of the next entry it applies. */
    private static final class Group {
        final MemoryShardStore store = new MemoryShardStore();
        final ShardReplica replica;
        long next;

        Group(ShardSnapshot snapshot) {
            replica = ShardReplica.restore(snapshot, store, Set.of());
            next = snapshot.appliedIndex() + 1;
        }

        static Group ofRange(ShardId id, KeyRange range, ShardEpoch epoch) {
            return new Group(ShardReplica.initial(new ShardBounds(id, range, epoch, 0)));
        }

        ShardResult apply(ShardCommand c) {
            return replica.apply(next++, c);
        }
    }

    private static Key k(String s) {
        return Key.utf8(s);
    }

    private static byte[] v(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ShardResult.Value value(String s) {
        return new ShardResult.Value(s == null ? null : v(s));
    }

    @Test
    void aPutInsideTheSpanIsReadBackThroughTheLog() {
        var g = Group.ofRange(S1, KeyRange.ALL, V1);
        assertThat(g.apply(new Put(S1, V1, k("a"), v("1")))).isInstanceOf(ShardResult.Written.class);
        assertThat(g.apply(new Get(S1, V1, k("a")))).isEqualTo(value("1"));
        assertThat(g.apply(new Delete(S1, V1, k("a")))).isInstanceOf(ShardResult.Written.class);
        assertThat(g.apply(new Get(S1, V1, k("a")))).isEqualTo(value(null));
        assertThat(g.replica.appliedIndex()).isEqualTo(ShardReplica.INITIAL_INDEX + 4);
    }

    @Test
    void aKeyOutsideTheSpanIsRefusedWithTheReplicasBoundsAndChangesNothing() {
        var g = Group.ofRange(S1, new KeyRange(Key.MIN, k("m")), V1);
        ShardResult r = g.apply(new Put(S1, V1, k("x"), v("1")));
        assertThat(r).isEqualTo(new ShardResult.ShardMoved(g.replica.bounds(), null));
        assertThat(g.store.rowCount()).isZero();
    }

    @Test
    void aStaleRangeVersionIsRefusedAndChangesNothing() {
        var g = Group.ofRange(S1, KeyRange.ALL, V2);
        assertThat(g.apply(new Put(S1, V1, k("a"), v("1")))).isEqualTo(new ShardResult.StaleEpoch(g.replica.bounds()));
        assertThat(g.store.rowCount()).isZero();
        // the conf part is the meta group's business: only the range version must match
        assertThat(g.apply(new Put(S1, V2.nextConf(), k("a"), v("1")))).isInstanceOf(ShardResult.Written.class);
    }

    @Test
    void aCommandForAnotherShardIsRefused() {
        var g = Group.ofRange(S1, KeyRange.ALL, V1);
        assertThat(g.apply(new Put(S2, V1, k("a"), v("1")))).isInstanceOf(ShardResult.ShardMoved.class);
        assertThat(g.store.rowCount()).isZero();
    }

    @Test
    void splitHandsTheUpperRowsAtItsLogPositionToTheNewShard() {
        var g = Group.ofRange(S1, KeyRange.ALL, V1);
        g.apply(new Put(S1, V1, k("a"), v("1")));
        g.apply(new Put(S1, V1, k("m"), v("2")));
        g.apply(new Put(S1, V1, k("z"), v("3")));

        var split = (ShardResult.Split) g.apply(new Split(S1, V1, new SplitPoint.AtKey(k("m")), S2));

        assertThat(split.parent()).isEqualTo(new ShardBounds(S1, new KeyRange(Key.MIN, k("m")), V2, 0));
        assertThat(split.child().bounds()).isEqualTo(new ShardBounds(S2, new KeyRange(k("m"), Key.END), V2, 0));
        assertThat(split.child().appliedIndex()).isEqualTo(ShardReplica.INITIAL_INDEX);
        assertThat(split.child().rows()).extracting(KeyValue::key).containsExactly(k("m"), k("z"));
        assertThat(g.store.rows().keySet()).containsExactly(k("a"));
        // a write routed before the split, applied after it, is refused
        assertThat(g.apply(new Put(S1, V1, k("b"), v("4")))).isInstanceOf(ShardResult.StaleEpoch.class);
        assertThat(g.apply(new Put(S1, V2, k("q"), v("4")))).isInstanceOf(ShardResult.ShardMoved.class);

        var child = new Group(split.child());
        assertThat(child.apply(new Get(S2, V2, k("z")))).isEqualTo(value("3"));
    }

    @Test
    void aRetriedSplitMeetsTheNewEpochAndChangesNothing() {
        var g = Group.ofRange(S1, KeyRange.ALL, V1);
        g.apply(new Split(S1, V1, new SplitPoint.AtKey(k("m")), S2));
        ShardBounds after = g.replica.bounds();
        assertThat(g.apply(new Split(S1, V1, new SplitPoint.AtKey(k("m")), S2)))
                .isEqualTo(new ShardResult.StaleEpoch(after));
        assertThat(g.replica.bounds()).isEqualTo(after);
    }

    @Test
    void aSplitKeyOutsideOrAtTheStartIsRejected() {
        var g = Group.ofRange(S1, new KeyRange(k("c"), k("m")), V1);
        assertThat(g.apply(new Split(S1, V1, new SplitPoint.AtKey(k("c")), S2)))
                .isInstanceOf(ShardResult.Rejected.class).extracting("code").isEqualTo(Code.BAD_SPLIT);
        assertThat(g.apply(new Split(S1, V1, new SplitPoint.AtKey(k("x")), S2)))
                .extracting("code").isEqualTo(Code.BAD_SPLIT);
        assertThat(g.apply(new Split(S1, V1, new SplitPoint.AtSlot(3), S2))).extracting("code").isEqualTo(Code.BAD_SPLIT);
        assertThat(g.replica.bounds().epoch()).isEqualTo(V1);
    }

    @Test
    void aHashShardSplitsItsSlotsAndTheirKeys() {
        int slots = 16;
        var bounds = new ShardBounds(S1, HashSlots.of(new SlotRange(0, slots)), V1, slots);
        var g = new Group(ShardReplica.initial(bounds));
        for (int i = 0; i < 40; i++) {
            g.apply(new Put(S1, V1, k("key" + i), v("v" + i)));
        }
        var split = (ShardResult.Split) g.apply(new Split(S1, V1, new SplitPoint.AtSlot(8), S2));

        assertThat(split.child().rows()).isNotEmpty()
                .allSatisfy(kv -> assertThat(KeyHash.slot(kv.key(), slots)).isGreaterThanOrEqualTo(8));
        assertThat(g.store.rows().keySet()).isNotEmpty()
                .allSatisfy(key -> assertThat(KeyHash.slot(key, slots)).isLessThan(8));
        assertThat(g.store.rowCount() + split.child().rows().size()).isEqualTo(40);
    }

    @Test
    void aScanStopsAtTheLimitOrAtTheShardsEndAndSaysWhereToResume() {
        var g = Group.ofRange(S1, new KeyRange(Key.MIN, k("m")), V1);
        for (String key : List.of("a", "b", "c", "d")) {
            g.apply(new Put(S1, V1, k(key), v(key)));
        }
        var limited = (ShardResult.Rows) g.apply(new Scan(S1, V1, new KeyRange(k("b"), Key.END), 2));
        assertThat(limited.rows()).extracting(KeyValue::key).containsExactly(k("b"), k("c"));
        assertThat(limited.resumeAt()).isEqualTo(k("c").successor());

        var toEnd = (ShardResult.Rows) g.apply(new Scan(S1, V1, new KeyRange(k("c"), Key.END), 10));
        assertThat(toEnd.rows()).extracting(KeyValue::key).containsExactly(k("c"), k("d"));
        assertThat(toEnd.resumeAt()).isEqualTo(k("m"));

        var inside = (ShardResult.Rows) g.apply(new Scan(S1, V1, new KeyRange(k("a"), k("c")), 10));
        assertThat(inside.rows()).extracting(KeyValue::key).containsExactly(k("a"), k("b"));
        assertThat(inside.resumeAt()).isNull();

        assertThat(g.apply(new Scan(S1, V1, new KeyRange(k("n"), Key.END), 10)))
                .isInstanceOf(ShardResult.ShardMoved.class);
    }

    @Test
    void aFrozenSourceRefusesWritesAndItsSnapshotCarriesTheMergeIntoTheTarget() {
        var left = Group.ofRange(S1, new KeyRange(Key.MIN, k("m")), V2);
        var right = Group.ofRange(S2, new KeyRange(k("m"), Key.END), V2);
        left.apply(new Put(S1, V2, k("a"), v("1")));
        right.apply(new Put(S2, V2, k("x"), v("2")));

        assertThat(right.apply(new PrepareMerge(S2, V2, S1, V2)))
                .isEqualTo(new ShardResult.MergePrepared(new PendingMerge(S1, V2)));
        assertThat(right.apply(new Put(S2, V2, k("y"), v("3"))))
                .isEqualTo(new ShardResult.ShardMoved(right.replica.bounds(), S1));
        assertThat(right.apply(new Get(S2, V2, k("x")))).isInstanceOf(ShardResult.ShardMoved.class);

        ShardSnapshot frozen = right.replica.snapshot();
        var merged = (ShardResult.Merged) left.apply(new CommitMerge(S1, V2, V2, frozen));

        assertThat(merged.bounds()).isEqualTo(new ShardBounds(S1, KeyRange.ALL, ShardEpoch.merged(V2, V2), 0));
        assertThat(left.apply(new Get(S1, merged.bounds().epoch(), k("x")))).isEqualTo(value("2"));
        assertThat(left.apply(new Get(S1, merged.bounds().epoch(), k("y")))).isEqualTo(value(null));
        // the same commit again meets the merged epoch
        assertThat(left.apply(new CommitMerge(S1, V2, V2, frozen))).isInstanceOf(ShardResult.StaleEpoch.class);
    }

    @Test
    void aCommitMergeWithASourceNotFrozenForThisTargetIsRejected() {
        var left = Group.ofRange(S1, new KeyRange(Key.MIN, k("m")), V2);
        var right = Group.ofRange(S2, new KeyRange(k("m"), Key.END), V2);
        right.apply(new Put(S2, V2, k("x"), v("2")));

        ShardResult r = left.apply(new CommitMerge(S1, V2, V2, right.replica.snapshot()));

        assertThat(r).extracting("code").isEqualTo(Code.BAD_MERGE);
        assertThat(left.replica.bounds().span()).isEqualTo(new KeyRange(Key.MIN, k("m")));
        assertThat(left.store.rowCount()).isZero();
    }

    @Test
    void aSourceThatDoesNotAdjoinTheTargetIsRejected() {
        var left = Group.ofRange(S1, new KeyRange(Key.MIN, k("f")), V2);
        var far = Group.ofRange(S2, new KeyRange(k("m"), Key.END), V2);
        far.apply(new PrepareMerge(S2, V2, S1, V2));

        assertThat(left.apply(new CommitMerge(S1, V2, V2, far.replica.snapshot())))
                .extracting("code").isEqualTo(Code.BAD_MERGE);
    }

    @Test
    void aFrozenShardTakesNoOtherAdminCommand() {
        var g = Group.ofRange(S1, KeyRange.ALL, V1);
        g.apply(new PrepareMerge(S1, V1, S2, V1));
        assertThat(g.apply(new Split(S1, V1, new SplitPoint.AtKey(k("m")), ShardId.of(3))))
                .extracting("code").isEqualTo(Code.FROZEN);
        assertThat(g.apply(new PrepareMerge(S1, V1, S2, V1))).isInstanceOf(ShardResult.MergePrepared.class);
    }

    @Test
    void undecodableEntryBytesAreRejectedWithAStableCodeAndChangeNothing() {
        var g = Group.ofRange(S1, KeyRange.ALL, V1);
        ShardResult r = g.replica.apply(g.next++, new byte[]{1, 99});
        assertThat(r).extracting("code").isEqualTo(Code.MALFORMED_COMMAND);
        assertThat(((ShardResult.Rejected) r).reason()).startsWith(MalformedShardData.CODE);
        assertThat(g.replica.appliedIndex()).isEqualTo(ShardReplica.INITIAL_INDEX + 1);
    }

    @Test
    void aSnapshotInstalledElsewhereGivesTheSameReplica() {
        var g = Group.ofRange(S1, new KeyRange(k("b"), k("y")), V1);
        g.apply(new Put(S1, V1, k("c"), v("1")));
        g.apply(new PrepareMerge(S1, V1, S2, V1));
        ShardSnapshot s = g.replica.snapshot();

        var store = new MemoryShardStore();
        store.put(k("zz"), v("left over"));
        ShardReplica copy = ShardReplica.restore(ShardCodec.decodeSnapshot(ShardCodec.encode(s)), store, Set.of());

        assertThat(copy.snapshot()).usingRecursiveComparison().isEqualTo(s);
        assertThat(store.rows().keySet()).containsExactly(k("c"));
    }

    @Test
    void withTheIgnoreEpochMutationAStaleWriteLandsOutsideTheSpan() {
        var store = new MemoryShardStore();
        var r = ShardReplica.restore(ShardReplica.initial(new ShardBounds(S1, new KeyRange(Key.MIN, k("m")), V2, 0)),
                store, Set.of(ReplicaMutation.IGNORE_EPOCH));
        assertThat(r.apply(ShardReplica.INITIAL_INDEX + 1, new Put(S1, V1, k("x"), v("1"))))
                .isInstanceOf(ShardResult.Written.class);
        assertThat(store.rows().keySet()).containsExactly(k("x"));
    }

    @Test
    void aReplicaResumedFromItsStateAndItsStoreAnswersAsTheOneThatWroteThem() {
        var store = new MemoryShardStore();
        var bounds = new ShardBounds(S1, KeyRange.ALL, V1, 0);
        ShardReplica first = ShardReplica.restore(ShardReplica.initial(bounds), store, Set.of());
        first.apply(2, new Put(S1, V1, k("a"), v("1")));
        first.apply(3, new Split(S1, V1, new SplitPoint.AtKey(k("m")), S2));

        ShardReplica again = ShardReplica.resume(first.state(), store, Set.of());

        assertThat(again.snapshot()).isEqualTo(first.snapshot());
        assertThat(again.apply(4, new Put(S1, V1, k("b"), v("2")))).isInstanceOf(ShardResult.StaleEpoch.class);
        assertThat(again.apply(5, new Get(S1, V2, k("a")))).isEqualTo(new ShardResult.Value(v("1")));
    }
}
