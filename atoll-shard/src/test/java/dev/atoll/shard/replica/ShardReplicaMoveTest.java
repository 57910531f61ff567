package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.ShardCommand.Get;
import dev.atoll.shard.replica.ShardCommand.HandOff;
import dev.atoll.shard.replica.ShardCommand.Put;
import dev.atoll.shard.replica.ShardCommand.Receive;
import dev.atoll.shard.replica.ShardCommand.Release;
import dev.atoll.shard.replica.ShardCommand.TakeOver;
import dev.atoll.shard.replica.ShardResult.Code;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Data moves between two shard replicas: hand off, receive, take over in chunks, release. */
class ShardReplicaMoveTest {
    private static final ShardId S1 = ShardId.of(1);
    private static final ShardId S2 = ShardId.of(2);
    private static final ShardEpoch V1 = ShardEpoch.INITIAL;
    private static final ShardEpoch V2 = V1.nextRange();
    private static final long REL = 7;
    private static final int SLOTS = 16;

    private static final class Group {
        final MemoryShardStore store = new MemoryShardStore();
        final ShardReplica replica;
        long next;

        Group(ShardSnapshot snapshot) {
            replica = ShardReplica.restore(snapshot, store, Set.of());
            next = snapshot.appliedIndex() + 1;
        }

        static Group directory(ShardId id) {
            return new Group(ShardReplica.initial(new ShardBounds(id, KeyRange.ALL, V1, 0)));
        }

        static Group hash(ShardId id, HashSlots slots) {
            return new Group(ShardReplica.initial(new ShardBounds(id, slots, V1, SLOTS)));
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

    /** Takes every chunk of {@code source}'s handoff to {@code target}'s shard, {@code bytesMax} at a time. */
    private static int takeAll(Group source, Group target, long bytesMax) {
        Key from = Key.MIN;
        int chunks = 0;
        while (true) {
            ShardReplica.Chunk chunk = ShardReplica.handedOffRows(source.replica.state(), source.store, REL,
                    target.replica.bounds().shard(), from, bytesMax).orElseThrow();
            ShardResult r = target.apply(new TakeOver(target.replica.bounds().shard(), target.replica.bounds().epoch(),
                    REL, source.replica.bounds().shard(), from, chunk.rows(), chunk.resumeAt()));
            assertThat(r).isInstanceOf(ShardResult.Relocated.class);
            chunks++;
            if (chunk.resumeAt().isEnd()) {
                return chunks;
            }
            from = chunk.resumeAt();
        }
    }

    @Test
    void aDirectoryPrefixMovesWithItsRowsAndNothingElse() {
        var source = Group.directory(S1);
        var target = Group.directory(S2);
        for (String key : List.of("p/a", "p/b", "p/c", "q")) {
            source.apply(new Put(S1, V1, k(key), v(key + "1")));
        }
        var prefix = new MovedKeys.Range(KeyRange.ofPrefix(k("p/")));
        assertThat(source.apply(new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, List.of(prefix))))))
                .isInstanceOf(ShardResult.Relocated.class);

        // the source refuses the moved keys, naming the target; its other keys are served at the new epoch
        ShardBounds sb = source.replica.bounds();
        assertThat(source.apply(new Put(S1, V2, k("p/a"), v("x")))).isEqualTo(new ShardResult.ShardMoved(sb, S2));
        assertThat(source.apply(new Get(S1, V2, k("p/z")))).isEqualTo(new ShardResult.ShardMoved(sb, S2));
        assertThat(source.apply(new Put(S1, V1, k("q"), v("x")))).isEqualTo(new ShardResult.StaleEpoch(sb));
        assertThat(source.apply(new Put(S1, V2, k("q"), v("q2")))).isInstanceOf(ShardResult.Written.class);
        assertThat(source.replica.serves(k("p/a"))).isFalse();
        assertThat(source.replica.serves(k("q"))).isTrue();

        // the target takes the keys at once, refuses them until their rows are there
        target.apply(new Put(S2, V1, k("t"), v("t1")));
        assertThat(target.apply(new Receive(S2, V1, V2, List.of(new Intake(REL, S1, List.of(prefix), Key.MIN)))))
                .isInstanceOf(ShardResult.Relocated.class);
        assertThat(target.apply(new Put(S2, V2, k("p/a"), v("x"))))
                .isEqualTo(new ShardResult.ShardMoved(target.replica.bounds(), null));
        assertThat(target.apply(new Get(S2, V2, k("t")))).isEqualTo(new ShardResult.Value(v("t1")));

        assertThat(takeAll(source, target, 4)).isEqualTo(3);
        assertThat(target.replica.intakes()).isEmpty();
        assertThat(target.apply(new Get(S2, V2, k("p/b")))).isEqualTo(new ShardResult.Value(v("p/b1")));
        assertThat(target.apply(new Put(S2, V2, k("p/a"), v("p/a2")))).isInstanceOf(ShardResult.Written.class);

