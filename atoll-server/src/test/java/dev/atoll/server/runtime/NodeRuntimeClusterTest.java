package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import dev.atoll.storage.wal.GroupWrite;
import dev.atoll.storage.wal.Wal;
import dev.atoll.storage.wal.WalOptions;
import dev.atoll.storage.wal.WalRecovery;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three runtimes in one JVM, wired by an in-memory network, each with its own WAL and
 * snapshot files on disk: elections, replication with group commit, restart from disk,
 * a follower that fell behind a compaction catching up by snapshot, and quiescence of an
 * idle group (a stopped node is reported unreachable to its peers).
 */
class NodeRuntimeClusterTest {
    private static final long GROUP = 1;

    @TempDir
    Path dir;

    private final Map<NodeId, NodeRuntime> nodes = new ConcurrentHashMap<>();
    private final Map<NodeId, MetaStateMachine> machines = new ConcurrentHashMap<>();
    private final Set<NodeId> down = ConcurrentHashMap.newKeySet();
    private final TreeSet<NodeId> ids = new TreeSet<>(List.of(NodeId.of("n1"), NodeId.of("n2"), NodeId.of("n3")));
    private NodeRuntime.Options options = NodeRuntime.Options.defaults().withTickMillis(10);
    private RaftConfig config = RaftConfig.defaults();

    @AfterEach
    void stopAll() {
        nodes.values().forEach(NodeRuntime::close);
    }

    private void start(NodeId id) {
        start(id, new MetaStateMachine());
    }

