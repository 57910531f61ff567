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
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code atoll keyspace ...} and {@code atoll shard ...} against a one-node server in this JVM. */
class KeyspaceAndShardCommandsTest {
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
        String[] withEndpoint = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("--endpoints", endpoint)).toArray(String[]::new);
        int code = cli.execute(withEndpoint);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void keyspacesAreCreatedListedDescribedAndDropped() {
        Run created = atoll("keyspace", "create", "users", "--sharding", "hash", "--shards", "4",
                "--replication-factor", "1");
        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).contains("users", "hash(16384 slots)");

        assertThat(atoll("keyspace", "list").out()).contains("users");
        Run described = atoll("keyspace", "describe", "users");
        assertThat(described.out()).contains("s1", "s4", "n1*");
        assertThat(atoll("shard", "list", "--keyspace", "users").out().lines()).hasSize(5);

        Run again = atoll("keyspace", "create", "users", "--replication-factor", "1");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).startsWith("atoll: KEYSPACE_EXISTS:");

        Run dropped = atoll("keyspace", "drop", "users");
        assertThat(dropped.out()).contains("dropped users (4 shards)");
        assertThat(atoll("keyspace", "describe", "users").err()).startsWith("atoll: KEYSPACE_NOT_FOUND:");
    }

    @Test
    void shardCommandsRefuseWhatCannotBeDoneWithTheCode() {
        atoll("keyspace", "create", "users", "--replication-factor", "1");

        Run move = atoll("shard", "move", "s1", "--from", "n1", "--to", "n9");
        assertThat(move.exitCode()).isEqualTo(1);
        assertThat(move.err()).startsWith("atoll: NODE_NOT_FOUND:");
        assertThat(atoll("shard", "transfer-leader", "s1", "--to", "n9").err()).startsWith("atoll: REJECTED:");
        assertThat(atoll("shard", "transfer-leader", "bogus", "--to", "n1").err()).startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("keyspace", "create", "Bad!", "--replication-factor", "1").err())
                .startsWith("atoll: INVALID_KEYSPACE:");
    }

    @Test
    void aRangeShardSplitsAtANamedKeyAndRefusesAPointOutsideIt() {
        atoll("keyspace", "create", "users", "--replication-factor", "1");

        Run split = atoll("shard", "split", "s1", "--at", "m");
        assertThat(split.exitCode()).as(split.err()).isZero();
        assertThat(split.out()).contains("s1", "s2");
        assertThat(atoll("shard", "list", "--keyspace", "users").out().lines()).hasSize(3);

        Run outside = atoll("shard", "split", "s1", "--at", "z");
        assertThat(outside.exitCode()).isEqualTo(1);
        assertThat(outside.err()).startsWith("atoll: REJECTED:");
        // an empty shard has no median key: name one
        assertThat(atoll("shard", "split", "s2").err()).startsWith("atoll: REJECTED:");
        assertThat(atoll("shard", "split", "bogus").err()).startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("shard", "list", "--keyspace", "users").out().lines()).hasSize(3);
    }

    @Test
    void nodeListShowsEachNodesLabelsAndWhatItHolds() throws InterruptedException {
        assertThat(atoll("keyspace", "create", "users", "--shards", "3", "--replication-factor", "1").exitCode())
                .isZero();

        // leaders reach the map as the shards' groups report them
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String[] row;
        do {
            Run nodes = atoll("node", "list");
            assertThat(nodes.exitCode()).as(nodes.err()).isZero();
            assertThat(nodes.out().lines().toList()).hasSize(2);
            row = nodes.out().lines().skip(1).findFirst().orElseThrow().split("\\s+");
            assertThat(System.nanoTime()).as("3 leaders listed within 30 s").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(50);
        } while (!row[5].equals("3"));

        assertThat(row).as("name, region, zone, capacity in GiB, replicas, leaders, client URL")
                .containsExactly("n1", "default", "-", "1024", "3", "3", "http://" + endpoint);
    }

    @Test
    void aHashShardSplitsAtASlotOrInTheMiddleAndMergesBackWithTheOwnerOfTheNextSlot() {
        atoll("keyspace", "create", "carts", "--sharding", "hash", "--hash-slots", "64", "--replication-factor", "1");

        Run split = atoll("shard", "split", "s1", "--at-slot", "48");
        assertThat(split.exitCode()).as(split.err()).isZero();
        assertThat(split.out()).contains("slots{0..47}", "slots{48..63}");
        // s1 holds no data: it splits in the middle of its slots
        Run middle = atoll("shard", "split", "s1");
        assertThat(middle.exitCode()).as(middle.err()).isZero();
        assertThat(middle.out()).contains("slots{0..23}", "slots{24..47}");

        // a key for a hash shard, a slot not strictly inside it, both points at once: refused, nothing changes
        assertThat(atoll("shard", "split", "s1", "--at", "m").err()).startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("shard", "split", "s1", "--at-slot", "0").err()).startsWith("atoll: REJECTED:");
        assertThat(atoll("shard", "split", "s1", "--at-slot", "30").err()).startsWith("atoll: REJECTED:");
        assertThat(atoll("shard", "split", "s1", "--at-slot", "9999").err()).startsWith("atoll: REJECTED:");
        Run both = atoll("shard", "split", "s1", "--at", "m", "--at-slot", "8");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("shard", "list", "--keyspace", "carts").out().lines()).hasSize(4);

        // s1 alone takes the owner of slot 24 (s3); s2 alone goes into the owner of slot 47 (s1)
        Run merged = atoll("shard", "merge", "s1");
        assertThat(merged.exitCode()).as(merged.err()).isZero();
        assertThat(merged.out()).contains("merged s3 into s1", "slots{0..47}");
        Run intoLeft = atoll("shard", "merge", "s2", "--into-left");
        assertThat(intoLeft.exitCode()).as(intoLeft.err()).isZero();
        assertThat(intoLeft.out()).contains("merged s2 into s1", "slots{0..63}");
        assertThat(atoll("shard", "list", "--keyspace", "carts").out().lines()).hasSize(2);
        assertThat(atoll("shard", "merge", "s1").err()).startsWith("atoll: MERGE_NOT_ADJACENT:");
    }

    @Test
    void twoAdjacentRangeShardsMergeBackIntoOne() {
        atoll("keyspace", "create", "users", "--replication-factor", "1");
        atoll("shard", "split", "s1", "--at", "m");
        atoll("shard", "split", "s2", "--at", "t");

        Run merged = atoll("shard", "merge", "s1", "s2");
        assertThat(merged.exitCode()).as(merged.err()).isZero();
        assertThat(merged.out()).contains("merged s2 into s1");
        Run intoLeft = atoll("shard", "merge", "s3", "--into-left");
        assertThat(intoLeft.exitCode()).as(intoLeft.err()).isZero();
        assertThat(intoLeft.out()).contains("merged s3 into s1");
        assertThat(atoll("shard", "list", "--keyspace", "users").out().lines()).hasSize(2);

        // the only shard left has no neighbour
        assertThat(atoll("shard", "merge", "s1").err()).startsWith("atoll: MERGE_NOT_ADJACENT:");
        assertThat(atoll("shard", "merge", "s1", "s2").err()).startsWith("atoll: SHARD_NOT_FOUND:");
    }

    @Test
    void aDirectoryEntryIsPutListedAndRemovedAndItsKeysFollowIt() {
        atoll("keyspace", "create", "tenants", "--sharding", "directory", "--shards", "2", "--replication-factor", "1");
        atoll("keyspace", "create", "carts", "--sharding", "hash", "--replication-factor", "1");
        for (int i = 0; i < 10; i++) {
            assertThat(atoll("kv", "put", "acme/" + i, "v" + i, "--keyspace", "tenants").exitCode()).isZero();
        }
        Run added = atoll("shard", "add", "--keyspace", "tenants");
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(added.out()).contains("s4", "tenants", "directed");

        Run put = atoll("directory", "put", "--keyspace", "tenants", "--prefix", "acme/", "--shard", "s4");
        assertThat(put.exitCode()).as(put.err()).isZero();
        assertThat(put.out()).startsWith("moved: 2 data move(s)");
        Run exact = atoll("directory", "put", "--keyspace", "tenants", "--key", "acme/vip", "--shard", "s1");
        assertThat(exact.exitCode()).as(exact.err()).isZero();
        Run list = atoll("directory", "list", "--keyspace", "tenants");
        assertThat(list.out().lines()).contains("default: s1,s2").anyMatch(l -> l.matches("prefix +acme/ +s4"))
                .anyMatch(l -> l.matches("key +acme/vip +s1"));
        for (int i = 0; i < 10; i++) {
            assertThat(atoll("kv", "get", "acme/" + i, "--keyspace", "tenants").out()).isEqualTo("v" + i + "\n");
        }

        Run removed = atoll("directory", "remove", "--keyspace", "tenants", "--prefix", "acme/");
        assertThat(removed.exitCode()).as(removed.err()).isZero();
        assertThat(removed.out()).startsWith("moved:");
        for (int i = 0; i < 10; i++) {
            assertThat(atoll("kv", "get", "acme/" + i, "--keyspace", "tenants").out()).isEqualTo("v" + i + "\n");
        }

        // refusals name their code and change nothing
        assertThat(atoll("directory", "remove", "--keyspace", "tenants", "--prefix", "acme/").err())
                .startsWith("atoll: DIRECTORY_ENTRY_NOT_FOUND:");
        assertThat(atoll("directory", "put", "--keyspace", "carts", "--key", "k", "--shard", "s3").err())
                .startsWith("atoll: NOT_DIRECTORY:");
        assertThat(atoll("directory", "put", "--keyspace", "tenants", "--key", "k", "--shard", "s3").err())
                .startsWith("atoll: DIRECTORY_SHARD_MISMATCH:");
        assertThat(atoll("directory", "list", "--keyspace", "nope").err()).startsWith("atoll: KEYSPACE_NOT_FOUND:");
        assertThat(atoll("directory", "put", "--keyspace", "tenants", "--key", "k", "--prefix", "p", "--shard", "s1")
                .exitCode()).isEqualTo(2);
        assertThat(atoll("directory", "list", "--keyspace", "tenants").out().lines())
                .anyMatch(l -> l.matches("key +acme/vip +s1")).noneMatch(l -> l.startsWith("prefix"));
    }

    @Test
    void hashSlotsMoveToAnAddedShardWithTheirKeys() {
        atoll("keyspace", "create", "carts", "--sharding", "hash", "--hash-slots", "64", "--replication-factor", "1");
        for (int i = 0; i < 20; i++) {
            assertThat(atoll("kv", "put", "cart-" + i, "v" + i, "--keyspace", "carts").exitCode()).isZero();
        }
        Run added = atoll("shard", "add", "--keyspace", "carts");
        assertThat(added.exitCode()).as(added.err()).isZero();
        assertThat(added.out()).contains("s2", "slots{}");

        Run moved = atoll("shard", "move-slots", "--from", "s1", "--to", "s2", "--slots", "48-63");
        assertThat(moved.exitCode()).as(moved.err()).isZero();
        assertThat(moved.out()).contains("slots{0..47}", "slots{48..63}", "moved slots 48-63");
        for (int i = 0; i < 20; i++) {
            assertThat(atoll("kv", "get", "cart-" + i, "--keyspace", "carts").out()).isEqualTo("v" + i + "\n");
        }
        assertThat(atoll("shard", "move-slots", "--from", "s1", "--to", "s2", "--slots", "50").err())
                .startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("shard", "move-slots", "--from", "s1", "--to", "s2", "--slots", "60-99").err())
                .startsWith("atoll: INVALID_REQUEST:");
        assertThat(atoll("shard", "move-slots", "--from", "s1", "--to", "s2", "--slots", "x").exitCode()).isEqualTo(2);
        assertThat(atoll("shard", "list", "--keyspace", "carts").out()).contains("slots{0..47}", "slots{48..63}");
    }
}
