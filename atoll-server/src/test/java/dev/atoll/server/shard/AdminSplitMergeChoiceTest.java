package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.shardkv.MedianKeyResponse;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.placement.ClusterState;
import dev.atoll.shard.placement.Node;
import dev.atoll.shard.placement.Rebalancer;
import dev.atoll.shard.placement.RebalancerConfig;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Where the admin API splits a hash shard named without a slot, and which shard a hash merge of one takes. */
class AdminSplitMergeChoiceTest {
    private static final List<Node> NODES = List.of(new Node(NodeId.of("n1"), "default", "n1", 1L << 40,
            Node.State.UP));

    private static ShardMap carts(int slotCount) {
        var spec = new KeyspaceSpec("carts", new Sharding.Hash(slotCount), 1, 1, KeyspaceSpec.hash("carts", 1, 1)
                .placement());
        var placed = (Rebalancer.NewKeyspace.Placed) new Rebalancer(RebalancerConfig.defaults())
                .placeKeyspace(spec, ClusterState.of(NODES, ShardMap.empty(), Map.of()));
        return ((ChangeResult.Applied) ShardMap.empty().apply(placed.change())).map();
    }

    private static ShardMap split(ShardMap map, long shard, int slot) {
        ShardDescriptor d = map.shard(ShardId.of(shard)).orElseThrow();
        return ((ChangeResult.Applied) map.apply(new ShardChange.Split(d.id(), d.epoch(), new SplitPoint.AtSlot(slot))))
                .map();
    }

    private static ShardDescriptor withSlots(SlotRange... ranges) {
        ShardDescriptor d = carts(16).shards().iterator().next();
        return new ShardDescriptor(d.id(), d.keyspace(), new HashSlots(List.of(ranges)), d.replicas(), d.leaderHint(),
                d.epoch());
    }

    private static MedianKeyResponse probe(Integer medianSlot, long dataBytes) {
        var b = MedianKeyResponse.newBuilder().setRangeVersion(1).setDataBytes(dataBytes);
        if (medianSlot != null) {
            b.setMedianSlot(medianSlot);
        }
        return b.build();
    }

    private static ShardError refusal(ShardDescriptor d, MedianKeyResponse probe) {
        var refused = catchThrowableOfType(StatusRuntimeException.class,
                () -> AdminService.slotToSplit(d, (HashSlots) d.span(), probe));
        assertThat(refused).as("a split of %s from %s refused", d, probe).isNotNull();
        return ShardError.of(refused).orElseThrow();
    }

    @Test
    void aHashShardWithDataSplitsAtItsWeightedMedianSlot() {
        ShardDescriptor d = withSlots(new SlotRange(0, 16));
        assertThat(AdminService.slotToSplit(d, (HashSlots) d.span(), probe(11, 5000))).isEqualTo(11);
        // a median from a replica whose span was wider (a split it had not applied) is refused, not proposed
        assertThat(refusal(withSlots(new SlotRange(0, 8)), probe(11, 5000))).isEqualTo(ShardError.REJECTED);
    }

    @Test
    void anEmptyHashShardSplitsInTheMiddleOfItsSlots() {
        ShardDescriptor whole = withSlots(new SlotRange(0, 16));
        assertThat(AdminService.slotToSplit(whole, (HashSlots) whole.span(), probe(null, 0))).isEqualTo(8);
        // the middle by count of slots held, across the gap: 4 slots below 8, 4 from it
        ShardDescriptor gapped = withSlots(new SlotRange(0, 4), new SlotRange(8, 12));
        assertThat(AdminService.slotToSplit(gapped, (HashSlots) gapped.span(), probe(null, 0))).isEqualTo(8);
        ShardDescriptor uneven = withSlots(new SlotRange(0, 5), new SlotRange(8, 11));
        assertThat(AdminService.slotToSplit(uneven, (HashSlots) uneven.span(), probe(null, 0))).isEqualTo(4);
    }

    @Test
    void aHashShardWhoseDataSitsInOneSlotOrThatHoldsOneSlotIsNotSplitWithoutASlotNamed() {
        assertThat(refusal(withSlots(new SlotRange(0, 16)), probe(null, 700))).isEqualTo(ShardError.REJECTED);
        assertThat(refusal(withSlots(new SlotRange(5, 6)), probe(null, 0))).isEqualTo(ShardError.REJECTED);
    }

    @Test
    void aHashShardNamedAloneMergesWithTheOwnerOfTheSlotNextToItsSlots() {
        // s1 {0..3}, s3 {4..7}, s2 {8..15}
        ShardMap map = split(split(carts(16), 1, 8), 1, 4);
        ShardDescriptor s1 = map.shard(ShardId.of(1)).orElseThrow();
        ShardDescriptor s2 = map.shard(ShardId.of(2)).orElseThrow();
        ShardDescriptor s3 = map.shard(ShardId.of(3)).orElseThrow();

        assertThat(AdminService.neighbour(map, s1, true)).contains(s3);
        assertThat(AdminService.neighbour(map, s3, true)).contains(s2);
        assertThat(AdminService.neighbour(map, s2, false)).contains(s3);
        assertThat(AdminService.neighbour(map, s1, false)).as("no slot below 0").isEmpty();
        assertThat(AdminService.neighbour(map, s2, true)).as("no slot past 15").isEmpty();
        assertThat(AdminService.neighbour(map, s1, true)).isNotEqualTo(Optional.of(s1));
    }
}
