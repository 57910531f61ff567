package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import dev.atoll.core.protocol.Snapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots taken off the loop thread: runtimes in one JVM on an in-memory network, whose state
 * machines' snapshot materialize waits at a gate the test opens (or fails when told). While a
 * snapshot is pending the group keeps committing and keeps its leader; once written it is
 * recorded and a restart recovers from it; one made obsolete meanwhile is dropped; a failed one
 * is retried later.
 */
class NodeRuntimeSnapshotTest {
    private static final long GROUP = 1;
    private static final long SNAPSHOT_EVERY = 20;

    @TempDir
    Path dir;

    private final Map<NodeId, NodeRuntime> nodes = new ConcurrentHashMap<>();
    private final Map<NodeId, GatedStateMachine> machines = new ConcurrentHashMap<>();
    private final Map<NodeId, SimpleMeterRegistry> metrics = new ConcurrentHashMap<>();
    /** Nodes cut off from the others: messages to and from them are lost. */
    private final Set<NodeId> cut = ConcurrentHashMap.newKeySet();
    private final TreeSet<NodeId> ids = new TreeSet<>(List.of(NodeId.of("n1"), NodeId.of("n2"), NodeId.of("n3")));
    // 50 ms ticks: an election timeout of 0.5-1 s, so a busy machine does not move leadership
    private NodeRuntime.Options options = NodeRuntime.Options.defaults().withTickMillis(50)
            .withSnapshotEveryEntries(SNAPSHOT_EVERY);

    @AfterEach
    void stopAll() {
        machines.values().forEach(GatedStateMachine::open);
        nodes.values().forEach(NodeRuntime::close);
    }

    /** A MetaStateMachine whose snapshots wait at a gate when materialized, or fail when told. */
    static final class GatedStateMachine implements StateMachine {
        final MetaStateMachine state = new MetaStateMachine();
        private volatile CountDownLatch gate;
        /** Materializations to fail, and preparations to fail (each failure is one attempt). */
        final AtomicInteger failuresLeft = new AtomicInteger();
        final AtomicInteger prepareFailuresLeft = new AtomicInteger();
        /** Materializations started. */
        final AtomicInteger materializing = new AtomicInteger();
        volatile long capturedIndex;
        volatile String materializeThread;

        void close(boolean closed) {
            gate = closed ? new CountDownLatch(1) : null;
        }

        void open() {
            CountDownLatch g = gate;
            gate = null;
            if (g != null) {
                g.countDown();
            }
        }

        @Override
        public Object apply(Entry entry) {
            return state.apply(entry);
        }

        @Override
        public long appliedIndex() {
            return state.appliedIndex();
        }

        @Override
        public byte[] snapshotData() {
            return state.snapshotData();
        }

        @Override
        public void prepareSnapshot() {
            if (prepareFailuresLeft.getAndDecrement() > 0) {
                throw new UncheckedIOException(new IOException("injected: flush failed"));
            }
        }

