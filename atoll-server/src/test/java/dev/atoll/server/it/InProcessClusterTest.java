package dev.atoll.server.it;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Three AtollServers in one JVM on 127.0.0.1: every member serves writes and linearizable reads. */
class InProcessClusterTest {
    @TempDir
    Path dir;

    private final List<AtollServer> servers = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(Client::close);
        servers.forEach(AtollServer::close);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Test
    void everyMemberServesWritesAndReadsThroughTheLeader() throws Exception {
        int[] client = {ServerProcess.freePort(), ServerProcess.freePort(), ServerProcess.freePort()};
        int[] peer = {ServerProcess.freePort(), ServerProcess.freePort(), ServerProcess.freePort()};
        int metricsPort = ServerProcess.freePort();
        String cluster = "n1=127.0.0.1:" + peer[0] + ",n2=127.0.0.1:" + peer[1] + ",n3=127.0.0.1:" + peer[2];
        for (int i = 0; i < 3; i++) {
            var config = ServerConfig.fromArgs(new String[] {"--name", "n" + (i + 1),
                    "--data-dir", dir.resolve("n" + (i + 1)).toString(),
                    "--listen-client", "127.0.0.1:" + client[i], "--listen-peer", "127.0.0.1:" + peer[i],
                    "--initial-cluster", cluster, "--listen-metrics", "127.0.0.1:" + (i == 0 ? metricsPort : 0)});
            var server = new AtollServer(config);
            server.start();
            servers.add(server);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        // every member knows the leader (a member that has not heard from it yet says "no leader")
        while (servers.stream().noneMatch(s -> {
            LogStatus st = s.runtime().status(AtollServer.DEFAULT_GROUP);
            return st != null && st.role() == Role.LEADER;
        }) || servers.stream().anyMatch(s -> {
            LogStatus st = s.runtime().status(AtollServer.DEFAULT_GROUP);
            return st == null || st.leader() == null;
        })) {
            assertThat(System.nanoTime()).as("a leader known to every member within 20 s").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(20);
        }
        for (int i = 0; i < 3; i++) {
            Client c = Client.builder().endpoints("http://127.0.0.1:" + client[i]).build();
            clients.add(c);
            c.getKVClient().put(bytes("k" + i), bytes("v" + i)).get(10, TimeUnit.SECONDS);
        }
        for (Client c : clients) {
            for (int i = 0; i < 3; i++) {
                var got = c.getKVClient().get(bytes("k" + i)).get(10, TimeUnit.SECONDS);
                assertThat(got.getKvs()).hasSize(1);
                assertThat(got.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8)).isEqualTo("v" + i);
            }
        }
        // a value near the request limit (1.5 MiB) through every member: followers relay it to the
        // leader, the leader replicates it, each in one peer message
        String large = "L".repeat(1_400_000);
        for (int i = 0; i < 3; i++) {
            clients.get(i).getKVClient().put(bytes("large" + i), bytes(large)).get(20, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 3; i++) {
            var got = clients.get((i + 1) % 3).getKVClient().get(bytes("large" + i)).get(10, TimeUnit.SECONDS);
            assertThat(got.getKvs().get(0).getValue().getBytes()).hasSize(large.length());
        }
        var scrape = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                        .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.body()).contains("atoll_raft_applies_total", "atoll_wal_fsync_seconds_bucket",
                "atoll_api_request_seconds_count{code=\"OK\",method=\"etcdserverpb.KV/Put\"}",
                "atoll_raft_leader_changes_total");
    }
}
