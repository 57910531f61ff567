package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.proto.etcd.RangeResponse;
import dev.atoll.sim.check.Linearizability;
import dev.atoll.sim.check.Op;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lease reads ({@code --read-mode lease}) against a leader that hangs: the leader of the etcd
 * group is paused (kill -STOP) with reads and writes in flight to every node, the others elect a
 * new leader and acknowledge writes, then the old one resumes and finds reads waiting in its
 * sockets. Its lease ran out during the pause, and it must know that before it judges any of
 * them: a read it served from the lease it held before the pause would miss the new leader's
 * writes. Twice, then the clients' history must be linearizable, and the resumed leaders must
 * have answered reads (the case under test happened).
 */
class LeaseReadPausedLeaderProcessTest {
    private static final String[] REGISTERS = {"r0", "r1"};
    private static final int CLIENTS_PER_NODE = 2;
    private static final int PAUSES = 2;

    @TempDir
    Path dir;

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void aLeaderPausedPastItsLeaseServesNoStaleReadWhenItResumes() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.start(dir, "--read-mode", "lease")) {
            try {
                exercise(cluster);
            } catch (AssertionError | RuntimeException e) {
                System.out.println(cluster.logs());
                throw e;
            }
        }
    }

    private void exercise(ProcessCluster cluster) throws Exception {
        cluster.awaitWritable(ProcessCluster.STARTUP);
        List<ServerProcess> nodes = cluster.members();
        var history = new ClientHistory();
        var running = new AtomicBoolean(true);
        // reads each node answered successfully, by node index
        var readsOk = new AtomicLongArray(nodes.size());
        var workers = new ArrayList<Thread>();
        for (int n = 0; n < nodes.size(); n++) {
            for (int c = 0; c < CLIENTS_PER_NODE; c++) {
                int node = n;
                int clientId = n * CLIENTS_PER_NODE + c;
                var kv = KVGrpc.newBlockingStub(cluster.channel(nodes.get(node)));
                workers.add(Thread.ofPlatform().name("lease-load-" + clientId).start(
                        () -> load(clientId, kv, history, running, () -> readsOk.incrementAndGet(node))));
            }
        }
        try {
            for (int p = 0; p < PAUSES; p++) {
                TimeUnit.SECONDS.sleep(1);
                ServerProcess leader = cluster.awaitLeader(Duration.ofSeconds(30));
                int index = nodes.indexOf(leader);
                long beforeResume;
                leader.pause();
                try {
                    // the others elect a leader and acknowledge writes while this one hangs
                    ProcessCluster.await("the others agree on a leader other than " + leader.name,
                            Duration.ofSeconds(30), () -> othersAgreeOnALeader(cluster, leader));
                    beforeResume = readsOk.get(index);
                    TimeUnit.SECONDS.sleep(1);
                    assertThat(readsOk.get(index)).as("a paused node answers nothing").isEqualTo(beforeResume);
                } finally {
                    leader.resume();
                }
                // the case under test happened: the resumed node answered reads (forwarded or its own)
                ProcessCluster.await("the resumed " + leader.name + " answers reads again", Duration.ofSeconds(30),
                        () -> readsOk.get(index) > beforeResume);
            }
            TimeUnit.SECONDS.sleep(1);
        } finally {
            running.set(false);
            for (Thread t : workers) {
                t.join(TimeUnit.SECONDS.toMillis(30));
            }
        }
        var verdict = Linearizability.check(history.history());
        assertThat(verdict.verdict()).as(verdict.explanation()).isNotEqualTo(Linearizability.Verdict.NOT_LINEARIZABLE);
        System.out.printf("lease reads, leader paused %d times: history of %d operations, reads answered by node %s: %s%n",
                PAUSES, history.history().size(), readsOk, verdict.verdict());
    }

    /** Whether every member but {@code paused} names the same leader, one of them. */
    private static boolean othersAgreeOnALeader(ProcessCluster cluster, ServerProcess paused) {
        var others = cluster.followers(paused).stream().map(cluster::status).toList();
        if (others.stream().anyMatch(java.util.Optional::isEmpty)) {
            return false;
        }
        long leader = others.get(0).get().getLeader();
        return leader != 0 && others.stream().allMatch(st -> st.get().getLeader() == leader)
                && others.stream().anyMatch(st -> st.get().getHeader().getMemberId() == leader);
    }

    /** Puts and linearizable gets on a few registers through one node, each recorded with its outcome. */
    private static void load(int clientId, KVGrpc.KVBlockingStub kv, ClientHistory history, AtomicBoolean running,
                             Runnable readOk) {
        var random = new java.util.Random(clientId);
        long n = 0;
        while (running.get()) {
            String register = REGISTERS[random.nextInt(REGISTERS.length)];
            if (random.nextBoolean()) {
                String value = "c" + clientId + "-" + n++;
                int op = history.invoke(clientId, new Op.Put(register, value));
                try {
                    kv.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(b(register))
                            .setValue(b(value)).build());
                    history.complete(op, true, null);
                } catch (StatusRuntimeException e) {
                    history.indeterminate(op); // may or may not have taken effect
                }
            } else {
                int op = history.invoke(clientId, new Op.Get(register));
                try {
                    RangeResponse r = kv.withDeadlineAfter(5, TimeUnit.SECONDS)
                            .range(RangeRequest.newBuilder().setKey(b(register)).build());
                    history.complete(op, true, r.getKvsCount() == 0 ? null : r.getKvs(0).getValue().toStringUtf8());
                    readOk.run();
                } catch (StatusRuntimeException e) {
                    history.complete(op, false, null); // a failed read had no effect
                    if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                        pause();
                    }
                }
            }
        }
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
