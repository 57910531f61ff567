package dev.atoll.server.it;

import dev.atoll.core.NodeId;
import dev.atoll.server.etcd.EtcdMembers;
import dev.atoll.server.etcd.MaintenanceService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's etcdctl (3.4) against a three-process cluster, given all three endpoints and each one
 * alone: what it prints is what it prints against a real etcd cluster, whichever member it
 * reaches (a follower forwards writes, linearizable reads and keep-alives to the leader).
 * Skipped when etcdctl is not installed.
 */
class EtcdctlClusterTest {
    private static final long CALL_SECONDS = 10;
    private static final Path ETCDCTL = Path.of("/usr/bin/etcdctl");

    @TempDir
    static Path dir;
    private static ProcessCluster cluster;
    private static ServerProcess leader;
    private static List<ServerProcess> followers;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(ETCDCTL), "etcdctl is not installed (Debian package etcd-client)");
        cluster = ProcessCluster.start(dir);
        leader = cluster.awaitLeader(Duration.ofSeconds(10));
        followers = cluster.followers(leader);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Which endpoints etcdctl is given. */
    enum Route {
        ALL_MEMBERS, LEADER, FIRST_FOLLOWER, SECOND_FOLLOWER;

        List<ServerProcess> members() {
            return switch (this) {
                case ALL_MEMBERS -> cluster.members();
                case LEADER -> List.of(leader);
                case FIRST_FOLLOWER -> List.of(followers.get(0));
                case SECOND_FOLLOWER -> List.of(followers.get(1));
            };
        }

        String prefix() {
            return "ctl-" + name().toLowerCase() + "/";
        }
    }

    private record Result(int exitCode, String output) {
        List<String> lines() {
            return output.lines().toList();
        }
    }

    private static String endpointsFlag(List<ServerProcess> members) {
        return "--endpoints=" + String.join(",", members.stream().map(s -> "127.0.0.1:" + s.clientPort).toList());
    }

    private static Process start(List<ServerProcess> members, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ETCDCTL.toString(), endpointsFlag(members),
                "--dial-timeout=5s", "--command-timeout=" + CALL_SECONDS + "s"));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("ETCDCTL_API", "3");
        return builder.start();
    }

    private static Result etcdctlWithInput(List<ServerProcess> members, String stdin, String... args)
            throws IOException, InterruptedException {
        Process process = start(members, args);
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(CALL_SECONDS + 5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("etcdctl did not finish: " + List.of(args));
        }
        return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static Result etcdctl(List<ServerProcess> members, String... args) throws IOException, InterruptedException {
        return etcdctlWithInput(members, null, args);
    }

    /** The revision in {@code -w json} output's header. */
    private static long revisionOf(Result json) {
        Matcher revision = Pattern.compile("\"revision\":(\\d+)").matcher(json.output());
        assertThat(revision.find()).as(json.output()).isTrue();
        return Long.parseLong(revision.group(1));
    }

    private static String memberId(ServerProcess s) {
        // the cluster name does not enter a member's id
        return Long.toHexString(new EtcdMembers("", Map.of()).memberId(NodeId.of(s.name)));
    }

    @ParameterizedTest(name = "through {0}")
    @EnumSource(Route.class)
    void putGetPrefixDeleteTxnAndLeaseThrough(Route route) throws Exception {
        List<ServerProcess> via = route.members();
        String p = route.prefix();
        assertThat(etcdctl(via, "put", p + "a", "one").output().strip()).isEqualTo("OK");
        assertThat(etcdctl(via, "put", p + "b", "two").output().strip()).isEqualTo("OK");

        Result prefix = etcdctl(via, "get", p, "--prefix");
        assertThat(prefix.exitCode()).as(prefix.output()).isZero();
        assertThat(prefix.lines()).containsExactly(p + "a", "one", p + "b", "two");

        assertThat(etcdctl(via, "del", p + "a").output().strip()).isEqualTo("1");
        assertThat(etcdctl(via, "get", p, "--prefix", "--keys-only").lines()).containsExactly(p + "b", "");

        String swap = "value(\"" + p + "b\") = \"two\"\n\nput " + p + "b three\n\nget " + p + "b\n\n";
        Result won = etcdctlWithInput(via, swap, "txn");
        assertThat(won.exitCode()).as(won.output()).isZero();
        assertThat(won.lines()).containsExactly("SUCCESS", "", "OK");
        Result lost = etcdctlWithInput(via, swap, "txn");
        assertThat(lost.exitCode()).as(lost.output()).isZero();
        assertThat(lost.lines()).containsExactly("FAILURE", "", p + "b", "three");

        Result grant = etcdctl(via, "lease", "grant", "60");
        Matcher granted = Pattern.compile("lease ([0-9a-f]+) granted with TTL\\(60s\\)").matcher(grant.output());
        assertThat(granted.find()).as(grant.output()).isTrue();
        String id = granted.group(1);
        assertThat(etcdctl(via, "put", p + "leased", "v", "--lease=" + id).output().strip()).isEqualTo("OK");
        assertThat(etcdctl(via, "lease", "keep-alive", "--once", id).output().strip())
                .isEqualTo("lease " + id + " keepalived with TTL(60)");
        assertThat(etcdctl(via, "lease", "revoke", id).output().strip()).isEqualTo("lease " + id + " revoked");
        assertThat(etcdctl(via, "get", p, "--prefix").lines()).containsExactly(p + "b", "three");
    }

    @Test
    void watchOnAFollowerPrintsWritesMadeThroughTheOtherMembers() throws Exception {
        ServerProcess watched = followers.get(0);
        long from = revisionOf(etcdctl(List.of(leader), "put", "ctlwatch/seed", "0", "-w", "json")) + 1;

        Process watch = start(List.of(watched), "watch", "ctlwatch/", "--prefix", "--rev=" + from);
        var lines = new LinkedBlockingQueue<String>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("read failed: " + e);
            }
        });
        try {
            etcdctl(List.of(leader), "put", "ctlwatch/a", "through-leader");
            etcdctl(List.of(followers.get(1)), "put", "ctlwatch/b", "through-follower");
            etcdctl(List.of(watched), "del", "ctlwatch/a");
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String line = lines.poll(CALL_SECONDS, TimeUnit.SECONDS);
                assertThat(line).as("watch line %d; so far %s", i, seen).isNotNull();
                seen.add(line);
            }
            assertThat(seen).containsExactly("PUT", "ctlwatch/a", "through-leader", "PUT", "ctlwatch/b",
                    "through-follower", "DELETE", "ctlwatch/a");
        } finally {
            watch.destroy();
            if (!watch.waitFor(5, TimeUnit.SECONDS)) {
                watch.destroyForcibly();
            }
            reader.join(5_000);
        }
    }

    @Test
    void memberListIsTheSameThreeMembersFromEveryEndpoint() throws Exception {
        // etcd lists members by id
        List<String> expected = cluster.members().stream()
                .sorted((a, b) -> Long.compareUnsigned(Long.parseUnsignedLong(memberId(a), 16),
                        Long.parseUnsignedLong(memberId(b), 16)))
                .map(s -> memberId(s) + ", started, " + s.name + ", http://127.0.0.1:" + s.peerPort
                        + ", http://127.0.0.1:" + s.clientPort + ", false")
                .toList();
        for (Route route : Route.values()) {
            Result members = etcdctl(route.members(), "member", "list");
            assertThat(members.exitCode()).as(members.output()).isZero();
            assertThat(members.lines()).as("member list through %s", route).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void endpointStatusTableShowsOneLeaderAmongThree() throws Exception {
        Result status = etcdctl(cluster.members(), "endpoint", "status", "-w", "table");
        assertThat(status.exitCode()).as(status.output()).isZero();
        List<List<String>> rows = status.lines().stream()
                .filter(l -> l.startsWith("|"))
                .map(l -> Arrays.stream(l.substring(1, l.length() - 1).split("\\|")).map(String::strip).toList())
                .toList();
        assertThat(rows.get(0)).as(status.output()).containsExactly("ENDPOINT", "ID", "VERSION", "DB SIZE",
                "IS LEADER", "IS LEARNER", "RAFT TERM", "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS");
        List<List<String>> members = rows.subList(1, rows.size());
        assertThat(members).as(status.output()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            ServerProcess s = cluster.members().get(i);
            List<String> row = members.get(i);
            assertThat(row.get(0)).isEqualTo("127.0.0.1:" + s.clientPort);
            assertThat(row.get(1)).isEqualTo(memberId(s));
            assertThat(row.get(2)).isEqualTo(MaintenanceService.ETCD_API_VERSION);
            assertThat(row.get(4)).as("IS LEADER of %s", s.name).isEqualTo(s == leader ? "true" : "false");
            assertThat(row.get(5)).isEqualTo("false");
            assertThat(row.get(9)).as("ERRORS of %s", s.name).isEmpty();
        }
        assertThat(members.stream().map(r -> r.get(6)).distinct()).as("one raft term").hasSize(1);
    }
}
