package dev.atoll.bench.load;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

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

    private static boolean leads(AtollServer server) {
        LogStatus status = server.runtime().status(AtollServer.DEFAULT_GROUP);
        return status != null && status.role() == Role.LEADER;
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
