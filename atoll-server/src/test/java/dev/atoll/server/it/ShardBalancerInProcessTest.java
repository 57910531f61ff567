package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListNodesRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.NodeInfo;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The placement driver on the meta leader spreads replicas and leaders back over the nodes
 * after an operator piled them onto one, moving data online without losing a key.
 */
class ShardBalancerInProcessTest {
    @TempDir
    Path dir;

    private InProcessCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Per node: {replicas, leaders}, as the admin API lists them; empty while the meta group has no leader. */
    private Map<String, List<Integer>> perNode() {
        try {
            return cluster.admin(0).listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                    .collect(Collectors.toMap(NodeInfo::getName, n -> List.of(n.getReplicas(), n.getLeaders()),
                            (a, b) -> a, TreeMap::new));
        } catch (StatusRuntimeException notNow) {
            return Map.of();
        }
    }

    private List<ShardInfo> shards() {
        return cluster.admin(1).listShards(ListShardsRequest.newBuilder().setKeyspace("users").build()).getShardsList();
    }

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void replicasPiledOntoOneNodeAreSpreadAgainWithEveryKeyKept() throws Exception {
        cluster = InProcessCluster.start(dir, List.of(List.of(), List.of(), List.of(), List.of()));
        cluster.admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("hash")
                .setReplicationFactor(1).setInitialShardCount(8).build());
        for (int i = 0; i < 200; i++) {
            cluster.kv(i % 4).put(PutRequest.newBuilder().setKeyspace("users").setKey(b("key-" + i))
                    .setValue(b("v" + i)).build());
        }
        ProcessCluster.await("two replicas per node at first", Duration.ofSeconds(30), () -> perNode().values()
                .stream().map(c -> c.get(0)).toList().equals(List.of(2, 2, 2, 2)));

        // an operator moves every replica off n4 and n3 onto n1
        int moved = 0;
        for (ShardInfo s : shards()) {
            String node = s.getShard().getReplicas(0).getNode();
            if (node.equals("n3") || node.equals("n4")) {
                try {
                    cluster.admin(1).moveShard(MoveShardRequest.newBuilder().setShard(s.getShard().getId())
                            .setFrom(node).setTo("n1").setWait(true).build());
                    moved++;
                } catch (StatusRuntimeException raced) {
                    // the balancer moved this shard meanwhile: fine, it is what is tested
                }
            }
        }
        assertThat(moved).as("the operator's moves ran").isPositive();

        ProcessCluster.await("two replicas per node again", Duration.ofSeconds(120), () -> perNode().values()
                .stream().map(c -> c.get(0)).toList().equals(List.of(2, 2, 2, 2))
                && shards().stream().allMatch(s -> s.getMovingTo().isEmpty()));
        for (int i = 0; i < 200; i++) {
            var got = cluster.kv((i + 1) % 4).get(GetRequest.newBuilder().setKeyspace("users").setKey(b("key-" + i))
                    .build());
            assertThat(got.getValue().toStringUtf8()).as("key-%d", i).isEqualTo("v" + i);
        }
    }

    @Test
    void leadersPiledOntoOneNodeAreSpreadAgain() throws Exception {
        cluster = InProcessCluster.start(dir);
        cluster.admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(9).build());
        ProcessCluster.await("every shard's leader known", Duration.ofSeconds(60),
                () -> shards().stream().noneMatch(s -> s.getShard().getLeaderHint().isEmpty()));

        int transferred = 0;
        for (ShardInfo s : shards()) {
            if (!s.getShard().getLeaderHint().equals("n1")) {
                try {
                    cluster.admin(2).transferShardLeader(TransferShardLeaderRequest.newBuilder()
                            .setShard(s.getShard().getId()).setTo("n1").build());
                    transferred++;
                } catch (StatusRuntimeException raced) {
                    // the balancer moved this leader meanwhile
                }
            }
        }
        assertThat(transferred).as("the operator's transfers ran").isPositive();

        ProcessCluster.await("three leaders per node", Duration.ofSeconds(120), () -> perNode().values().stream()
                .map(c -> c.get(1)).toList().equals(List.of(3, 3, 3)));
        assertThat(perNode().values()).allMatch(c -> c.get(0) == 9);
    }
}
