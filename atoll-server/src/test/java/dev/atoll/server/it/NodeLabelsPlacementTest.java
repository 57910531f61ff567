package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListNodesRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.NodeInfo;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardmap.ReplicaRecord;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.server.cluster.NodeLabels;
import dev.atoll.server.shard.ShardError;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Nodes state their region and zone; placement reads them: a geo keyspace keeps each region's
 * shard on that region's nodes, "one replica per region" spreads every shard over the listed
 * regions, and a keyspace no labelled node can hold is refused.
 */
class NodeLabelsPlacementTest {
    private static final Map<String, String> REGION = Map.of("n1", "eu", "n2", "eu", "n3", "us", "n4", "us");

    @TempDir
    Path dir;

    private InProcessCluster cluster;

    @BeforeEach
    void startCluster() throws Exception {
        cluster = InProcessCluster.start(dir, List.of(
                List.of("--region", "eu", "--zone", "eu-a"), List.of("--region", "eu", "--zone", "eu-b"),
                List.of("--region", "us", "--zone", "us-a"), List.of("--region", "us", "--zone", "us-b")));
        ProcessCluster.await("every node's labels in the member table", Duration.ofSeconds(30),
                () -> labelledNodes().size() == 4);
    }

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Node name to region, for the nodes that published a region other than the default. */
    private Map<String, String> labelledNodes() {
        try {
            return cluster.admin(0).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                    .filter(n -> !n.getRegion().equals(NodeLabels.REGION_DEFAULT))
                    .collect(Collectors.toMap(NodeInfo::getName, NodeInfo::getRegion));
        } catch (StatusRuntimeException notYet) {
            return Map.of();
        }
    }

    private List<ShardRecord> shards(String keyspace) {
        return cluster.admin(1).listShards(ListShardsRequest.newBuilder().setKeyspace(keyspace).build())
                .getShardsList().stream().map(s -> s.getShard()).toList();
    }

    private static Set<String> regionsOf(ShardRecord shard) {
        return shard.getReplicasList().stream().map(r -> REGION.get(r.getNode())).collect(Collectors.toSet());
    }

    @Test
    void nodesListTheirLabelsAndAGeoKeyspaceKeepsEachRegionsShardOnThatRegionsNodes() {
        assertThat(labelledNodes()).isEqualTo(REGION);
        NodeInfo n2 = cluster.admin(2).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getName().equals("n2")).findFirst().orElseThrow();
        assertThat(n2.getZone()).isEqualTo("eu-b");
        assertThat(n2.getVoter()).isTrue();
        assertThat(n2.getClientUrlsList()).hasSize(1);

        cluster.admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("profiles").setSharding("geo")
                .setReplicationFactor(2).addGeoRegions("eu").addGeoRegions("us").setGeoHomeRegion("eu").build());

        // keys "us/..." form the us shard; the home region eu takes the keys below and above them
        List<ShardRecord> shards = shards("profiles");
        assertThat(shards).extracting(NodeLabelsPlacementTest::regionsOf)
                .containsExactlyInAnyOrder(Set.of("eu"), Set.of("us"), Set.of("eu"));
        assertThat(shards).allSatisfy(s -> assertThat(s.getReplicasList()).hasSize(2));

        // the data path serves the region's shard
        cluster.kv(0).put(PutRequest.newBuilder().setKeyspace("profiles").setKey(ByteString.copyFromUtf8("us/alice"))
                .setValue(ByteString.copyFromUtf8("a")).build());
        var got = cluster.kv(3).get(GetRequest.newBuilder().setKeyspace("profiles")
                .setKey(ByteString.copyFromUtf8("us/alice")).build());
        assertThat(got.getValue().toStringUtf8()).isEqualTo("a");
        assertThat(got.getServedBy().getShard()).as("the us shard served it")
                .isEqualTo(shards.stream().filter(s -> regionsOf(s).equals(Set.of("us"))).findFirst().orElseThrow().getId());
        int replicasListed = cluster.admin(0).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .mapToInt(NodeInfo::getReplicas).sum();
        assertThat(replicasListed).isEqualTo(6);
    }

    @Test
    void oneReplicaPerRegionSpreadsEveryShardAndAnUnknownRegionIsRefused() {
        cluster.admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("orders").setSharding("hash")
                .setReplicationFactor(2).setInitialShardCount(6).addRegions("eu").addRegions("us")
                .setReplicaPerRegion(true).build());
        assertThat(shards("orders")).hasSize(6).allSatisfy(s -> assertThat(regionsOf(s)).containsExactlyInAnyOrder("eu", "us"));
        // zones differ within a region, so the two eu replicas of an RF 4 shard are on both eu nodes
        cluster.admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("ledger").setSharding("range")
                .setReplicationFactor(4).build());
        assertThat(shards("ledger").get(0).getReplicasList()).extracting(ReplicaRecord::getNode)
                .containsExactlyInAnyOrder("n1", "n2", "n3", "n4");

        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> cluster.admin(0).createKeyspace(
                CreateKeyspaceRequest.newBuilder().setName("tokyo").setSharding("range").setReplicationFactor(1)
                        .addRegions("ap").build()));
        assertThat(ShardError.of(refused)).contains(ShardError.UNPLACEABLE);
        assertThat(refused.getStatus().getDescription()).contains("tokyo");
    }

    @Test
    void aNodeRestartedWithNewLabelsPublishesThem() throws Exception {
        cluster.restart(3, cluster.config(3).withLabels(new NodeLabels("eu", "eu-c", 1L << 30)));

        ProcessCluster.await("n4 in region eu", Duration.ofSeconds(30), () -> "eu".equals(labelledNodes().get("n4")));
        NodeInfo n4 = cluster.admin(1).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getName().equals("n4")).findFirst().orElseThrow();
        assertThat(n4.getZone()).isEqualTo("eu-c");
        assertThat(n4.getCapacityBytes()).isEqualTo(1L << 30);
    }
}
