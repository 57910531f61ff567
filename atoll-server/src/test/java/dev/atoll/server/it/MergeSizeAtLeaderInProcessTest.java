package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.MergeShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.server.AtollServer;
import dev.atoll.server.shard.AdminService;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.server.shard.ShardError;
import dev.atoll.shard.ShardDescriptor;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A merge's size check (the source's rows travel in one log entry, at most
 * {@link AdminService#MERGE_SOURCE_BYTES_MAX}) reads the source group's leader, not the replica
 * on the node asked, which may lag its group: here that node is cut off from the source's leader
 * while the source grows past the bound, so its own replica still looks small.
 */
class MergeSizeAtLeaderInProcessTest extends InProcessShardTest {
    @Override
    List<List<String>> serverArgs() {
        return placementByHand();
    }

    @Test
    void aMergeAskedOfANodeWhoseReplicaOfTheSourceLagsIsRefusedForWhatTheLeaderHolds() throws Exception {
        cluster.createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        long users = shards("users").getFirst().getShard().getId();
        InProcessCluster.retried(() -> admin(0).splitShard(SplitShardRequest.newBuilder().setShard(users)
                .setKey(b("m")).build()));
        List<ShardDescriptor> pair = shards("users").stream().map(s -> ShardCodec.decode(s.getShard()))
                .sorted(Comparator.comparing(d -> d.keyRange().start())).toList();
        ShardDescriptor right = pair.get(1);

        // the source's leader on one node, the lagging replica on another, the meta leader on neither
        // of those two if it can be helped: the node asked must still reach the meta group's leader
        int metaLeader = ProcessCluster.awaitValue("a meta leader", Duration.ofSeconds(30),
                () -> IntStream.range(0, 3).boxed().filter(i -> role(i, AtollServer.META_GROUP) == Role.LEADER)
                        .findFirst());
        int sourceLeader = (metaLeader + 1) % 3;
        int lagging = (metaLeader + 2) % 3;
        String sourceLeaderName = "n" + (sourceLeader + 1);
        InProcessCluster.retried(() -> admin(metaLeader).transferShardLeader(TransferShardLeaderRequest.newBuilder()
                .setShard(right.id().value()).setTo(sourceLeaderName).build()));
        long sourceGroup = groupOf(sourceLeader, right);
        ProcessCluster.await(sourceLeaderName + " leads " + right.id(), Duration.ofSeconds(30),
                () -> role(sourceLeader, sourceGroup) == Role.LEADER);

        // cut the link between the source's leader and the lagging node, both ways
        NodeId laggingNode = NodeId.of("n" + (lagging + 1));
        cluster.servers.get(sourceLeader).transport().removePeer(laggingNode);
        for (int i = 0; i < 6; i++) {
            int key = i;
            InProcessCluster.retried(() -> kv(metaLeader).put(PutRequest.newBuilder().setKeyspace("users")
                    .setKey(b("x" + key)).setValue(ByteString.copyFrom(new byte[100_000])).build()));
        }
        ProcessCluster.await("the source's leader applied the large rows", Duration.ofSeconds(30),
                () -> dataBytes(sourceLeader, right) > AdminService.MERGE_SOURCE_BYTES_MAX);
        assertThat(dataBytes(lagging, right)).as("the lagging replica").isLessThanOrEqualTo(
                AdminService.MERGE_SOURCE_BYTES_MAX);
        List<ShardInfo> before = shards("users");

        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> admin(lagging).mergeShards(
                MergeShardsRequest.newBuilder().setLeft(pair.get(0).id().value()).setRight(right.id().value())
                        .build()));
        assertThat(refused).as("the merge asked of the lagging node is refused").isNotNull();
        assertThat(ShardError.of(refused)).contains(ShardError.MERGE_TOO_LARGE);
        assertThat(shards("users")).map(ShardInfo::getSpan)
                .containsExactlyElementsOf(before.stream().map(ShardInfo::getSpan).toList());
    }

    private Role role(int node, long group) {
        LogStatus status = cluster.servers.get(node).runtime().status(group);
        return status == null ? null : status.role();
    }

    private long groupOf(int node, ShardDescriptor shard) {
        return cluster.servers.get(node).shardHost().replica(shard.id()).orElseThrow().groupId();
    }

    private long dataBytes(int node, ShardDescriptor shard) {
        return cluster.servers.get(node).shardHost().replica(shard.id()).orElseThrow().stateMachine()
                .dataBytes(AdminService.MERGE_SOURCE_BYTES_MAX + 1);
    }
}
