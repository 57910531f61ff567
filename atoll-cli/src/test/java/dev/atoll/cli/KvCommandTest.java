package dev.atoll.cli;

import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code atoll kv put|get|del|scan} against a one-node server in this JVM. */
class KvCommandTest {
    @TempDir
    Path dir;
    private AtollServer server;
    private String endpoint;

    /** What one command printed and returned. */
    record Run(int exitCode, String out, String err) {
    }

    @BeforeEach
    void startServer() throws Exception {
        int client = freePort();
        int peer = freePort();
        server = new AtollServer(ServerConfig.fromArgs(new String[] {"--name", "n1", "--data-dir",
                dir.resolve("n1").toString(), "--listen-client", "127.0.0.1:" + client,
                "--listen-peer", "127.0.0.1:" + peer, "--initial-cluster", "n1=127.0.0.1:" + peer}));
        server.start();
        endpoint = "127.0.0.1:" + client;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!server.memberTable().seeded() || server.memberTable().current().stream().noneMatch(m -> m.started())) {
            assertThat(System.nanoTime()).as("a seeded member table within 30 s").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    /** A port below the kernel's ephemeral range (as the server module's ServerProcess picks them). */
    private static int freePort() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(10_000, 32_000);
            try (var s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // another one
            }
        }
        throw new IOException("no free port");
    }

    private Run atoll(String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        var cli = new CommandLine(new Atoll()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        String[] withEndpoint = Stream.concat(Arrays.stream(args), Stream.of("--endpoints", endpoint))
                .toArray(String[]::new);
        int code = cli.execute(withEndpoint);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void keysAreWrittenReadDeletedAndScannedAcrossShards() {
        assertThat(atoll("keyspace", "create", "users", "--replication-factor", "1").exitCode()).isZero();
        assertThat(atoll("shard", "split", "s1", "--at", "m").exitCode()).isZero();

        for (String name : new String[] {"alice", "bob", "mallory", "trent", "zoe"}) {
            Run put = atoll("kv", "put", name, "hello " + name, "--keyspace", "users");
            assertThat(put.exitCode()).as(put.err()).isZero();
            assertThat(put.out()).isEqualTo("OK\n");
        }
        assertThat(atoll("kv", "get", "trent", "--keyspace", "users").out()).isEqualTo("hello trent\n");
        assertThat(atoll("kv", "get", "bob", "--keyspace", "users", "--serializable").out()).isEqualTo("hello bob\n");

        Run scan = atoll("kv", "scan", "--keyspace", "users", "--from", "b", "--limit", "3");
        assertThat(scan.exitCode()).as(scan.err()).isZero();
        assertThat(scan.out().lines()).containsExactly("bob\thello bob", "mallory\thello mallory", "trent\thello trent");
        assertThat(scan.err()).contains("more keys after trent");
        assertThat(atoll("kv", "scan", "--keyspace", "users", "--to", "c").out().lines())
                .containsExactly("alice\thello alice", "bob\thello bob");

        assertThat(atoll("kv", "del", "mallory", "--keyspace", "users").out()).isEqualTo("1\n");
        assertThat(atoll("kv", "del", "mallory", "--keyspace", "users").out()).isEqualTo("0\n");
        Run gone = atoll("kv", "get", "mallory", "--keyspace", "users");
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.out()).isEmpty();
        assertThat(gone.err()).startsWith("atoll: KEY_NOT_FOUND:");
        assertThat(atoll("kv", "scan", "--keyspace", "users").out().lines()).hasSize(4);
    }

    @Test
    void refusalsArePrintedWithTheirCode() {
        Run unknown = atoll("kv", "put", "k", "v", "--keyspace", "nowhere");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.err()).startsWith("atoll: KEYSPACE_NOT_FOUND:");
        assertThat(atoll("kv", "scan", "--keyspace", "nowhere").err()).startsWith("atoll: KEYSPACE_NOT_FOUND:");

        atoll("keyspace", "create", "users", "--replication-factor", "1");
        Run empty = atoll("kv", "put", "", "v", "--keyspace", "users");
        assertThat(empty.exitCode()).isEqualTo(1);
        assertThat(empty.err()).startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("kv", "scan", "--keyspace", "users", "--limit", "0").err()).startsWith("atoll: INVALID_REQUEST:");
    }
}