        assertThat(source.apply(new Release(S1, V2, REL))).isEqualTo(new ShardResult.Relocated(sb, false));
        assertThat(source.store.rows().keySet()).containsExactly(k("q"));
        assertThat(source.replica.handoffs()).isEmpty();
        assertThat(target.store.rows().keySet()).containsExactly(k("p/a"), k("p/b"), k("p/c"), k("t"));
    }

    @Test
    void aRepeatedOrOutOfOrderStepChangesNothing() {
        var source = Group.directory(S1);
        var target = Group.directory(S2);
        source.apply(new Put(S1, V1, k("p/a"), v("1")));
        source.apply(new Put(S1, V1, k("p/b"), v("2")));
        var keys = List.<MovedKeys>of(new MovedKeys.Range(KeyRange.ofPrefix(k("p/"))));
        var handOff = new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, keys)));
        source.apply(handOff);
        assertThat(source.apply(handOff)).isInstanceOf(ShardResult.StaleEpoch.class);
        var receive = new Receive(S2, V1, V2, List.of(new Intake(REL, S1, keys, Key.MIN)));
        target.apply(receive);
        assertThat(target.apply(receive)).isInstanceOf(ShardResult.StaleEpoch.class);

        ShardReplica.Chunk first = ShardReplica.handedOffRows(source.replica.state(), source.store, REL, S2, Key.MIN, 1)
                .orElseThrow();
        assertThat(first.rows()).hasSize(1);
        var chunk = new TakeOver(S2, V2, REL, S1, Key.MIN, first.rows(), first.resumeAt());
        target.apply(chunk);
        ShardSnapshot after = target.replica.snapshot();
        assertThat(target.apply(chunk)).isInstanceOf(ShardResult.Rejected.class)
                .extracting(r -> ((ShardResult.Rejected) r).code()).isEqualTo(Code.BAD_MOVE);
        var outside = new TakeOver(S2, V2, REL, S1, first.resumeAt(), List.of(new KeyValue(k("z"), v("?"))), Key.END);
        assertThat(target.apply(outside)).isInstanceOf(ShardResult.Rejected.class);
        var wrongSource = new TakeOver(S2, V2, REL, ShardId.of(9), first.resumeAt(), List.of(), Key.END);
        assertThat(target.apply(wrongSource)).isInstanceOf(ShardResult.Rejected.class);
        assertThat(target.replica.snapshot()).usingRecursiveComparison().ignoringFields("appliedIndex")
                .isEqualTo(after);

        takeAllFrom(source, target, first.resumeAt());
        assertThat(source.apply(new Release(S1, V2, REL))).isInstanceOf(ShardResult.Relocated.class);
        assertThat(source.apply(new Release(S1, V2, REL))).isInstanceOf(ShardResult.Rejected.class);
        assertThat(target.store.rows()).hasSize(2);
    }

    /**
     * Found by {@code atoll sim sharded} (seed 32, --faults all, with a driver that did not wait):
     * two directory edits moved keys to a shard and straight back; its Receive of the keys it still
     * held handed off was taken, and the older Release then deleted the rows that had come back.
     */
    @Test
    void aShardTakesNoOtherMoveWhileKeysAreInFlight() {
        var shard = Group.directory(S1);
        shard.apply(new Put(S1, V1, k("p/a"), v("1")));
        var keys = List.<MovedKeys>of(new MovedKeys.Range(KeyRange.ofPrefix(k("p/"))));
        shard.apply(new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, keys))));
        var back = new Receive(S1, V2, V2.nextRange(), List.of(new Intake(REL + 1, S2, keys, Key.MIN)));
        assertThat(shard.apply(back)).isInstanceOf(ShardResult.Rejected.class)
                .extracting(r -> ((ShardResult.Rejected) r).code()).isEqualTo(Code.MOVING);
        assertThat(shard.replica.bounds().epoch()).isEqualTo(V2);
        shard.apply(new Release(S1, V2, REL));
        assertThat(shard.apply(back)).isInstanceOf(ShardResult.Relocated.class);
    }

    private static void takeAllFrom(Group source, Group target, Key from) {
        ShardReplica.Chunk rest = ShardReplica.handedOffRows(source.replica.state(), source.store, REL, S2, from,
                1 << 20).orElseThrow();
        assertThat(rest.resumeAt()).isEqualTo(Key.END);
        assertThat(target.apply(new TakeOver(S2, V2, REL, S1, from, rest.rows(), Key.END)))
                .isEqualTo(new ShardResult.Relocated(target.replica.bounds(), false));
    }

    @Test
    void hashSlotsLeaveTheSourcesBoundsAndJoinTheTargetsWithTheirRows() {
        var source = Group.hash(S1, HashSlots.of(new SlotRange(0, SLOTS)));
        var target = Group.hash(S2, HashSlots.NONE);
        var keys = new ArrayList<Key>();
        for (int i = 0; i < 200; i++) {
            Key key = k("key-" + i);
            keys.add(key);
            source.apply(new Put(S1, V1, key, v("v" + i)));
        }
        var moved = new MovedKeys.Slots(HashSlots.of(new SlotRange(8, SLOTS)), SLOTS);
        source.apply(new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, List.of(moved)))));
        assertThat(source.replica.bounds().span()).isEqualTo(HashSlots.of(new SlotRange(0, 8)));
        assertThat(source.store.rowCount()).isEqualTo(200); // kept until released

        // a snapshot taken in flight keeps the handed-off rows: a source replica restored from it can still give them
        ShardSnapshot inFlight = source.replica.snapshot();
        assertThat(inFlight.rows()).hasSize(200);
        var restored = new Group(ShardCodec.decodeSnapshot(ShardCodec.encode(inFlight)));
        assertThat(restored.replica.handoffs()).isEqualTo(source.replica.handoffs());

        target.apply(new Receive(S2, V1, V2, List.of(new Intake(REL, S1, List.of(moved), Key.MIN))));
        assertThat(target.replica.bounds().span()).isEqualTo(HashSlots.of(new SlotRange(8, SLOTS)));
        takeAll(restored, target, 256);
        source.apply(new Release(S1, V2, REL));

        for (int i = 0; i < keys.size(); i++) {
            Key key = keys.get(i);
            boolean up = KeyHash.slot(key, SLOTS) >= 8;
            Group owner = up ? target : source;
            Group other = up ? source : target;
            assertThat(owner.apply(new Get(owner.replica.bounds().shard(), V2, key)))
                    .isEqualTo(new ShardResult.Value(v("v" + i)));
            assertThat(other.store.get(key)).isNull();
        }
        assertThat(source.store.rowCount() + target.store.rowCount()).isEqualTo(200);
    }

    @Test
    void aRemovedEntrysKeysFreezeOnlyWhereTheDefaultRuleSendsThemAway() {
        var source = Group.directory(S1);
        var over = List.of(S1, S2);
        var toS2 = new MovedKeys.HashedRange(KeyRange.ofPrefix(k("u/")), over, S2);
        var names = new ArrayList<Key>();
        for (int i = 0; i < 40; i++) {
            names.add(k("u/" + i));
            source.apply(new Put(S1, V1, names.getLast(), v("x")));
        }
        source.apply(new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, List.of(toS2)))));
        int frozen = 0;
        for (Key key : names) {
            boolean leaves = KeyHash.jump(KeyHash.hash64(key), 2) == 1;
            assertThat(source.replica.serves(key)).as("%s", key).isEqualTo(!leaves);
            frozen += leaves ? 1 : 0;
        }
        assertThat(frozen).isBetween(1, 39);
        source.apply(new Release(S1, V2, REL));
        assertThat(source.store.rowCount()).isEqualTo(40 - frozen);
    }

    @Test
    void aShardWithKeysInFlightTakesNoSplitAndStepsOfTheWrongKindAreRefused() {
        var source = Group.hash(S1, HashSlots.of(new SlotRange(0, SLOTS)));
        var slots = new MovedKeys.Slots(HashSlots.of(new SlotRange(8, SLOTS)), SLOTS);
        var range = new MovedKeys.Range(KeyRange.ofPrefix(k("p")));
        assertThat(source.apply(new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, List.of(range))))))
                .isInstanceOf(ShardResult.Rejected.class);
        assertThat(source.replica.bounds().epoch()).isEqualTo(V1);
        source.apply(new HandOff(S1, V1, V2, List.of(new Handoff(REL, S2, List.of(slots)))));
        ShardResult split = source.apply(new ShardCommand.Split(S1, V2, new SplitPoint.AtSlot(4), ShardId.of(3)));
        assertThat(split).isInstanceOf(ShardResult.Rejected.class)
                .extracting(r -> ((ShardResult.Rejected) r).code()).isEqualTo(Code.MOVING);
        assertThat(source.apply(new ShardCommand.Scan(S1, V2, KeyRange.ALL, 10)))
                .isInstanceOf(ShardResult.ShardMoved.class);
        var taken = Group.hash(S2, HashSlots.of(new SlotRange(8, 9)));
        assertThat(taken.apply(new Receive(S2, V1, V2, List.of(new Intake(REL, S1, List.of(slots), Key.MIN)))))
                .isInstanceOf(ShardResult.Rejected.class);
    }
}
