package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.placement.ClusterState;
import dev.atoll.shard.placement.Node;
import dev.atoll.shard.placement.Rebalancer;
import dev.atoll.shard.placement.RebalancerConfig;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What the admin API asks for: specs from requests, and replicas spread by count over the nodes. */
class AdminPlacementTest {
    private static final List<Node> NODES = List.of("n1", "n2", "n3").stream()
            .map(n -> new Node(NodeId.of(n), "default", n, 1L << 40, Node.State.UP)).toList();

    private static ShardMap place(ShardMap map, KeyspaceSpec spec) {
        var placed = (Rebalancer.NewKeyspace.Placed) new Rebalancer(RebalancerConfig.defaults())
                .placeKeyspace(spec, ClusterState.of(NODES, map, Map.of()));
        return ((ChangeResult.Applied) map.apply(placed.change())).map();
    }

    private static Map<NodeId, Long> replicasPerNode(ShardMap map) {
        var count = new TreeMap<NodeId, Long>();
        map.shards().forEach(s -> s.nodes().forEach(n -> count.merge(n, 1L, Long::sum)));
        return count;
    }

    @Test
    void keyspacesCreatedOneAfterTheOtherSpreadReplicasEvenly() {
        ShardMap map = place(ShardMap.empty(), KeyspaceSpec.hash("carts", 2, 7));
        map = place(map, KeyspaceSpec.range("users", 1).withInitialShardCount(5));

        // 7 x 2 + 5 x 1 = 19 replicas over 3 nodes: 6 or 7 each
        assertThat(replicasPerNode(map).values()).allMatch(c -> c == 6 || c == 7);
        assertThat(map.shards()).allMatch(s -> s.nodes().size() == s.voters().size());
    }

    @Test
    void aRequestBecomesTheSpecItNames() {
        KeyspaceSpec spec = AdminService.specOf(CreateKeyspaceRequest.newBuilder().setName("carts").setSharding("hash")
                .setReplicationFactor(3).setInitialShardCount(8).setHashSlotCount(1024).build());

        assertThat(spec.sharding()).isEqualTo(new Sharding.Hash(1024));
        assertThat(spec.initialShardCount()).isEqualTo(8);
        assertThat(AdminService.specOf(CreateKeyspaceRequest.newBuilder().setName("u").setReplicationFactor(1).build())
                .sharding()).isEqualTo(new Sharding.Range());
    }

    @Test
    void aBadRequestIsRefusedAsAnInvalidKeyspaceSayingWhy() {
        for (var bad : List.of(
                CreateKeyspaceRequest.newBuilder().setName("default").setReplicationFactor(1),
                CreateKeyspaceRequest.newBuilder().setName("UPPER").setReplicationFactor(1),
                CreateKeyspaceRequest.newBuilder().setName("x").setReplicationFactor(0),
                CreateKeyspaceRequest.newBuilder().setName("x").setReplicationFactor(1).setSharding("zigzag"),
                CreateKeyspaceRequest.newBuilder().setName("x").setReplicationFactor(1).setSharding("hash")
                        .setHashSlotCount(1000),
                CreateKeyspaceRequest.newBuilder().setName("x").setReplicationFactor(1).setSharding("geo"))) {
            var e = catchThrowableOfType(StatusRuntimeException.class, () -> AdminService.specOf(bad.build()));
            assertThat(ShardError.of(e)).as(bad.toString()).contains(ShardError.INVALID_KEYSPACE);
            assertThat(e.getStatus().getDescription()).startsWith("atoll: INVALID_KEYSPACE: ");
        }
    }
}
