package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.shardmap.ShardMapState;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Placement;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.Handoff;
import dev.atoll.shard.replica.Intake;
import dev.atoll.shard.replica.MovedKeys;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Data moves in the meta group's shard state: a directory edit or a slot move records a
 * relocation with the map change, in the snapshot too, which its steps advance and end; another
 * edit of the keyspace, or a split of a shard whose keys move, waits until it is done. And the
 * steps each shard's leader takes ({@link RelocationPlan}).
 */
class ShardStateRelocationTest {
    private static final List<NodeId> NODES = List.of(NodeId.of("n1"), NodeId.of("n2"), NodeId.of("n3"));

    private static ShardState created(KeyspaceSpec spec, int shards) {
        var voters = java.util.Collections.nCopies(shards, NODES);
        var o = ShardState.EMPTY.change(new ShardChange.CreateKeyspace(spec, voters));
        assertThat(o.answer()).isInstanceOf(ChangeResult.Applied.class);
        return o.state();
    }

    private static int slotCount(ShardState s) {
        return ((Sharding.Hash) s.map().keyspace("sessions").orElseThrow().sharding()).slotCount();
    }

    private static ShardState directory() {
        return created(new KeyspaceSpec("tenants", new Sharding.Directory(), 3, 2, Placement.ANYWHERE), 2);
    }

    @Test
    void aDirectoryEditRecordsItsMovesUntilEveryTargetTookThemAndEverySourceReleasedThem() {
        ShardState s = directory();
        var o = s.change(new ShardChange.AddShard("tenants", NODES));
        ShardId s3 = ((ChangeResult.Applied) o.answer()).changed().getFirst().id();
        var put = o.state().change(new ShardChange.PutDirectoryEntry("tenants",
                new Directory.Prefix(Key.utf8("acme/")), s3));
        assertThat(put.answer()).isInstanceOf(ChangeResult.Applied.class);
        ShardState moving = put.state();
        Relocation r = moving.relocationOf("tenants").orElseThrow();
        assertThat(r.id()).isEqualTo(moving.map().version());
        assertThat(r.sources()).containsExactly(ShardId.of(1), ShardId.of(2));
        assertThat(r.targets()).containsExactly(s3);
        assertThat(r.shards().get(s3).after()).isEqualTo(moving.map().shard(s3).orElseThrow().epoch());
        assertThat(r.handoffsOf(ShardId.of(1))).containsExactly(new Handoff(r.id(), s3,
                List.of(new MovedKeys.Range(KeyRange.ofPrefix(Key.utf8("acme/"))))));

        // the intent is in the snapshot
        ShardState restored = ShardState.fromProto(ShardMapState.newBuilder(moving.toProto()).build());
        assertThat(restored.relocations()).isEqualTo(moving.relocations());

        // another edit of the keyspace, or a split of one of its shards, waits
        var again = moving.change(new ShardChange.RemoveDirectoryEntry("tenants", new Directory.Prefix(Key.utf8("acme/"))));
        assertThat(again.answer()).isInstanceOf(ShardState.RelocationRefused.class);
        assertThat(again.state()).isSameAs(moving);

        // a source releasing before its leg is taken changes nothing; then take, release, forget
        ShardState x = moving.apply(ShardState.relocationReleased(r.id(), ShardId.of(1))).state();
        assertThat(x.relocations()).isEqualTo(moving.relocations());
        x = x.apply(ShardState.relocationTaken(r.id(), ShardId.of(1), s3)).state();
        x = x.apply(ShardState.relocationTaken(r.id(), ShardId.of(2), s3)).state();
        x = x.apply(ShardState.relocationTaken(r.id(), ShardId.of(2), s3)).state(); // a repeat
        x = x.apply(ShardState.relocationReleased(r.id(), ShardId.of(1))).state();
        assertThat(x.relocationOf("tenants")).isPresent();
        var last = x.apply(ShardState.relocationReleased(r.id(), ShardId.of(2)));
        assertThat(last.answer()).isEqualTo(new ShardState.RelocationStepped(Optional.empty()));
        assertThat(last.state().relocations()).isEmpty();
        assertThat(last.state().apply(ShardState.relocationReleased(r.id(), ShardId.of(2))).answer())
                .isEqualTo(new ShardState.RelocationStepped(Optional.empty()));
    }

    @Test
    void removingAnEntryMovesItsKeysWhereTheDefaultRuleSendsThem() {
        ShardState s = directory();
        s = s.change(new ShardChange.AddShard("tenants", NODES)).state();
        var prefix = new Directory.Prefix(Key.utf8("acme/"));
        s = s.change(new ShardChange.PutDirectoryEntry("tenants", prefix, ShardId.of(3))).state();
        Relocation first = s.relocationOf("tenants").orElseThrow();
        for (ShardId source : first.sources()) {
            s = s.apply(ShardState.relocationTaken(first.id(), source, ShardId.of(3))).state();
            s = s.apply(ShardState.relocationReleased(first.id(), source)).state();
        }
        assertThat(s.relocations()).isEmpty();
        var removed = s.change(new ShardChange.RemoveDirectoryEntry("tenants", prefix));
        Relocation r = removed.state().relocationOf("tenants").orElseThrow();
        assertThat(r.legs()).extracting(Relocation.Leg::keys).containsExactly(
                List.of(new MovedKeys.HashedRange(prefix.range(), List.of(ShardId.of(1), ShardId.of(2)), ShardId.of(1))),
                List.of(new MovedKeys.HashedRange(prefix.range(), List.of(ShardId.of(1), ShardId.of(2)), ShardId.of(2))));
    }

