package dev.atoll.server.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A server that cannot listen ends with exit code 1 and says which address it could not take,
 * instead of lingering with its runtime's threads and a port no client can reach.
 */
class ServerStartFailureTest {
    @TempDir
    Path dir;

    @Test
    void aTakenClientPortEndsTheProcessWithAClearError() throws Exception {
        try (var taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", ServerProcess.freePort()));
            int clientPort = taken.getLocalPort();
            int peerPort = ServerProcess.freePort();
            var server = new ServerProcess("n1", clientPort, peerPort, dir.resolve("n1"), "n1=127.0.0.1:" + peerPort);
            try {
                server.start();
                OptionalInt exit = server.awaitExit(Duration.ofSeconds(60));
                assertThat(exit).as(server.log()).hasValue(1);
                assertThat(server.log()).contains("atoll server: cannot start: cannot listen for clients on /127.0.0.1:"
                        + clientPort);
            } finally {
                server.stop();
            }
        }
    }
}
