package dev.atoll.server.etcd;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's etcdctl (3.4) against a one-member Atoll cluster: each command's output is what it
 * prints against a real etcd, errors included. Skipped when etcdctl is not installed.
 */
class EtcdctlTest {
    private static final long CALL_SECONDS = 10;
    private static final Path ETCDCTL = Path.of("/usr/bin/etcdctl");

    @TempDir
    static Path dir;
    private static SingleNodeEtcd node;

    @BeforeAll
    static void start() throws InterruptedException {
        assumeTrue(Files.isExecutable(ETCDCTL), "etcdctl is not installed (Debian package etcd-client)");
        node = SingleNodeEtcd.start(dir, EtcdOptions.defaults());
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private record Result(int exitCode, String output) {
        List<String> lines() {
            return output.lines().toList();
        }
    }

    private static Result etcdctlWithInput(String stdin, String... args) throws IOException, InterruptedException {
        Process process = start(args);
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

    private static Result etcdctl(String... args) throws IOException, InterruptedException {
        return etcdctlWithInput(null, args);
    }

    private static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(ETCDCTL.toString(), "--endpoints=127.0.0.1:" + node.port(),
                "--dial-timeout=5s", "--command-timeout=" + CALL_SECONDS + "s"));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("ETCDCTL_API", "3");
        return builder.start();
    }

    @Test
    void putGetPrefixAndDelete() throws Exception {
        assertThat(etcdctl("put", "ctl/a", "one").output().strip()).isEqualTo("OK");
        assertThat(etcdctl("put", "ctl/b", "two").output().strip()).isEqualTo("OK");
        assertThat(etcdctl("put", "ctl0", "outside").output().strip()).isEqualTo("OK");

        Result prefix = etcdctl("get", "ctl/", "--prefix");
        assertThat(prefix.exitCode()).as(prefix.output()).isZero();
        assertThat(prefix.lines()).containsExactly("ctl/a", "one", "ctl/b", "two");

        Result del = etcdctl("del", "ctl/a");
        assertThat(del.output().strip()).isEqualTo("1");
        assertThat(etcdctl("get", "ctl/", "--prefix", "--keys-only").lines()).containsExactly("ctl/b", "");
    }

    @Test
    void txnFromStdinTakesTheBranchItsCompareChooses() throws Exception {
        etcdctl("put", "ctltxn/k", "v1");
        String swap = "value(\"ctltxn/k\") = \"v1\"\n\nput ctltxn/k v2\n\nget ctltxn/k\n\n";
        Result won = etcdctlWithInput(swap, "txn");
        assertThat(won.exitCode()).as(won.output()).isZero();
        assertThat(won.lines()).containsExactly("SUCCESS", "", "OK");

        Result lost = etcdctlWithInput(swap, "txn");
        assertThat(lost.lines()).containsExactly("FAILURE", "", "ctltxn/k", "v2");
    }

    @Test
    void watchPrintsHistoryThenLiveEvents() throws Exception {
        Result put = etcdctl("put", "ctlwatch/k", "before", "-w", "json");
        Matcher revision = Pattern.compile("\"revision\":(\\d+)").matcher(put.output());
        assertThat(revision.find()).as(put.output()).isTrue();

        Process watch = start("watch", "ctlwatch/k", "--rev=" + revision.group(1));
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
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                seen.add(lines.poll(CALL_SECONDS, TimeUnit.SECONDS));
            }
            etcdctl("put", "ctlwatch/k", "after");
            etcdctl("del", "ctlwatch/k");
            for (int i = 0; i < 5; i++) {
                seen.add(lines.poll(CALL_SECONDS, TimeUnit.SECONDS));
            }
            assertThat(seen).containsExactly("PUT", "ctlwatch/k", "before", "PUT", "ctlwatch/k", "after",
                    "DELETE", "ctlwatch/k");
        } finally {
            watch.destroy();
            watch.waitFor(5, TimeUnit.SECONDS);
            reader.join(5_000);
        }
    }

    @Test
    void leaseGrantKeepAliveOnceAndRevoke() throws Exception {
        Result grant = etcdctl("lease", "grant", "60");
        Matcher granted = Pattern.compile("lease ([0-9a-f]+) granted with TTL\\(60s\\)").matcher(grant.output());
        assertThat(granted.find()).as(grant.output()).isTrue();
        String id = granted.group(1);

        assertThat(etcdctl("put", "ctllease/k", "v", "--lease=" + id).output().strip()).isEqualTo("OK");
        assertThat(etcdctl("lease", "keep-alive", "--once", id).output().strip())
                .isEqualTo("lease " + id + " keepalived with TTL(60)");
        assertThat(etcdctl("lease", "timetolive", id, "--keys").output().strip())
                .matches("lease " + id + " granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[ctllease/k\\]\\)");
        assertThat(etcdctl("lease", "revoke", id).output().strip()).isEqualTo("lease " + id + " revoked");
        assertThat(etcdctl("get", "ctllease/k").output()).isEmpty();
    }

    @Test
    void endpointStatusAndMemberList() throws Exception {
        String memberId = Long.toHexString(node.members.memberId(SingleNodeEtcd.SELF));
        Result status = etcdctl("endpoint", "status");
        assertThat(status.exitCode()).as(status.output()).isZero();
        assertThat(status.output().strip()).matches(Pattern.quote("127.0.0.1:" + node.port() + ", " + memberId
                + ", " + MaintenanceService.ETCD_API_VERSION + ", ") + "[0-9.]+ [kMG]?B, true, false, \\d+, \\d+, \\d+,");

        Result members = etcdctl("member", "list");
        assertThat(members.output().strip())
                .isEqualTo(memberId + ", started, n1, http://127.0.0.1:2380, http://127.0.0.1:2379, false");
    }

    @Test
    void badInputIsAnsweredWithEtcdsErrorsAndChangesNothing() throws Exception {
        etcdctl("put", "ctlbad/k", "kept");
        Result tooLarge = etcdctlWithInput("x".repeat(1600 * 1024), "put", "ctlbad/k");
        assertThat(tooLarge.exitCode()).isNotZero();
        assertThat(tooLarge.output()).contains("etcdserver: request is too large");

        StringBuilder many = new StringBuilder("\n");
        for (int i = 0; i < 129; i++) {
            many.append("put ctlbad/t").append(i).append(" v\n");
        }
        Result tooMany = etcdctlWithInput(many.append("\n\n").toString(), "txn");
        assertThat(tooMany.output()).contains("etcdserver: too many operations in txn request");

        Result unknownLease = etcdctl("lease", "revoke", "abcdef");
        assertThat(unknownLease.output()).contains("etcdserver: requested lease not found");

        Result put = etcdctl("put", "ctlbad/k", "second", "-w", "json");
        Matcher revision = Pattern.compile("\"revision\":(\\d+)").matcher(put.output());
        assertThat(revision.find()).as(put.output()).isTrue();
        long current = Long.parseLong(revision.group(1));
        etcdctl("put", "ctlbad/k", "kept");
        assertThat(etcdctl("compact", Long.toString(current)).output().strip())
                .isEqualTo("compacted revision " + current);
        Result compacted = etcdctl("get", "ctlbad/k", "--rev=" + (current - 1));
        assertThat(compacted.output()).contains("etcdserver: mvcc: required revision has been compacted");

        Result empty = etcdctl("put", "", "v");
        assertThat(empty.output()).contains("etcdserver: key is not provided");

        assertThat(etcdctl("get", "ctlbad/", "--prefix").lines()).containsExactly("ctlbad/k", "kept");
    }
}