    @Test
    void slotsMovedRecordARelocationAndItsShardsTakeNoSplitMeanwhile() {
        ShardState s = created(KeyspaceSpec.hash("sessions", 3, 2), 2);
        ShardDescriptor from = s.map().shards("sessions").get(0);
        ShardDescriptor to = s.map().shards("sessions").get(1);
        HashSlots slots = HashSlots.of(new SlotRange(0, 100));
        var moved = s.change(new ShardChange.MoveSlots(from.id(), from.epoch(), to.id(), to.epoch(), slots));
        assertThat(moved.answer()).isInstanceOf(ChangeResult.Applied.class);
        Relocation r = moved.state().relocationOf("sessions").orElseThrow();
        assertThat(r.legs()).containsExactly(new Relocation.Leg(from.id(), to.id(),
                List.of(new MovedKeys.Slots(slots, slotCount(s))), false));
        ShardDescriptor after = moved.state().map().shard(from.id()).orElseThrow();
        var split = moved.state().change(new ShardChange.Split(from.id(), after.epoch(), new SplitPoint.AtSlot(2000)));
        assertThat(split.answer()).isInstanceOf(ShardState.RelocationRefused.class);
        var more = moved.state().change(new ShardChange.MoveSlots(from.id(), after.epoch(), to.id(),
                moved.state().map().shard(to.id()).orElseThrow().epoch(), HashSlots.of(new SlotRange(100, 200))));
        assertThat(more.answer()).isInstanceOf(ShardState.RelocationRefused.class);
    }

    @Test
    void eachLeaderTakesTheNextStepFromTheIntentAndItsReplicaAlone() {
        ShardState s = created(KeyspaceSpec.hash("sessions", 3, 2), 2);
        ShardDescriptor from = s.map().shards("sessions").get(0);
        ShardDescriptor to = s.map().shards("sessions").get(1);
        HashSlots slots = HashSlots.of(new SlotRange(0, 100));
        ShardState moving = s.change(new ShardChange.MoveSlots(from.id(), from.epoch(), to.id(), to.epoch(), slots))
                .state();
        Relocation r = moving.relocationOf("sessions").orElseThrow();
        int n = slotCount(s);
        var src = new ShardBounds(from.id(), from.span(), from.epoch(), n);
        var dst = new ShardBounds(to.id(), to.span(), to.epoch(), n);

        assertThat(RelocationPlan.next(r, from.id(), Optional.of(src), List.of(), List.of()))
                .contains(new RelocationPlan.Propose(new ShardCommand.HandOff(from.id(), from.epoch(),
                        r.shards().get(from.id()).after(), r.handoffsOf(from.id()))));
        assertThat(RelocationPlan.next(r, to.id(), Optional.of(dst), List.of(), List.of()))
                .contains(new RelocationPlan.Propose(new ShardCommand.Receive(to.id(), to.epoch(),
                        r.shards().get(to.id()).after(), r.intakesOf(to.id()))));
        assertThat(RelocationPlan.next(r, to.id(), Optional.empty(), List.of(), List.of())).isEmpty();

        // handed off, received: the target fetches from where its intake resumes; the source waits
        var srcAfter = new ShardBounds(from.id(), from.hashSlots().minus(slots), r.shards().get(from.id()).after(), n);
        var dstAfter = new ShardBounds(to.id(), to.hashSlots().plus(slots), r.shards().get(to.id()).after(), n);
        List<Handoff> handoffs = r.handoffsOf(from.id());
        Intake intake = r.intakesOf(to.id()).getFirst();
        assertThat(RelocationPlan.next(r, from.id(), Optional.of(srcAfter), handoffs, List.of())).isEmpty();
        assertThat(RelocationPlan.next(r, to.id(), Optional.of(dstAfter), List.of(), List.of(intake)))
                .contains(new RelocationPlan.Fetch(from.id(), Key.MIN));
        // the last chunk arrived: tell the meta group; then the source releases, then says so
        assertThat(RelocationPlan.next(r, to.id(), Optional.of(dstAfter), List.of(), List.of()))
                .contains(new RelocationPlan.Taken(from.id()));
        Relocation taken = r.withTaken(from.id(), to.id());
        assertThat(RelocationPlan.next(taken, to.id(), Optional.of(dstAfter), List.of(), List.of())).isEmpty();
        assertThat(RelocationPlan.next(taken, from.id(), Optional.of(srcAfter), handoffs, List.of()))
                .contains(new RelocationPlan.Propose(new ShardCommand.Release(from.id(), srcAfter.epoch(), r.id())));
        assertThat(RelocationPlan.next(taken, from.id(), Optional.of(srcAfter), List.of(), List.of()))
                .contains(new RelocationPlan.Released());
        assertThat(RelocationPlan.next(taken.withReleased(from.id()), from.id(), Optional.of(srcAfter), List.of(),
                List.of())).isEmpty();
    }
}