        @Override
        public SnapshotCapture captureSnapshot() {
            SnapshotCapture copy = state.captureSnapshot();
            capturedIndex = copy.index();
            CountDownLatch waitFor = gate;
            return new SnapshotCapture() {
                @Override
                public long index() {
                    return copy.index();
                }

                @Override
                public byte[] materialize() {
                    materializeThread = Thread.currentThread().getName();
                    materializing.incrementAndGet();
                    try {
                        if (waitFor != null && !waitFor.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("the test never opened the gate");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                    if (failuresLeft.getAndDecrement() > 0) {
                        throw new UncheckedIOException(new IOException("injected: no space left on device"));
                    }
                    return copy.materialize();
                }

                @Override
                public void close() {
                    copy.close();
                }
            };
        }

        @Override
        public void install(Snapshot snapshot) {
            state.install(snapshot);
        }

        @Override
        public void close() {
            state.close();
        }
    }

    private void start(NodeId id) {
        var sm = new GatedStateMachine();
        var registry = new SimpleMeterRegistry();
        var rt = new NodeRuntime(id, dir.resolve(id.value()), options, registry);
        rt.addGroup(GROUP, RaftConfig.defaults(), Membership.ofVoters(ids), sm);
        machines.put(id, sm);
        metrics.put(id, registry);
        nodes.put(id, rt);
        rt.start(new PeerSender() {
            @Override
            public void send(long groupId, Envelope<RaftMessage> envelope) {
                NodeRuntime to = nodes.get(envelope.to());
                if (to != null && !cut.contains(envelope.to()) && !cut.contains(id)) {
                    to.deliver(groupId, envelope);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public boolean reachable(NodeId peer) {
                return nodes.containsKey(peer) && !cut.contains(peer);
            }
        });
    }

    private void stop(NodeId id) {
        nodes.remove(id).close();
    }

    private NodeId awaitLeader() {
        NodeId[] leader = new NodeId[1];
        await(() -> {
            for (var e : nodes.entrySet()) {
                LogStatus s = e.getValue().status(GROUP);
                if (s != null && s.role() == Role.LEADER && !cut.contains(e.getKey())) {
                    leader[0] = e.getKey();
                    return true;
                }
            }
            return false;
        });
        return leader[0];
    }

    private void put(String key, String value) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            NodeId leader = awaitLeader();
            try {
                nodes.get(leader).propose(GROUP, (key + "=" + value).getBytes(StandardCharsets.UTF_8))
                        .get(5, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException) && !(e.getCause() instanceof ProposalFailedException)) {
                    throw e;
                }
            }
        }
        throw new AssertionError("no leader accepted the write");
    }

    private void putAll(int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            put("k" + i, "v" + i);
        }
    }

    /** The index of the snapshot the node's core starts its log after. */
    private long snapshotIndex(NodeId id) throws Exception {
        return nodes.get(id).query(GROUP, raft -> raft.snapshot().index()).get(5, TimeUnit.SECONDS);
    }

    private long snapshotIndexUnchecked(NodeId id) {
        try {
            return snapshotIndex(id);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private double counter(NodeId id, String name) {
        return metrics.get(id).counter(name).count();
    }

    private List<String> snapshotFiles(NodeId id) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(id.value()).resolve("snap").resolve(Long.toString(GROUP)))) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 30 s");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void writesCommitAndTheLeaderStaysWhileEveryNodesSnapshotIsMaterialized() throws Exception {
        ids.forEach(this::start);
        machines.values().forEach(m -> m.close(true));
        putAll(0, (int) SNAPSHOT_EVERY);
        await(() -> machines.values().stream().allMatch(m -> m.materializing.get() == 1));
        NodeId leader = awaitLeader();
        long term = nodes.get(leader).status(GROUP).term();

        // every node holds a snapshot at its gate for two election timeouts and more, and the
        // group goes on: the loop threads still heartbeat, replicate and apply
        long heldSince = System.nanoTime();
        int written = (int) SNAPSHOT_EVERY;
        while (System.nanoTime() - heldSince < TimeUnit.SECONDS.toNanos(2) || written < 5 * SNAPSHOT_EVERY) {
            put("k" + written, "v" + written);
            written++;
        }
        for (NodeId id : ids) {
            LogStatus s = nodes.get(id).status(GROUP);
            assertThat(s.term()).as("%s: no election while snapshots are pending", id).isEqualTo(term);
            assertThat(s.leader()).as("%s's leader", id).isEqualTo(leader);
            assertThat(snapshotIndex(id)).as("%s: nothing compacted before the snapshot is written", id).isZero();
            assertThat(machines.get(id).materializing.get()).as("%s: one snapshot in flight per group", id)
                    .isEqualTo(1);
        }
        int total = written;
        await(() -> machines.values().stream().allMatch(m -> m.state.contents().size() == total));

