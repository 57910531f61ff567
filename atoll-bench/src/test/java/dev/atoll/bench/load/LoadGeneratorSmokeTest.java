package dev.atoll.bench.load;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The generator end to end against one in-process Atoll member: it connects, sends, and
 * counts. Not a benchmark: nothing here looks at how fast it went.
 */
class LoadGeneratorSmokeTest {
    @TempDir
    Path dir;

    @Test
    void putsForOneSecondAgainstOneAtollMemberWithoutErrors() throws Exception {
        int clientPort = freePort();
        var config = ServerConfig.fromArgs(new String[] {"--name", "n1", "--data-dir", dir.resolve("n1").toString(),
                "--listen-client", "127.0.0.1:" + clientPort, "--listen-peer", "127.0.0.1:" + freePort()});
        try (var server = new AtollServer(config)) {
            server.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!leads(server)) {
                assertThat(System.nanoTime()).as("the member leads within 10 s").isLessThan(deadline);
                TimeUnit.MILLISECONDS.sleep(20);
            }
            var options = LoadOptions.parse(("put --endpoints 127.0.0.1:" + clientPort
                    + " --conns 2 --clients 8 --duration 1s --key-count 100 --no-progress").split(" "));

            LoadResult result = new LoadGenerator(options, System.err).run();

            assertThat(result.errors()).isEmpty();
            assertThat(result.opCount()).isPositive();
            assertThat(result.latency().count()).isEqualTo(result.opCount());
            assertThat(result.toJson()).contains("\"errorCount\":0");
        }
    }

    @Test
    void mixedLoadOnAShardedKeyspaceThroughTheClientWithoutErrors() throws Exception {
        int clientPort = freePort();
        int peerPort = freePort();
        var config = ServerConfig.fromArgs(new String[] {"--name", "n1", "--data-dir", dir.resolve("n1").toString(),
                "--listen-client", "127.0.0.1:" + clientPort, "--listen-peer", "127.0.0.1:" + peerPort,
                "--initial-cluster", "n1=127.0.0.1:" + peerPort});
        try (var server = new AtollServer(config)) {
            server.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!server.memberTable().seeded() || server.memberTable().current().stream().noneMatch(m -> m.started())) {
                assertThat(System.nanoTime()).as("a started member within 30 s").isLessThan(deadline);
                TimeUnit.MILLISECONDS.sleep(20);
            }
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientPort).usePlaintext().build();
            try {
                AdminGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).createKeyspace(
                        CreateKeyspaceRequest.newBuilder().setName("users").setSharding("hash")
                                .setReplicationFactor(1).setInitialShardCount(4).build());
            } finally {
                channel.shutdownNow();
            }
            var options = LoadOptions.parse(("mixed --keyspace users --endpoints 127.0.0.1:" + clientPort
                    + " --clients 8 --duration 1s --key-count 100 --read-ratio 0.5 --no-progress").split(" "));

            LoadResult result = new LoadGenerator(options, System.err).run();

            assertThat(result.errors()).isEmpty();
            assertThat(result.opCount()).isPositive();
            assertThat(result.toJson()).contains("\"keyspace\":\"users\"", "\"errorCount\":0");
            assertThat(result.toText()).startsWith("mixed on keyspace users: ");
        }
    }

    @Test
    void aMissingKeyspaceEndsTheRunWithItsCode() throws Exception {
        int clientPort = freePort();
        var config = ServerConfig.fromArgs(new String[] {"--name", "n1", "--data-dir", dir.resolve("n1").toString(),
                "--listen-client", "127.0.0.1:" + clientPort, "--listen-peer", "127.0.0.1:" + freePort()});
        try (var server = new AtollServer(config)) {
            server.start();
            // the keyspace lookup needs the meta group's leader: without one it is refused NO_LEADER (retried)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!leads(server, AtollServer.META_GROUP)) {
                assertThat(System.nanoTime()).as("the member leads the meta group within 10 s").isLessThan(deadline);
                TimeUnit.MILLISECONDS.sleep(20);
            }
            var options = LoadOptions.parse(("put --keyspace nowhere --endpoints 127.0.0.1:" + clientPort
                    + " --duration 1s --no-progress").split(" "));

            assertThatThrownBy(() -> new LoadGenerator(options, System.err).run())
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("KEYSPACE_NOT_FOUND");
        }
    }

    private static boolean leads(AtollServer server) {
        return leads(server, AtollServer.DEFAULT_GROUP);
    }

    private static boolean leads(AtollServer server, long group) {
        LogStatus status = server.runtime().status(group);
        return status != null && status.role() == Role.LEADER;
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
