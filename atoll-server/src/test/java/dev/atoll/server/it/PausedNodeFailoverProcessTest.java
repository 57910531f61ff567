package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node that hangs (kill -STOP) keeps its TCP connections up, so only node liveness (the peers'
 * probes on each peer link, one per node pair and shared by every group) notices it. Idle shard
 * groups it leads are quiesced (no heartbeats, no timers): they must still elect other leaders
 * within seconds, not after the connection keepalive gives up (30 s + 10 s), lose no
 * acknowledged write, and not change leaders again when the node comes back (kill -CONT).
 */
class PausedNodeFailoverProcessTest {
    private static final int SHARDS = 4;

    @TempDir
    Path dir;

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void quiescedShardsLedByAHungNodeFailOverWithinSecondsAndStayPutWhenItResumes() throws Exception {
        int[] metricsPorts = {ServerProcess.freePort(), ServerProcess.freePort(), ServerProcess.freePort()};
        // leaders stay where the test puts them: any later change is an election
        try (ProcessCluster cluster = ProcessCluster.start(dir,
                i -> List.of("--listen-metrics", "127.0.0.1:" + metricsPorts[i], "--rebalance", "off"))) {
            try {
                exercise(cluster, metricsPorts);
            } catch (AssertionError | RuntimeException e) {
                System.out.println(cluster.logs());
                throw e;
            }
        }
    }

    private void exercise(ProcessCluster cluster, int[] metricsPorts) throws Exception {
        List<ServerProcess> nodes = cluster.members();
        var admin = AdminGrpc.newBlockingStub(cluster.channel(nodes.get(0)));
        admin.withDeadlineAfter(60, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder()
                .setName("users").setSharding("hash").setReplicationFactor(3).setInitialShardCount(SHARDS).build());
        // n3 is the one to hang: AckedWriters write through n1 and n2
        int hung = 2;
        String hungName = nodes.get(hung).name;
        List<ShardInfo> shards = ProcessCluster.awaitValue("every shard's leader in the map", Duration.ofSeconds(60),
                () -> {
                    var list = admin.withDeadlineAfter(5, TimeUnit.SECONDS)
                            .listShards(ListShardsRequest.newBuilder().setKeyspace("users").build()).getShardsList();
                    return list.stream().allMatch(s -> !s.getShard().getLeaderHint().isEmpty())
                            ? Optional.of(list) : Optional.empty();
                });
        for (ShardInfo s : shards) {
            if (!s.getShard().getLeaderHint().equals(hungName)) {
                InProcessCluster.retried(() -> admin.withDeadlineAfter(30, TimeUnit.SECONDS).transferShardLeader(
                        TransferShardLeaderRequest.newBuilder().setShard(s.getShard().getId()).setTo(hungName).build()));
            }
        }
        ProcessCluster.await("every shard led by " + hungName, Duration.ofSeconds(60),
                () -> leaders(cluster, nodes.get(0)).map(l -> l.stream().allMatch(hungName::equals)).orElse(false));
        var acked = new java.util.HashMap<String, String>();
        for (int i = 0; i < 40; i++) {
            put(cluster, nodes.get(i % 2), "key-" + i, "v" + i, 20);
            acked.put("key-" + i, "v" + i);
        }
        ProcessCluster.await("the idle shard groups quiesced on " + hungName, Duration.ofSeconds(30),
                () -> quiescedGroups(metricsPorts[hung]) >= SHARDS);

        List<String> leadersAfterFailover;
        nodes.get(hung).pause();
        try {
            long started = System.nanoTime();
            // no client request wakes the quiesced groups (a proposal would start a follower's
            // election timer): node liveness must, and the new leaders report to the map
            leadersAfterFailover = ProcessCluster.awaitValue("every shard led elsewhere, with no client traffic",
                    Duration.ofSeconds(60), () -> leaders(cluster, nodes.get(0)).filter(l -> !l.contains(hungName)));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            System.out.printf("paused_node_failover shards_led_by_hung=%d all_led_elsewhere_after_ms=%d%n", SHARDS,
                    millis);
            // the peer keepalive alone would take 40 s (30 s + 10 s); node liveness lapses after 3 s
            assertThat(millis).as("quiesced shards failed over without traffic, in ms").isLessThan(15_000);
            for (int i = 0; i < 40; i++) {
                put(cluster, nodes.get(i % 2), "key-" + i, "after-" + i, 20);
                acked.put("key-" + i, "after-" + i);
            }
        } finally {
            nodes.get(hung).resume();
        }
        try (AckedWriters writers = new AckedWriters(cluster, "users")) {
            writers.awaitMore(200);
            writers.close();
            acked.putAll(writers.acked());
        }
        // every acknowledged write, through every node: the resumed one serves them too
        AckedWriters.assertEveryAckedReadable(cluster, "users", acked);
        // the resumed node took back nothing: no election followed its return
        assertThat(leaders(cluster, nodes.get(0))).contains(leadersAfterFailover);
    }

    /** The shards' leader hints in the map, asked through {@code via}; empty while it cannot answer. */
    private static Optional<List<String>> leaders(ProcessCluster cluster, ServerProcess via) {
        try {
            return Optional.of(AdminGrpc.newBlockingStub(cluster.channel(via)).withDeadlineAfter(3, TimeUnit.SECONDS)
                    .listShards(ListShardsRequest.newBuilder().setKeyspace("users").build()).getShardsList().stream()
                    .map(s -> s.getShard().getLeaderHint()).toList());
        } catch (StatusRuntimeException notNow) {
            return Optional.empty();
        }
    }

    /** Puts, retrying refusals (no leader yet, a forward that timed out) until {@code seconds} have passed. */
    private static void put(ProcessCluster cluster, ServerProcess via, String key, String value, int seconds)
            throws InterruptedException {
        ProcessCluster.await("put " + key + " through " + via.name, Duration.ofSeconds(seconds), () -> {
            try {
                ShardKVGrpc.newBlockingStub(cluster.channel(via)).withDeadlineAfter(3, TimeUnit.SECONDS)
                        .put(PutRequest.newBuilder().setKeyspace("users").setKey(b(key)).setValue(b(value)).build());
                return true;
            } catch (StatusRuntimeException notYet) {
                return false;
            }
        });
    }

    /** The node's atoll_raft_groups_quiesced gauge, from its /metrics. */
    private static double quiescedGroups(int metricsPort) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            return body.lines().filter(l -> l.startsWith("atoll_raft_groups_quiesced"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).findFirst().orElse(0);
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }
}