        machines.values().forEach(GatedStateMachine::open);
        for (NodeId id : ids) {
            long capturedAt = machines.get(id).capturedIndex;
            // the pending snapshot is recorded, then another one catches up with the writes
            await(() -> counter(id, "atoll_raft_snapshots_taken_total") >= 1);
            await(() -> snapshotIndexUnchecked(id) > machines.get(id).appliedIndex() - SNAPSHOT_EVERY);
            long compacted = snapshotIndex(id);
            assertThat(compacted).as("%s compacted past the pending snapshot", id).isGreaterThanOrEqualTo(capturedAt);
            assertThat(snapshotFiles(id)).as("%s keeps the file of the snapshot its log starts after", id)
                    .hasSize(1).allMatch(f -> f.startsWith(String.format("snap-%016x-", compacted)));
            assertThat(machines.get(id).materializeThread).startsWith("snapshot-writer-" + id.value());
        }

        // a restart of every node recovers from the snapshot files and the WAL behind them
        new TreeSet<>(nodes.keySet()).forEach(this::stop);
        ids.forEach(this::start);
        for (NodeId id : ids) {
            assertThat(snapshotIndex(id)).as("%s restarts after its snapshot", id).isGreaterThanOrEqualTo(SNAPSHOT_EVERY);
        }
        await(() -> machines.values().stream().allMatch(m -> m.state.contents().size() == total));
        for (GatedStateMachine m : machines.values()) {
            assertThat(m.state.contents()).containsEntry("k0", "v0").containsEntry("k" + (total - 1), "v" + (total - 1));
        }
    }

    @Test
    void aFailedSnapshotLeavesTheNodeServingAndALaterOneSucceeds() throws Exception {
        options = options.withSnapshotRetryMillis(200);
        ids.forEach(this::start);
        // the first attempt fails preparing, the second materializing, the third succeeds
        machines.values().forEach(m -> {
            m.prepareFailuresLeft.set(1);
            m.failuresLeft.set(1);
        });
        putAll(0, (int) SNAPSHOT_EVERY + 5);
        await(() -> ids.stream().allMatch(id -> counter(id, "atoll_raft_snapshots_failed_total") >= 1));

        putAll((int) SNAPSHOT_EVERY + 5, 3 * (int) SNAPSHOT_EVERY);
        for (NodeId id : ids) {
            await(() -> counter(id, "atoll_raft_snapshots_taken_total") >= 1);
            assertThat(snapshotIndex(id)).isGreaterThanOrEqualTo(SNAPSHOT_EVERY);
            assertThat(counter(id, "atoll_raft_snapshots_failed_total")).as("each failure retried once, not in a loop")
                    .isEqualTo(2);
            assertThat(machines.get(id).materializing.get()).as("materialized twice: failed, then written")
                    .isGreaterThanOrEqualTo(2);
        }
        await(() -> machines.values().stream().allMatch(m -> m.state.contents().size() == 3 * SNAPSHOT_EVERY));
    }

    @Test
    void aSnapshotOvertakenByOneInstalledFromTheLeaderIsDiscarded() throws Exception {
        ids.forEach(this::start);
        put("first", "1");
        NodeId leader = awaitLeader();
        NodeId lagging = ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        GatedStateMachine held = machines.get(lagging);
        held.close(true);
        putAll(0, (int) SNAPSHOT_EVERY);
        await(() -> held.materializing.get() == 1);
        long pendingAt = held.capturedIndex;

        // cut off, the follower misses entries the leader compacts away; back, it gets a snapshot
        cut.add(lagging);
        putAll((int) SNAPSHOT_EVERY, 6 * (int) SNAPSHOT_EVERY);
        NodeId current = awaitLeader();
        await(() -> snapshotIndexUnchecked(current) > pendingAt + SNAPSHOT_EVERY);
        cut.remove(lagging);
        await(() -> counter(lagging, "atoll_raft_snapshots_installed_total") == 1);
        long installed = snapshotIndex(lagging);
        assertThat(installed).isGreaterThan(pendingAt);

        held.open();
        await(() -> counter(lagging, "atoll_raft_snapshots_discarded_total") == 1);
        assertThat(counter(lagging, "atoll_raft_snapshots_taken_total")).isZero();
        assertThat(snapshotIndex(lagging)).as("the older snapshot changed nothing").isGreaterThanOrEqualTo(installed);
        assertThat(snapshotFiles(lagging)).as("its file is gone").noneMatch(f -> f.startsWith(
                String.format("snap-%016x-", pendingAt)));
        await(() -> held.state.contents().size() == 1 + 6 * SNAPSHOT_EVERY);

        // and the follower takes its own snapshots again
        putAll(6 * (int) SNAPSHOT_EVERY, 9 * (int) SNAPSHOT_EVERY);
        await(() -> counter(lagging, "atoll_raft_snapshots_taken_total") >= 1);
    }

    @Test
    void aGroupRemovedWhileItsSnapshotIsPendingIsRemovedOnceItIsBackAndReturnsWithItsState() throws Exception {
        ids.retainAll(Set.of(NodeId.of("n1")));
        NodeId n1 = ids.first();
        start(n1);
        GatedStateMachine held = machines.get(n1);
        held.close(true);
        putAll(0, (int) SNAPSHOT_EVERY + 5);
        await(() -> held.materializing.get() == 1);

        CompletableFuture<Void> removed = nodes.get(n1).removeGroup(GROUP, true);
        // the loop ran the removal before this query: the group is still hosted, waiting
        assertThat(nodes.get(n1).query(GROUP, raft -> raft.snapshot().index()).get(5, TimeUnit.SECONDS)).isZero();
        assertThat(removed).isNotDone();

        held.open();
        removed.get(10, TimeUnit.SECONDS);
        assertThat(nodes.get(n1).status(GROUP)).isNull();

        var again = new GatedStateMachine();
        nodes.get(n1).hostGroup(GROUP, RaftConfig.defaults(), Membership.ofVoters(ids), again, SNAPSHOT_EVERY)
                .get(5, TimeUnit.SECONDS);
        machines.put(n1, again);
        assertThat(again.state.contents()).hasSize((int) SNAPSHOT_EVERY + 5).containsEntry("k0", "v0");
        long compacted = snapshotIndex(n1);
        assertThat(compacted).as("removal compacts at the applied index").isEqualTo(again.appliedIndex());
        assertThat(snapshotFiles(n1)).hasSize(1).allMatch(f -> f.startsWith(String.format("snap-%016x-", compacted)));
        put("after", "return");
        assertThat(again.state.get("after")).isEqualTo("return");
    }

    @Test
    void aRuntimeClosedWhileItsSnapshotIsWrittenRestartsWithEveryWriteAndNoStrayFile() throws Exception {
        ids.retainAll(Set.of(NodeId.of("n1")));
        NodeId n1 = ids.first();
        start(n1);
        GatedStateMachine held = machines.get(n1);
        held.close(true);
        putAll(0, (int) SNAPSHOT_EVERY + 5);
        await(() -> held.materializing.get() == 1);
        long pendingAt = held.capturedIndex;

        NodeRuntime closing = nodes.remove(n1);
        Thread closer = Thread.ofPlatform().start(closing::close);
        // close waits for the snapshot thread, which still waits at the gate
        await(() -> Stream.of(closer.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitTermination")));
        held.open();
        closer.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(closer.isAlive()).isFalse();
        // materialized after the runtime stopped: never written, never named by the WAL
        assertThat(snapshotFiles(n1)).noneMatch(f -> f.startsWith(String.format("snap-%016x-", pendingAt)));

        start(n1);
        assertThat(snapshotIndex(n1)).as("restarts from the WAL alone").isZero();
        await(() -> machines.get(n1).state.contents().size() == SNAPSHOT_EVERY + 5);
        putAll((int) SNAPSHOT_EVERY + 5, 2 * (int) SNAPSHOT_EVERY);
        await(() -> counter(n1, "atoll_raft_snapshots_taken_total") >= 1);
        assertThat(snapshotIndex(n1)).isGreaterThanOrEqualTo(SNAPSHOT_EVERY);
    }
}