    /** Starts {@code id} with {@code sm}: a state machine that kept what it applied, as a RocksDB store does. */
    private void start(NodeId id, MetaStateMachine sm) {
        var rt = new NodeRuntime(id, dir.resolve(id.value()), options, new SimpleMeterRegistry());
        rt.addGroup(GROUP, config, Membership.ofVoters(ids), sm);
        machines.put(id, sm);
        nodes.put(id, rt);
        down.remove(id);
        rt.start(new PeerSender() {
            @Override
            public void send(long groupId, Envelope<RaftMessage> envelope) {
                NodeRuntime to = nodes.get(envelope.to());
                if (to != null && !down.contains(envelope.to()) && !down.contains(id)) {
                    to.deliver(groupId, envelope);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public boolean reachable(NodeId peer) {
                return nodes.containsKey(peer) && !down.contains(peer);
            }
        });
    }

    private void stop(NodeId id) {
        down.add(id);
        nodes.remove(id).close();
    }

    private NodeId awaitLeader() {
        NodeId[] leader = new NodeId[1];
        await(() -> {
            for (var e : nodes.entrySet()) {
                LogStatus s = e.getValue().status(GROUP);
                if (s != null && s.role() == Role.LEADER && !down.contains(e.getKey())) {
                    leader[0] = e.getKey();
                    return true;
                }
            }
            return false;
        });
        return leader[0];
    }

    private Object put(String key, String value) throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            NodeId leader = awaitLeader();
            try {
                return nodes.get(leader).propose(GROUP, (key + "=" + value).getBytes(StandardCharsets.UTF_8))
                        .get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException) && !(e.getCause() instanceof ProposalFailedException)) {
                    throw e;
                }
            }
        }
        throw new AssertionError("no leader accepted the write");
    }

    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void threeNodesElectALeaderAndReplicateEveryWrite() throws Exception {
        ids.forEach(this::start);
        for (int i = 0; i < 200; i++) {
            put("k" + i, "v" + i);
        }
        await(() -> machines.values().stream().allMatch(m -> m.contents().size() == 200));
        for (MetaStateMachine m : machines.values()) {
            assertThat(m.contents()).containsEntry("k199", "v199").hasSize(200);
        }
        // group commit: far fewer fsyncs than writes on the leader
        NodeId leader = awaitLeader();
        assertThat(nodes.get(leader).fsyncCount()).isPositive();
    }

    @Test
    void aLinearizableReadBarrierWaitsForTheLeadersCommit() throws Exception {
        ids.forEach(this::start);
        put("a", "1");
        NodeId leader = awaitLeader();
        long readIndex = nodes.get(leader).readBarrier(GROUP).get(5, TimeUnit.SECONDS);
        assertThat(machines.get(leader).appliedIndex()).isGreaterThanOrEqualTo(readIndex);
        assertThat(machines.get(leader).contents()).containsEntry("a", "1");
    }

    @Test
    void aFollowerRelaysWritesAndReadIndexRequestsToTheLeader() throws Exception {
        ids.forEach(this::start);
        put("a", "1");
        // (with 10 ms ticks on a busy machine leadership may move: each step retries what a
        // leader change refused, on whichever node is a follower then)
        for (int i = 0; i < 50; i++) {
            String key = "f" + i;
            NodeId follower = onFollower(f -> nodes.get(f).propose(GROUP, (key + "=" + key).getBytes(StandardCharsets.UTF_8)));
            // answered only once the follower itself applied the write
            assertThat(machines.get(follower).contents()).containsEntry(key, key);
        }
        long[] readIndex = new long[1];
        NodeId reader = onFollower(f -> nodes.get(f).readBarrier(GROUP).thenApply(index -> readIndex[0] = index));
        // the leader confirmed the read index; the follower waited until it applied it
        assertThat(machines.get(reader).appliedIndex()).isGreaterThanOrEqualTo(readIndex[0]);
        assertThat(machines.get(reader).contents()).containsKeys("a", "f49");
        await(() -> machines.values().stream().allMatch(m -> m.contents().size() == 51));
    }

    /** Runs {@code request} on a follower until one answers; returns that follower. */
    private NodeId onFollower(java.util.function.Function<NodeId, java.util.concurrent.CompletableFuture<?>> request)
            throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            NodeId leader = awaitLeader();
            NodeId follower = ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            try {
                request.apply(follower).get(5, TimeUnit.SECONDS);
                return follower;
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof NotLeaderException) && !(e.getCause() instanceof ProposalFailedException)) {
                    throw e;
                }
            }
        }
        throw new AssertionError("no follower answered");
    }

    @Test
    void aWriteRelayedToALeaderThatDiedIsAnsweredWhenTheLeaderChanges() throws Exception {
        ids.forEach(this::start);
        put("a", "1");
        NodeId leader = awaitLeader();
        NodeId follower = ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        stop(leader);
        // the follower still believes in the old leader: the relayed write is lost with it, and
        // the follower answers it when it learns of a new term, not only at its caller's timeout
        var relayed = nodes.get(follower).propose(GROUP, "b=2".getBytes(StandardCharsets.UTF_8));
        var answered = relayed.handle((value, error) -> error == null ? "applied" : error.getClass().getSimpleName());
        assertThat(answered.get(10, TimeUnit.SECONDS)).isIn("applied", "ProposalFailedException");
    }

    @Test
    void everyAcknowledgedWriteSurvivesARestartOfEveryNode() throws Exception {
        ids.forEach(this::start);
        var acknowledged = new ArrayList<String>();
        for (int i = 0; i < 100; i++) {
            put("k" + i, "v" + i);
            acknowledged.add("k" + i);
        }
        new ArrayList<>(ids).forEach(this::stop);
        ids.forEach(this::start);
        await(() -> machines.values().stream().allMatch(m -> m.contents().size() == 100));
        for (MetaStateMachine m : machines.values()) {
            assertThat(m.contents().keySet()).containsAll(acknowledged);
        }
        // restarted before any compaction, the group still knows its members: it elects and writes
        put("after", "restart");
        await(() -> machines.values().stream().allMatch(m -> "restart".equals(m.contents().get("after"))));
    }

    /**
     * A commit-only hard state is written but not synced, so a crash can keep a state machine's
     * applies and lose the commit index that allowed them. Found by ShardMergeProcessTest: the
     * killed node's replica of a merged shard's source, whose peers had dropped their replicas,
     * could never learn that commit again; removing it compacted at the state machine's applied
     * index, beyond the core's, and the exception stopped the node's whole loop. The restarted
     * core now starts with everything its state machine applied committed.
     */
    @Test
    void whatTheStateMachineAppliedIsCommittedAfterARestartThatLostTheCommitIndex() throws Exception {
        ids.forEach(this::start);
        for (int i = 0; i < 5; i++) {
            put("k" + i, "v" + i);
        }
        NodeId restarted = NodeId.of("n3");
        MetaStateMachine kept = machines.get(restarted);
        long leaderApplied = machines.get(awaitLeader()).appliedIndex();
        await(() -> kept.appliedIndex() == leaderApplied);
        new ArrayList<>(ids).forEach(this::stop);
        Path walDir = dir.resolve(restarted.value()).resolve("wal");
        WalRecovery recovery = Wal.open(walDir, WalOptions.defaults());
        try (Wal wal = recovery.wal()) {
            HardState hs = recovery.groups().get(GROUP).hardState();
            assertThat(hs.commit()).as("the test needs a commit to lose").isGreaterThan(1);
            wal.append(List.of(GroupWrite.ofHardState(GROUP, new HardState(hs.term(), hs.vote(), 1))));
            wal.sync();
        }

        start(restarted, kept); // alone: no leader will tell it the commit index
        NodeRuntime node = nodes.get(restarted);
        await(() -> node.status(GROUP).appliedIndex() == kept.appliedIndex());
        assertThat(node.status(GROUP).commitIndex()).isEqualTo(kept.appliedIndex());

        node.removeGroup(GROUP, false).get(5, TimeUnit.SECONDS);
        assertThat(node.failed()).isNotDone();
        assertThat(node.status(GROUP)).isNull();
    }

    @Test
    void aFollowerBehindACompactionCatchesUpBySnapshot() throws Exception {
        options = options.withSnapshotEveryEntries(20);
        ids.forEach(this::start);
        put("first", "1");
        NodeId leader = awaitLeader();
        NodeId lagging = ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
        stop(lagging);
        for (int i = 0; i < 150; i++) {
            put("k" + i, "v" + i);
        }
        start(lagging);
        await(() -> machines.get(lagging).contents().size() == 151);
        assertThat(machines.get(lagging).contents()).isEqualTo(machines.get(leader).contents());
    }

    /** Three nodes whose group quiesces when idle, after one write: quiesced on every node. */
    private void startAndQuiesce() throws Exception {
        config = RaftConfig.defaults().withQuiesceIdleTicks(RaftConfig.QUIESCE_IDLE_TICKS);
        ids.forEach(this::start);
        put("a", "1");
        await(() -> nodes.values().stream().allMatch(n -> n.quiescedGroups() == 1));
    }

    @Test
    void anIdleGroupQuiescesOnEveryNodeAndWakesForAWrite() throws Exception {
        startAndQuiesce();
        put("b", "2");
        await(() -> machines.values().stream().allMatch(m -> "2".equals(m.contents().get("b"))));
        await(() -> nodes.values().stream().allMatch(n -> n.quiescedGroups() == 1));
    }

    @Test
    void quiescedFollowersElectANewLeaderOnceTheLeadersNodeIsUnreachable() throws Exception {
        startAndQuiesce();
        NodeId leader = awaitLeader();
        stop(leader);
        // no write wakes the group: the followers notice through the peer link alone
        await(() -> nodes.values().stream().anyMatch(n -> n.status(GROUP).role() == Role.LEADER));
        put("b", "2");
        await(() -> machines.entrySet().stream().filter(e -> !e.getKey().equals(leader))
                .allMatch(e -> "2".equals(e.getValue().contents().get("b"))));
    }
}
