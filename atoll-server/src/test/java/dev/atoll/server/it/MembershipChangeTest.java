package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.PutResponse;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.proto.etcd.RangeResponse;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * etcd's membership workflow with etcdctl against real processes, under a steady write load:
 * a fourth member is added as a learner, moved to other peer URLs (member update), started with
 * the ETCD_INITIAL_CLUSTER etcdctl printed and {@code --initial-cluster-state existing}, catches up through a snapshot (the log was
 * compacted long before), serves serializable reads of everything written, is promoted once in
 * sync and takes the leadership (move-leader); then a follower is removed, and then the leader
 * itself, each stopping by itself as etcd's removed members do. Every acknowledged write stays
 * readable throughout.
 */
class MembershipChangeTest {
    private static final Duration CHANGE = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private ProcessCluster cluster;
    private Writer writer;
    private final long startedNanos = System.nanoTime();

    /** An id as etcdctl prints it in its one-line answers: {@code %16x}, so padded with spaces when it has leading zeros. */
    private static String printed(String hexId) {
        return String.format("%16s", hexId);
    }

    private void phase(String name) {
        System.out.printf("membership test %6.1f s: %s%n", (System.nanoTime() - startedNanos) / 1e9, name);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (writer != null) {
            writer.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void growToFourThroughALearnerThenRemoveAFollowerAndTheLeaderWhileWriting() throws Exception {
        assumeTrue(Etcdctl.installed(), "etcdctl is not installed (Debian package etcd-client)");
        // frequent snapshots: the newcomer is far behind the leader's compacted log
        cluster = ProcessCluster.start(dir, "--snapshot-count", "100");
        phase("three members up");
        writer = new Writer(cluster);
        writer.awaitAcknowledged(250, Duration.ofSeconds(60));

        phase("member add --learner");
        // ---- member add --learner: etcd's output, and an unstarted learner in the list
        int firstPeerPort = ServerProcess.freePort();
        int clientPort = ServerProcess.freePort();
        String firstPeerUrl = "http://127.0.0.1:" + firstPeerPort;
        Etcdctl.Result added = retryWhileUnhealthy(() -> Etcdctl.run(cluster.members(), "member", "add", "n4",
                "--peer-urls=" + firstPeerUrl, "--learner"));
        assertThat(added.exitCode()).as(added.toString()).isZero();
        Matcher addedLine = Pattern.compile("Member +([0-9a-f]+) added to cluster +([0-9a-f]+)")
                .matcher(added.lines().get(0));
        assertThat(addedLine.matches()).as(added.toString()).isTrue();
        String n4 = addedLine.group(1);
        String clusterId = addedLine.group(2);
        assertThat(added.lines()).hasSize(6);
        assertThat(added.lines().get(1)).isEmpty();
        assertThat(added.lines().get(2)).isEqualTo("ETCD_NAME=\"n4\"");
        String initialCluster = unquote(added.lines().get(3), "ETCD_INITIAL_CLUSTER=");
        assertThat(initialCluster.split(",")).containsExactlyInAnyOrder(
                "n1=http://127.0.0.1:" + cluster.member("n1").peerPort,
                "n2=http://127.0.0.1:" + cluster.member("n2").peerPort,
                "n3=http://127.0.0.1:" + cluster.member("n3").peerPort, "n4=" + firstPeerUrl);
        assertThat(added.lines().get(4)).isEqualTo("ETCD_INITIAL_ADVERTISE_PEER_URLS=\"" + firstPeerUrl + "\"");
        assertThat(added.lines().get(5)).isEqualTo("ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
        assertThat(memberList()).contains(n4 + ", unstarted, , " + firstPeerUrl + ", , true");

        phase("member update");
        // ---- member update: n4 will listen elsewhere
        int peerPort = ServerProcess.freePort();
        String peerUrl = "http://127.0.0.1:" + peerPort;
        Etcdctl.Result updated = Etcdctl.run(cluster.members(), "member", "update", n4, "--peer-urls=" + peerUrl);
        assertThat(updated.output().strip()).isEqualTo("Member " + printed(n4) + " updated in cluster " + printed(clusterId));
        assertThat(memberList()).contains(n4 + ", unstarted, , " + peerUrl + ", , true");
        initialCluster = initialCluster.replace(firstPeerUrl, peerUrl);

        Etcdctl.Result early = Etcdctl.run(cluster.members(), "member", "promote", n4);
        assertThat(early.exitCode()).as("a learner that has not even started is not in sync").isNotZero();
        assertThat(early.output()).contains(
                "Error: etcdserver: can only promote a learner member which is in sync with leader");

        phase("the new member starts");
        // ---- the new member starts empty and catches up while the writes go on
        long acknowledgedBefore = writer.count();
        ServerProcess newcomer = cluster.startJoining(dir, "n4", clientPort, peerPort, initialCluster,
                "--snapshot-count", "100");
        ProcessCluster.await("n4 has started and named itself", CHANGE, () -> memberListQuietly().contains(
                n4 + ", started, n4, " + peerUrl + ", http://127.0.0.1:" + clientPort + ", true"));
        ProcessCluster.await("n4 reports itself a learner", CHANGE,
                () -> cluster.status(newcomer).map(s -> s.getIsLearner()).orElse(false));

        phase("a learner serves");
        // ---- a learner serves Status and serializable reads only, as etcd's learners
        Etcdctl.Result onLearner = Etcdctl.run(List.of(newcomer), "put", "on-learner", "x");
        assertThat(onLearner.output()).isEqualTo("Error: etcdserver: rpc not supported for learner");
        Etcdctl.Result linearizableOnLearner = Etcdctl.run(List.of(newcomer), "get", "w/1");
        assertThat(linearizableOnLearner.output()).isEqualTo("Error: etcdserver: rpc not supported for learner");

        phase("promote,");
        // ---- promote, refused with etcd's text only while the learner is behind
        List<ServerProcess> founders = cluster.followers(newcomer);
        ProcessCluster.await("n4 promoted", CHANGE, () -> {
            Etcdctl.Result promoted = runQuietly(founders, "member", "promote", n4);
            if (promoted.exitCode() == 0) {
                assertThat(promoted.output().strip()).isEqualTo("Member " + printed(n4) + " promoted in cluster " + printed(clusterId));
                return true;
            }
            assertThat(promoted.output()).contains(
                    "etcdserver: can only promote a learner member which is in sync with leader");
            return false;
        });
        assertThat(memberList()).contains(n4 + ", started, n4, " + peerUrl + ", http://127.0.0.1:" + clientPort
                + ", false");
        assertThat(newcomer.log()).as("n4 received the default group (1) as a snapshot")
                .containsPattern("snapshot_installed node=n4 group=1 index=[1-9]");
        assertThat(writer.count()).as("writes went on while n4 joined").isGreaterThan(acknowledgedBefore);

        phase("the newcomer serves");
        // ---- the newcomer serves serializable reads of everything acknowledged so far
        Map<String, Long> sofar = writer.snapshot();
        long revision = sofar.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        ProcessCluster.await("n4 applied revision " + revision, CHANGE,
                () -> serializableRange(newcomer).map(r -> r.getHeader().getRevision() >= revision).orElse(false));
        Map<String, String> local = keys(serializableRange(newcomer).orElseThrow());
        for (String key : sofar.keySet()) {
            assertThat(local).as("n4 serves %s", key).containsEntry(key, writer.valueOf(key));
        }

        phase("move-leader");
        // ---- move-leader to the newcomer
        Etcdctl.Result moved = Etcdctl.run(cluster.members(), "move-leader", n4);
        assertThat(moved.exitCode()).as(moved.toString()).isZero();
        assertThat(moved.output().strip()).matches("Leadership transferred from [0-9a-f]+ to " + n4);
        assertThat(cluster.awaitLeader(CHANGE)).isSameAs(newcomer);

        phase("remove a follower");
        // ---- remove a follower, then the leader
        Map<String, String> ids = idsByName(memberList());
        ServerProcess follower = cluster.member("n1");
        long beforeRemoval = writer.count();
        Etcdctl.Result removed = Etcdctl.run(List.of(cluster.member("n2")), "member", "remove", ids.get("n1"));
        assertThat(removed.exitCode()).as(removed.toString()).isZero();
        assertThat(removed.output().strip()).isEqualTo("Member " + printed(ids.get("n1")) + " removed from cluster " + printed(clusterId));
        // as etcd's, a removed member stops by itself
        ProcessCluster.await("removed n1 stops", CHANGE, () -> !follower.alive());
        assertThat(follower.log()).contains("member_removed");
        cluster.forget(follower);
        assertThat(memberList()).noneMatch(l -> l.contains(", n1, "));
        writer.awaitAcknowledged(beforeRemoval + 50, CHANGE);

        phase("ServerProcess leader = cluster.awaitLead");
        ServerProcess leader = cluster.awaitLeader(CHANGE);
        long beforeLeaderRemoval = writer.count();
        Etcdctl.Result leaderRemoved = Etcdctl.run(List.of(leader), "member", "remove", ids.get(leader.name));
        assertThat(leaderRemoved.exitCode()).as(leaderRemoved.toString()).isZero();
        assertThat(leaderRemoved.output().strip())
                .isEqualTo("Member " + printed(ids.get(leader.name)) + " removed from cluster " + printed(clusterId));
        ProcessCluster.await("removed " + leader.name + " stops", CHANGE, () -> !leader.alive());
        cluster.forget(leader);
        ServerProcess newLeader = cluster.awaitLeader(CHANGE);
        assertThat(newLeader).isNotSameAs(leader);
        assertThat(memberList()).hasSize(2).noneMatch(l -> l.contains(", " + leader.name + ", "));
        writer.awaitAcknowledged(beforeLeaderRemoval + 50, CHANGE);
        writer.close();

        phase("every acknowledged write is there");
        // ---- every acknowledged write is there, read linearizably from each remaining member
        Map<String, Long> acknowledged = writer.snapshot();
        for (ServerProcess s : cluster.members()) {
            RangeResponse all = cluster.kv(s).range(prefix(false));
            Map<String, String> stored = keys(all);
            for (String key : acknowledged.keySet()) {
                assertThat(stored).as("acknowledged %s read through %s", key, s.name)
                        .containsEntry(key, writer.valueOf(key));
            }
        }
        System.out.printf("membership changes under load: %d writes acknowledged, all readable%n", acknowledged.size());
    }

    // ------------------------------------------------------------------ helpers

    private interface EtcdctlCall {
        Etcdctl.Result run() throws Exception;
    }

    /** etcd refuses a change while the leader's peer streams are not all up (a fresh cluster). */
    private static Etcdctl.Result retryWhileUnhealthy(EtcdctlCall call) throws InterruptedException {
        return ProcessCluster.awaitValue("a change the cluster is healthy enough for", CHANGE, () -> {
            try {
                Etcdctl.Result r = call.run();
                return r.output().contains("etcdserver: unhealthy cluster") ? Optional.empty() : Optional.of(r);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    private Etcdctl.Result runQuietly(String... args) {
        return runQuietly(cluster.members(), args);
    }

    private static Etcdctl.Result runQuietly(List<ServerProcess> via, String... args) {
        try {
            return Etcdctl.run(via, args);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private List<String> memberList() throws Exception {
        Etcdctl.Result list = Etcdctl.run(cluster.members(), "member", "list");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        return list.lines();
    }

    private List<String> memberListQuietly() {
        Etcdctl.Result list = runQuietly("member", "list");
        return list.exitCode() == 0 ? list.lines() : List.of();
    }

    private static Map<String, String> idsByName(List<String> memberList) {
        var ids = new HashMap<String, String>();
        for (String line : memberList) {
            String[] cells = line.split(", ", -1);
            ids.put(cells[2], cells[0]);
        }
        return ids;
    }

    private static String unquote(String line, String prefix) {
        assertThat(line).startsWith(prefix + "\"").endsWith("\"");
        return line.substring(prefix.length() + 1, line.length() - 1);
    }

    private static RangeRequest prefix(boolean serializable) {
        return RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("w/"))
                .setRangeEnd(ByteString.copyFromUtf8("w0")).setSerializable(serializable).build();
    }

    private Optional<RangeResponse> serializableRange(ServerProcess member) {
        try {
            return Optional.of(cluster.kv(member).range(prefix(true)));
        } catch (StatusRuntimeException notNow) {
            return Optional.empty();
        }
    }

    private static Map<String, String> keys(RangeResponse r) {
        var map = new HashMap<String, String>();
        r.getKvsList().forEach(kv -> map.put(kv.getKey().toStringUtf8(), kv.getValue().toStringUtf8()));
        return map;
    }

    /**
     * Puts unique keys ({@code w/<n>}), about 100 a second, through whichever member answers,
     * and remembers each acknowledged key with the revision it was written at.
     */
    private static final class Writer implements AutoCloseable {
        private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
        private final ProcessCluster cluster;
        private final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        private final AtomicLong sequence = new AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;

        Writer(ProcessCluster cluster) {
            this.cluster = cluster;
            this.thread = Thread.ofPlatform().name("membership-writer").start(this::run);
        }

        private void run() {
            int target = 0;
            while (running) {
                List<ServerProcess> members = cluster.members();
                ServerProcess via = members.get(Math.floorMod(target, members.size()));
                long n = sequence.incrementAndGet();
                String key = "w/" + n;
                try {
                    KVGrpc.KVBlockingStub kv = cluster.kv(via);
                    PutResponse r = kv.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                            .setValue(ByteString.copyFrom(valueOf(key), StandardCharsets.UTF_8)).build());
                    acknowledged.put(key, r.getHeader().getRevision());
                } catch (StatusRuntimeException e) {
                    target++; // this member cannot answer now: the next one
                } catch (RuntimeException stopped) {
                    if (!running) {
                        return;
                    }
                    target++;
                }
                LockSupport.parkNanos(PACE_NANOS);
            }
        }

        String valueOf(String key) {
            return "v" + key.substring(2);
        }

        long count() {
            return acknowledged.size();
        }

        Map<String, Long> snapshot() {
            return Map.copyOf(acknowledged);
        }

        void awaitAcknowledged(long count, Duration timeout) throws InterruptedException {
            ProcessCluster.await(count + " writes acknowledged (now " + acknowledged.size() + ")", timeout,
                    () -> acknowledged.size() >= count);
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }
}
