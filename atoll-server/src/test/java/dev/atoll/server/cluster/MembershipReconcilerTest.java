package dev.atoll.server.cluster;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.AddMember;
import dev.atoll.proto.meta.MemberRecord;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.meta.PublishMember;
import dev.atoll.proto.meta.RemoveMember;
import dev.atoll.proto.meta.SeedMembers;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.PeerSender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash recovery of a membership change: real runtimes (WAL and snapshots on disk) for a meta
 * group (0) and a data group (1), wired in memory. The node leading both groups takes the first
 * Raft step of a change and crashes before the second; the next leader (or the same node,
 * restarted) completes the change from the committed member table.
 */
class MembershipReconcilerTest {
    private static final long META = 0;
    private static final long DATA = 1;
    private static final List<NodeId> FOUNDERS = List.of(NodeId.of("n1"), NodeId.of("n2"), NodeId.of("n3"));
    private static final NodeId N4 = NodeId.of("n4");

    @TempDir
    Path dir;

    private final Map<NodeId, NodeRuntime> nodes = new ConcurrentHashMap<>();
    private final Map<NodeId, MetaStateMachine> metas = new ConcurrentHashMap<>();
    private final Map<NodeId, MetaStateMachine> dataMachines = new ConcurrentHashMap<>();
    private final Map<NodeId, MembershipReconciler> reconcilers = new ConcurrentHashMap<>();
    private final Set<NodeId> down = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stopAll() {
        reconcilers.values().forEach(MembershipReconciler::close);
        nodes.values().forEach(NodeRuntime::close);
        scheduler.shutdownNow();
    }

    private static MetaCommand seed() {
        var seed = SeedMembers.newBuilder().setClusterId(7);
        int port = 2380;
        for (NodeId n : FOUNDERS) {
            seed.addMembers(MemberRecord.newBuilder().setId(MemberIds.ofName(n.value())).setName(n.value())
                    .addPeerUrls("http://127.0.0.1:" + port++));
        }
        return MetaCommand.newBuilder().setSeed(seed).build();
    }

