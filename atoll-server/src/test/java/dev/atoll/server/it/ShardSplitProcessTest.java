package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.shard.Key;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

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

        var acked = new ConcurrentHashMap<String, String>();
        var stop = new AtomicBoolean();
        var writers = new ArrayList<Thread>();
        for (int w = 0; w < 3; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                for (long seq = 0; !stop.get(); seq++) {
                    // keys spread over the key space, so every part of every split is written
                    String key = String.format("%02x-w%d-%d", (seq * 37 + writer * 11) % 256, writer, seq);
                    String value = "v" + seq;
                    // writes go through n1 and n2 only: n3 is down for a while
                    ServerProcess via = nodes.get((int) ((seq + writer) % 2));
                    try {
                        ShardKVGrpc.newBlockingStub(cluster.channel(via)).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .put(PutRequest.newBuilder().setKeyspace("users").setKey(b(key))
                                        .setValue(b(value)).build());
                        acked.put(key, value);
                    } catch (StatusRuntimeException notAcknowledged) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // pace the next attempt
                    }
                }
            }));
        }
        try {
            awaitMore(acked, 300);
            split(admin, ShardSplitProcessTest::lowest);
            awaitMore(acked, 200);

            ServerProcess victim = nodes.get(2);
            victim.kill();
            split(admin, ShardSplitProcessTest::lowest);
            awaitMore(acked, 100);
            split(admin, ShardSplitProcessTest::highest);
            awaitMore(acked, 200);

            victim.start();
            victim.awaitListening(ProcessCluster.STARTUP);
            awaitMore(acked, 200);
            split(admin, ShardSplitProcessTest::lowest);
            awaitMore(acked, 200);
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join(30_000);
            }
        }
        assertThat(shards(admin)).hasSize(5);
        System.out.printf("shard_splits acknowledged=%d shards=%d%n", acked.size(), shards(admin).size());

        int i = 0;
        for (Map.Entry<String, String> e : acked.entrySet()) {
            ServerProcess via = nodes.get(i++ % nodes.size());
            var got = ProcessCluster.awaitValue("a read of " + e.getKey(), Duration.ofSeconds(30), () -> {
                try {
                    return Optional.of(ShardKVGrpc.newBlockingStub(cluster.channel(via))
                            .withDeadlineAfter(10, TimeUnit.SECONDS).get(GetRequest.newBuilder()
                                    .setKeyspace("users").setKey(b(e.getKey())).build()));
                } catch (StatusRuntimeException notNow) {
                    return Optional.empty();
                }
            });
            assertThat(got.getFound()).as("acknowledged %s found", e.getKey()).isTrue();
            assertThat(got.getValue().toStringUtf8()).isEqualTo(e.getValue());
        }

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
        return ProcessCluster.awaitValue("the shard list", Duration.ofSeconds(60), () -> {
            try {
                return Optional.of(admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(ListShardsRequest
                        .newBuilder().setKeyspace("users").build()).getShardsList());
            } catch (StatusRuntimeException notNow) {
                return Optional.empty();
            }
        });
    }

    private static long lowest(List<ShardInfo> shards) {
        return shards.stream().filter(s -> ShardCodec.decode(s.getShard()).keyRange().start().equals(Key.MIN))
                .findFirst().orElseThrow().getShard().getId();
    }

    private static long highest(List<ShardInfo> shards) {
        return shards.stream().filter(s -> ShardCodec.decode(s.getShard()).keyRange().end().isEnd())
                .findFirst().orElseThrow().getShard().getId();
    }

    private static void awaitMore(Map<String, String> acked, int more) throws InterruptedException {
        int target = acked.size() + more;
        ProcessCluster.await(more + " more acknowledged writes", Duration.ofSeconds(60), () -> acked.size() >= target);
    }
}
