package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.shard.Key;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real server processes, one range keyspace of one shard on all three: under a write load,
 * the shard splits; n3 is killed with -9 and two more splits happen without it; n3 restarts and
 * its replicas apply the splits late, from their logs; one more split follows. Afterwards every
 * acknowledged write is readable, and on every node each key is held by exactly one shard, the
 * one the map names.
 */
class ShardSplitProcessTest {
    @TempDir
    Path dir;

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void acknowledgedWritesSurviveSplitsAndANodeKilledBetweenThem() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.start(dir)) {
            try {
                exercise(cluster);
            } catch (AssertionError | RuntimeException e) {
                System.out.println(cluster.logs());
                throw e;
            }
        }
    }

    private void exercise(ProcessCluster cluster) throws Exception {
        List<ServerProcess> nodes = cluster.members();
        var admin = AdminGrpc.newBlockingStub(cluster.channel(nodes.get(0)));
        admin.withDeadlineAfter(120, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder()
                .setName("users").setSharding("range").setReplicationFactor(3).setInitialShardCount(1).build());

        var writers = new AckedWriters(cluster, "users");
        Map<String, String> acked = writers.acked();
        try {
            writers.awaitMore(300);
            split(admin, ShardSplitProcessTest::lowest);
            writers.awaitMore(200);

            ServerProcess victim = nodes.get(2);
            victim.kill();
            split(admin, ShardSplitProcessTest::lowest);
            writers.awaitMore(100);
            split(admin, ShardSplitProcessTest::highest);
            writers.awaitMore(200);

            victim.start();
            victim.awaitListening(ProcessCluster.STARTUP);
            writers.awaitMore(200);
            split(admin, ShardSplitProcessTest::lowest);
            writers.awaitMore(200);
        } finally {
            writers.close();
        }
        assertThat(shards(admin)).hasSize(5);
        System.out.printf("shard_splits acknowledged=%d shards=%d%n", acked.size(), shards(admin).size());

        AckedWriters.assertEveryAckedReadable(cluster, "users", acked);
        assertThat(nodes).as("no server stopped on its own (a Raft loop that fails ends its process)")
                .allMatch(ServerProcess::alive);

        // every node's own replicas (serializable reads are served locally) hold each key once
        for (ServerProcess node : nodes) {
            ProcessCluster.await(node.name + "'s replicas hold every key in exactly one shard",
                    Duration.ofSeconds(60), () -> SplitChecks.eachKeyInOneShard(admin,
                            ShardKVGrpc.newBlockingStub(cluster.channel(node)), "users", acked.keySet()));
        }
    }

    /**
     * Splits the shard {@code which} picks, retrying while the meta group has no leader (n3 may
     * have led it when killed); a retry first checks whether the last attempt took effect.
     */
    private static void split(AdminGrpc.AdminBlockingStub admin, java.util.function.ToLongFunction<List<ShardInfo>> which)
            throws InterruptedException {
        int before = shards(admin).size();
        ProcessCluster.await("a split", Duration.ofSeconds(60), () -> {
            try {
                List<ShardInfo> now = admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(
                        ListShardsRequest.newBuilder().setKeyspace("users").build()).getShardsList();
                if (now.size() > before) {
                    return true;
                }
                long shard = which.applyAsLong(now);
                var split = admin.withDeadlineAfter(30, TimeUnit.SECONDS).splitShard(SplitShardRequest.newBuilder()
                        .setShard(shard).build());
                System.out.printf("shard_split shard=s%d created=s%d span=%s%n", shard,
                        split.getCreated().getShard().getId(), split.getCreated().getSpan());
                return true;
            } catch (StatusRuntimeException notNow) {
                return false;
            }
        });
    }

    private static List<ShardInfo> shards(AdminGrpc.AdminBlockingStub admin) throws InterruptedException {
        return SplitChecks.shardList(admin, "users");
    }

    private static long lowest(List<ShardInfo> shards) {
        return shards.stream().filter(s -> ShardCodec.decode(s.getShard()).keyRange().start().equals(Key.MIN))
                .findFirst().orElseThrow().getShard().getId();
    }

    private static long highest(List<ShardInfo> shards) {
        return shards.stream().filter(s -> ShardCodec.decode(s.getShard()).keyRange().end().isEnd())
                .findFirst().orElseThrow().getShard().getId();
    }
}