    private void start(NodeId id, boolean founder) {
        var meta = new MetaStateMachine();
        var rt = new NodeRuntime(id, dir.resolve(id.value()), NodeRuntime.Options.defaults().withTickMillis(10),
                new SimpleMeterRegistry());
        Membership initial = founder ? Membership.ofVoters(Set.copyOf(FOUNDERS)) : Membership.ofVoters(Set.of());
        rt.addGroup(META, RaftConfig.defaults(), initial, meta);
        var data = new MetaStateMachine();
        rt.addGroup(DATA, RaftConfig.defaults(), initial, data);
        metas.put(id, meta);
        dataMachines.put(id, data);
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
        });
    }

    private void reconcile(NodeId id) {
        var r = new MembershipReconciler(nodes.get(id), META, DATA, metas.get(id), MembershipReconcilerTest::seed,
                n -> !down.contains(n), inGroups -> { }, scheduler, 20, 2_000, System::currentTimeMillis);
        reconcilers.put(id, r);
        r.start();
    }

    private void stopReconciling() {
        reconcilers.values().forEach(MembershipReconciler::close);
        reconcilers.clear();
    }

    private void crash(NodeId id) {
        down.add(id);
        Optional.ofNullable(reconcilers.remove(id)).ifPresent(MembershipReconciler::close);
        nodes.remove(id).close();
    }

    private Optional<NodeId> leaderOf(long group) {
        return nodes.entrySet().stream().filter(e -> !down.contains(e.getKey()))
                .filter(e -> {
                    LogStatus s = e.getValue().status(group);
                    return s != null && s.role() == Role.LEADER;
                }).map(Map.Entry::getKey).findFirst();
    }

    private NodeId awaitLeaderOfBoth() {
        await("one node leads both groups", () -> leaderOf(META).isPresent() && leaderOf(META).equals(leaderOf(DATA)));
        return leaderOf(META).orElseThrow();
    }

    private interface LeaderAction<T> {
        java.util.concurrent.CompletableFuture<T> run(NodeRuntime leader);
    }

    /** Runs {@code action} on the node leading both groups, again if leadership moved meanwhile; returns that node. */
    private <T> NodeId onLeaderOfBoth(LeaderAction<T> action) throws Exception {
        for (int attempt = 0; ; attempt++) {
            NodeId leader = awaitLeaderOfBoth();
            try {
                action.run(nodes.get(leader)).get(5, TimeUnit.SECONDS);
                return leader;
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt > 20 || !(e.getCause() instanceof dev.atoll.server.runtime.NotLeaderException
                        || e.getCause() instanceof dev.atoll.server.runtime.ProposalFailedException)) {
                    throw e;
                }
            }
        }
    }

    private void commitToTable(MetaCommand command) throws Exception {
        onLeaderOfBoth(rt -> rt.propose(META, MetaStateMachine.command(command)).thenApply(result -> {
            assertThat(result).isInstanceOf(MemberTable.Changed.class);
            return result;
        }));
    }

    private Membership committed(NodeId on, long group) throws Exception {
        return nodes.get(on).query(group, r -> r.committedMembership()).get(5, TimeUnit.SECONDS);
    }

    /** Whether every running node but {@code except} has committed a membership of {@code group} meeting {@code condition}. */
    private boolean everywhere(long group, java.util.function.Predicate<Membership> condition, NodeId... except) {
        Set<NodeId> skipped = Set.of(except);
        return nodes.keySet().stream().filter(n -> !down.contains(n) && !skipped.contains(n)).allMatch(n -> {
            try {
                return condition.test(committed(n, group));
            } catch (Exception notNow) {
                return false;
            }
        });
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Three founders elect, the first leader of both groups seeds the table; then reconciling stops. */
    private void foundersWithASeededTable() {
        FOUNDERS.forEach(n -> start(n, true));
        FOUNDERS.forEach(this::reconcile);
        await("the table is seeded everywhere", () -> FOUNDERS.stream().allMatch(n -> metas.get(n).members().seeded()));
        awaitLeaderOfBoth();
        stopReconciling();
    }

    @Test
    void aNewLeaderCompletesAnAdditionWhosePreviousLeaderCrashedBetweenTheGroups() throws Exception {
        foundersWithASeededTable();
        String peer = "http://127.0.0.1:2399";
        commitToTable(MetaCommand.newBuilder().setAdd(AddMember.newBuilder().setMember(
                MemberRecord.newBuilder().setId(5).addPeerUrls(peer))).build());
        commitToTable(MetaCommand.newBuilder().setPublish(PublishMember.newBuilder().setName("n4")
                .addPeerUrls(peer)).build());
        start(N4, false);

        // the leader takes the first step (the meta group) and crashes before the second
        NodeId doomed = onLeaderOfBoth(rt -> rt.proposeMembership(META,
                new MembershipChange(MembershipChange.Type.ADD_VOTER, N4)));
        crash(doomed);
        assertThat(committed(N4, DATA).isMember(N4)).isFalse();

        nodes.keySet().forEach(this::reconcile);
        await("n4 a voter of the data group", () -> everywhere(DATA, m -> m.isVoter(N4)));
        assertThat(everywhere(META, m -> m.isVoter(N4))).isTrue();
        // and it takes part: a write through the new leader reaches it
        NodeId leader = awaitLeaderOfBoth();
        nodes.get(leader).propose(DATA, MetaStateMachine.set("after", "crash")).get(5, TimeUnit.SECONDS);
        await("n4 applied the write", () -> "crash".equals(dataMachines.get(N4).get("after")));
    }

    @Test
    void aRestartedLeaderCompletesARemovalItHadTakenHalfway() throws Exception {
        foundersWithASeededTable();
        NodeId leaving = FOUNDERS.stream().filter(n -> !n.equals(awaitLeaderOfBoth())).findFirst().orElseThrow();
        commitToTable(MetaCommand.newBuilder().setRemove(RemoveMember.newBuilder()
                .setId(MemberIds.ofName(leaving.value()))).build());

        // the data group first, then a crash before the meta group
        NodeId leader = onLeaderOfBoth(rt -> rt.proposeMembership(DATA,
                new MembershipChange(MembershipChange.Type.REMOVE, leaving)));
        assertThat(leader).isNotEqualTo(leaving);
        crash(leader);
        assertThat(committed(leaving, META).isMember(leaving)).isTrue();

        start(leader, true);
        nodes.keySet().forEach(this::reconcile);
        // a removed node is not told: it is left out of the check
        await(leaving + " left the meta group", () -> everywhere(META, m -> !m.isMember(leaving), leaving));
        assertThat(committed(leader, DATA).isMember(leaving)).isFalse();
    }

    @Test
    void aRemovedLeaderHandsLeadershipOverAndItsSuccessorRemovesIt() throws Exception {
        foundersWithASeededTable();
        FOUNDERS.forEach(this::reconcile);
        NodeId leader = awaitLeaderOfBoth();
        commitToTable(MetaCommand.newBuilder().setRemove(RemoveMember.newBuilder()
                .setId(MemberIds.ofName(leader.value()))).build());
        await("the old leader left both groups", () -> {
            Optional<NodeId> now = leaderOf(DATA);
            return now.isPresent() && !now.get().equals(leader)
                    && everywhere(DATA, m -> !m.isMember(leader), leader)
                    && everywhere(META, m -> !m.isMember(leader), leader);
        });
    }

}
