package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rough figures, not a gate (run with -Datoll.measure=true): put throughput through 1, 4 and
 * 16 shards, and each node's resident set with 100 and 500 shard replicas hosted (replication
 * factor 3 on 3 nodes: every node hosts every shard).
 */
@EnabledIfSystemProperty(named = "atoll.measure", matches = "true")
class ShardScaleMeasurement {
    static final int CLIENT_THREADS = 16;
    static final long SECONDS_PER_RUN = 10;

    @TempDir
    Path dir;

    @Test
    void measure() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.start(dir)) {
            List<ServerProcess> nodes = cluster.members();
            var admin = AdminGrpc.newBlockingStub(cluster.channel(nodes.get(0)));
            System.out.printf("measure rss_kib shards=0 %s%n", ShardedClusterProcessTest.rss(nodes));
            int hosted = 0;
            for (int shards : new int[] {1, 4, 16}) {
                create(admin, "t" + shards, shards);
                hosted += shards;
                System.out.printf("measure put_per_second shards=%d value=%.0f%n", shards,
                        putsPerSecond(cluster, nodes, "t" + shards));
            }
            create(admin, "fill1", 100 - hosted);
            Thread.sleep(5_000);
            System.out.printf("measure rss_kib shards=100 led=%d %s%n", led(admin),
                    ShardedClusterProcessTest.rss(nodes));
            for (int i = 0; i < 2; i++) {
                create(admin, "fill" + (2 + i), 200);
            }
            Thread.sleep(5_000);
            System.out.printf("measure rss_kib shards=500 led=%d %s%n", led(admin),
                    ShardedClusterProcessTest.rss(nodes));
        }
    }

    /** Shards whose leader the map knows. */
    private static long led(AdminGrpc.AdminBlockingStub admin) {
        return admin.withDeadlineAfter(30, TimeUnit.SECONDS).listShards(
                dev.atoll.proto.admin.ListShardsRequest.getDefaultInstance()).getShardsList().stream()
                .filter(s -> !s.getShard().getLeaderHint().isEmpty()).count();
    }

    private static void create(AdminGrpc.AdminBlockingStub admin, String name, int shards) {
        admin.withDeadlineAfter(180, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder().setName(name)
                .setSharding("hash").setReplicationFactor(3).setInitialShardCount(shards).build());
    }

    private static double putsPerSecond(ProcessCluster cluster, List<ServerProcess> nodes, String keyspace)
            throws InterruptedException {
        var done = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS_PER_RUN);
        var threads = new ArrayList<Thread>();
        for (int t = 0; t < CLIENT_THREADS; t++) {
            int thread = t;
            threads.add(Thread.ofPlatform().start(() -> {
                var stub = ShardKVGrpc.newBlockingStub(cluster.channel(nodes.get(thread % nodes.size())));
                for (long i = 0; System.nanoTime() < end; i++) {
                    try {
                        stub.withDeadlineAfter(10, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKeyspace(keyspace)
                                .setKey(ByteString.copyFromUtf8("k" + thread + "-" + i))
                                .setValue(ByteString.copyFromUtf8("v".repeat(64))).build());
                        done.incrementAndGet();
                    } catch (StatusRuntimeException refused) {
                        // counted out
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        return done.get() / (double) SECONDS_PER_RUN;
    }
}
