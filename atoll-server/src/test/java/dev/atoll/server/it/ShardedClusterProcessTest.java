package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.KeyValue;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.RouteToken;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.proto.shardkv.ShardRangeRequest;
import dev.atoll.proto.shardmap.ReplicaRecord;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.ShardDescriptor;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real server processes holding a range and a hash keyspace of 128 shards each (two
 * replicas per shard): under a write load through every node, shards split (at a key or slot
 * from their data) and move between nodes, leaders are transferred and one node is killed with
 * -9 and restarted. Afterwards every
 * acknowledged write is readable, and no key is held by two shards.
 */
class ShardedClusterProcessTest {
    static final int SHARDS_PER_KEYSPACE = 128;
    static final int MOVES = 8;
    static final int TRANSFERS = 8;
    static final int SPLITS = 4;

    @TempDir
    Path dir;

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void acknowledgedWritesSurviveMovesTransfersAndAKilledNode() throws Exception {
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
        {
            List<ServerProcess> nodes = cluster.members();
            var admin = AdminGrpc.newBlockingStub(cluster.channel(nodes.get(0)));
            long started = System.nanoTime();
            admin.withDeadlineAfter(120, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder()
                    .setName("users").setSharding("range").setReplicationFactor(2)
                    .setInitialShardCount(SHARDS_PER_KEYSPACE).build());
            admin.withDeadlineAfter(120, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder()
                    .setName("carts").setSharding("hash").setReplicationFactor(2)
                    .setInitialShardCount(SHARDS_PER_KEYSPACE).build());
            System.out.printf("sharded_cluster created=%d shards in %d ms rss_kib=%s%n", 2 * SHARDS_PER_KEYSPACE,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), rss(nodes));

            var acked = new ConcurrentHashMap<String, String>(); // "keyspace/key" -> value
            var stop = new AtomicBoolean();
            var failures = new AtomicLong();
            var writers = new ArrayList<Thread>();
            for (int w = 0; w < 3; w++) {
                int writer = w;
                writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                    var random = new Random(writer);
                    for (long seq = 0; !stop.get(); seq++) {
                        String keyspace = seq % 2 == 0 ? "users" : "carts";
                        // range keys spread over every first byte, so every range shard is written
                        String key = String.format("%c%02x-w%d-%d", (char) ('0' + random.nextInt(75)),
                                random.nextInt(256), writer, seq);
                        String value = "v" + seq;
                        ServerProcess via = nodes.get((int) (seq % nodes.size()));
                        try {
                            ShardKVGrpc.newBlockingStub(cluster.channel(via)).withDeadlineAfter(10, TimeUnit.SECONDS)
                                    .put(PutRequest.newBuilder().setKeyspace(keyspace).setKey(b(key))
                                            .setValue(b(value)).build());
                            acked.put(keyspace + "/" + key, value);
                        } catch (StatusRuntimeException notAcknowledged) {
                            failures.incrementAndGet();
                        }
                    }
                }));
            }

            ProcessCluster.await("a first thousand writes", Duration.ofSeconds(60), () -> acked.size() >= 1000);
            var random = new Random(42);
            for (int i = 0; i < MOVES; i++) {
                ShardInfo shard = randomShard(admin, random);
                List<String> on = shard.getShard().getReplicasList().stream().map(ReplicaRecord::getNode).toList();
                String to = List.of("n1", "n2", "n3").stream().filter(n -> !on.contains(n)).findFirst().orElseThrow();
                var moved = admin.withDeadlineAfter(90, TimeUnit.SECONDS).moveShard(MoveShardRequest.newBuilder()
                        .setShard(shard.getShard().getId()).setFrom(on.get(random.nextInt(on.size()))).setTo(to)
                        .setWait(true).build());
                assertThat(moved.getDone()).as("move of s%d done", shard.getShard().getId()).isTrue();
            }
            for (int i = 0; i < SPLITS; i++) {
                split(admin, random, i % 2 == 0 ? "users" : "carts");
            }
            assertThat(shardCount(admin)).isEqualTo(2 * SHARDS_PER_KEYSPACE + SPLITS);
            for (int i = 0; i < TRANSFERS; i++) {
                ShardInfo shard = randomShard(admin, random);
                String to = shard.getShard().getReplicasList().stream().map(ReplicaRecord::getNode)
                        .filter(n -> !n.equals(shard.getShard().getLeaderHint())).findFirst().orElseThrow();
                var transferred = admin.withDeadlineAfter(30, TimeUnit.SECONDS).transferShardLeader(
                        TransferShardLeaderRequest.newBuilder().setShard(shard.getShard().getId()).setTo(to).build());
                assertThat(transferred.getShard().getShard().getLeaderHint()).isEqualTo(to);
            }
            long beforeKill = acked.size();
            ServerProcess victim = nodes.get(2);
            victim.kill();
            ProcessCluster.await("writes go on while n3 is down", Duration.ofSeconds(60),
                    () -> acked.size() >= beforeKill + 500);
            victim.start();
            victim.awaitListening(ProcessCluster.STARTUP);
            long afterRestart = acked.size();
            ProcessCluster.await("writes after n3 is back", Duration.ofSeconds(60),
                    () -> acked.size() >= afterRestart + 500);
            stop.set(true);
            for (Thread t : writers) {
                t.join(30_000);
            }
            System.out.printf("sharded_cluster acknowledged=%d refused_or_unknown=%d rss_kib=%s%n", acked.size(),
                    failures.get(), rss(nodes));

            // every acknowledged write is readable (linearizable reads, through every node)
            int i = 0;
            for (Map.Entry<String, String> e : acked.entrySet()) {
                String keyspace = e.getKey().substring(0, e.getKey().indexOf('/'));
                String key = e.getKey().substring(keyspace.length() + 1);
                ServerProcess via = nodes.get(i++ % nodes.size());
                var got = ProcessCluster.awaitValue("a read of " + e.getKey(), Duration.ofSeconds(30), () -> {
                    try {
                        return java.util.Optional.of(ShardKVGrpc.newBlockingStub(cluster.channel(via))
                                .withDeadlineAfter(10, TimeUnit.SECONDS).get(GetRequest.newBuilder()
                                        .setKeyspace(keyspace).setKey(b(key)).build()));
                    } catch (StatusRuntimeException notNow) {
                        return java.util.Optional.empty();
                    }
                });
                assertThat(got.getFound()).as("acknowledged %s found", e.getKey()).isTrue();
                assertThat(got.getValue().toStringUtf8()).isEqualTo(e.getValue());
            }

            // no key in two shards: each shard holds only keys the map routes to it
            var owner = new HashMap<String, Long>();
            for (ShardInfo s : admin.withDeadlineAfter(10, TimeUnit.SECONDS)
                    .listShards(ListShardsRequest.getDefaultInstance()).getShardsList()) {
                ShardDescriptor d = ShardCodec.decode(s.getShard());
                var part = ShardKVGrpc.newBlockingStub(cluster.channel(nodes.get(0))).withDeadlineAfter(30,
                        TimeUnit.SECONDS).shardRange(ShardRangeRequest.newBuilder().setKeyspace(d.keyspace())
                        .setRoute(RouteToken.newBuilder().setShard(d.id().value())
                                .setEpoch(ShardCodec.encode(d.epoch()))).build());
                for (KeyValue kv : part.getPairsList()) {
                    String k = d.keyspace() + "/" + kv.getKey().toStringUtf8();
                    assertThat(owner.put(k, d.id().value())).as("%s in one shard", k).isNull();
                    assertThat(owns(d, Key.of(kv.getKey().toByteArray()))).as("%s belongs to %s", k, d.id()).isTrue();
                }
            }
            assertThat(owner.keySet()).containsAll(acked.keySet());
        }
    }

    private static boolean owns(ShardDescriptor d, Key key) {
        return switch (d.span()) {
            case dev.atoll.shard.KeyRange r -> r.contains(key);
            case dev.atoll.shard.HashSlots h -> h.contains(KeyHash.slot(key, 16384));
            case dev.atoll.shard.ShardSpan.Directed x -> true;
        };
    }

    /**
     * Splits a random shard of {@code keyspace} at the key (or slot) its leader picks from its
     * data; a shard refused (moving, no leader yet, too few keys to pick from) is swapped for
     * another.
     */
    private static void split(AdminGrpc.AdminBlockingStub admin, Random random, String keyspace)
            throws InterruptedException {
        int before = shardCount(admin);
        ProcessCluster.await("a split", Duration.ofSeconds(60), () -> {
            if (shardCount(admin) > before) {
                return true; // an earlier attempt split, though its answer was lost
            }
            ShardInfo shard = randomShard(admin, random, keyspace);
            try {
                var split = admin.withDeadlineAfter(30, TimeUnit.SECONDS).splitShard(SplitShardRequest.newBuilder()
                        .setShard(shard.getShard().getId()).build());
                System.out.printf("sharded_cluster split=s%d created=s%d span=%s%n", shard.getShard().getId(),
                        split.getCreated().getShard().getId(), split.getCreated().getSpan());
                return true;
            } catch (StatusRuntimeException refused) {
                System.out.printf("sharded_cluster split=s%d refused=%s%n", shard.getShard().getId(),
                        refused.getStatus());
                return false;
            }
        });
    }

    private static int shardCount(AdminGrpc.AdminBlockingStub admin) {
        return admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(ListShardsRequest.getDefaultInstance())
                .getShardsCount();
    }

    private static ShardInfo randomShard(AdminGrpc.AdminBlockingStub admin, Random random) {
        return randomShard(admin, random, "");
    }

    /** A random shard of {@code keyspace} (of any keyspace if empty) with a leader and not moving. */
    private static ShardInfo randomShard(AdminGrpc.AdminBlockingStub admin, Random random, String keyspace) {
        List<ShardInfo> shards = admin.withDeadlineAfter(10, TimeUnit.SECONDS)
                .listShards(ListShardsRequest.newBuilder().setKeyspace(keyspace).build()).getShardsList().stream()
                .filter(s -> s.getMovingTo().isEmpty() && !s.getShard().getLeaderHint().isEmpty()).toList();
        return shards.get(random.nextInt(shards.size()));
    }

    /** Each live process's resident set, from /proc. */
    static String rss(List<ServerProcess> nodes) {
        var out = new StringBuilder();
        for (ServerProcess s : nodes) {
            String kib = "-";
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + s.pid() + "/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        kib = line.replaceAll("\\D", "");
                    }
                }
            } catch (java.io.IOException | RuntimeException gone) {
                // not running, or not Linux
            }
            out.append(out.isEmpty() ? "" : ",").append(s.name).append('=').append(kib);
        }
        return out.toString();
    }
}
