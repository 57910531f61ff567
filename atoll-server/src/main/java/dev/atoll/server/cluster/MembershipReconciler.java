package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Carries the member table into the Raft memberships of the meta and {@code default} groups,
 * on every node, a few times a second and whenever kicked:
 * <ol>
 *   <li>The meta group's leadership follows the {@code default} group's: a meta leader that does
 *       not lead {@code default} hands meta leadership to the node that does, so that one node
 *       sees both groups' state and changes both (etcd has one Raft group for both).</li>
 *   <li>The node that leads both groups seeds an empty table with the founding members, then
 *       takes the next {@link MembershipPlan} steps, after a ReadIndex barrier on the meta group
 *       so that it never acts on a table older than a step already taken.</li>
 *   <li>Every node keeps its peer transport's address book in step with the table
 *       ({@code addressSync}).</li>
 * </ol>
 * Steps are idempotent and only move forward, so a crash at any point is repaired by the next
 * leader's next round. Runs on {@code scheduler}, which it does not own; a round blocks (on
 * the meta group's read barrier) for at most a second, so give it a thread of its own.
 */
public final class MembershipReconciler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MembershipReconciler.class);
    /** Longest a round waits for the meta group's read barrier. */
    private static final long BARRIER_MILLIS = 1_000;

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final long defaultGroup;
    private final MetaStateMachine meta;
    private final Supplier<MetaCommand> seed;
    private final Predicate<NodeId> connected;
    private final Consumer<Set<NodeId>> addressSync;
    private final ScheduledExecutorService scheduler;
    private final long periodMillis;
    private final long handOverPatienceMillis;
    private final LongSupplier clockMillis;
    private final Map<Long, CompletableFuture<Object>> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
    private ScheduledFuture<?> periodic;
    private long metaTransferAtMillis = Long.MIN_VALUE / 2;
    private long handOverSinceMillis = -1;

    /**
     * @param seed                   the founding members' seed command, or null when this node
     *                               joined an existing cluster (it never seeds)
     * @param connected              whether this node's peer stream to a node is up
     * @param addressSync            told, each round, the nodes of the local groups' memberships,
     *                               to keep the transport's addresses in step with the table
     * @param handOverPatienceMillis how long a leader leaving the group waits for a successor
     *                               before removing itself (it then steps down once that commits)
     */
    public MembershipReconciler(NodeRuntime runtime, long metaGroup, long defaultGroup, MetaStateMachine meta,
                                Supplier<MetaCommand> seed, Predicate<NodeId> connected,
                                Consumer<Set<NodeId>> addressSync, ScheduledExecutorService scheduler,
                                long periodMillis, long handOverPatienceMillis, LongSupplier clockMillis) {
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.defaultGroup = defaultGroup;
        this.meta = meta;
        this.seed = seed;
        this.connected = connected;
        this.addressSync = addressSync;
        this.scheduler = scheduler;
        this.periodMillis = periodMillis;
        this.handOverPatienceMillis = handOverPatienceMillis;
        this.clockMillis = clockMillis;
    }

    public void start() {
        periodic = scheduler.scheduleWithFixedDelay(this::roundSafely, periodMillis, periodMillis,
                TimeUnit.MILLISECONDS);
    }

    /** Runs a round soon (after a table change), besides the periodic ones. */
    public void kick() {
        scheduler.execute(this::roundSafely);
    }

    @Override
    public void close() {
        if (periodic != null) {
            periodic.cancel(false);
        }
    }

    private void roundSafely() {
        try {
            round();
        } catch (RuntimeException e) {
            // a round that failed (node stopping, a query refused) is simply taken again next time
            log.warn("membership_round_failed node={} error={}", runtime.self(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One round at a time: a kick may come while a periodic round runs. */
    private synchronized void round() throws InterruptedException {
        LogStatus data = runtime.status(defaultGroup);
        LogStatus metaStatus = runtime.status(metaGroup);
        if (data == null || metaStatus == null) {
            return;
        }
        var inGroups = new HashSet<NodeId>(data.membership().sortedMembers());
        inGroups.addAll(metaStatus.membership().sortedMembers());
        addressSync.accept(inGroups);

        NodeId self = runtime.self();
        if (metaStatus.role() == Role.LEADER && data.role() != Role.LEADER) {
            Optional<NodeId> to = metaSuccessor(data, metaStatus);
            // one node leads both groups; a transfer that did not finish is retried after a while
            long now = clockMillis.getAsLong();
            if (to.isPresent() && now - metaTransferAtMillis > 4 * periodMillis + 1_000) {
                metaTransferAtMillis = now;
                log.info("meta_leadership_follows node={} to={}", self, to.get());
                runtime.transferLeadership(metaGroup, to.get());
            }
            return;
        }
        if (data.role() != Role.LEADER || metaStatus.role() != Role.LEADER) {
            handOverSinceMillis = -1;
            return;
        }
        MemberTable table = meta.members();
        if (table.seeded() && MembershipPlan.next(table, metaGroup, metaStatus.membership(), defaultGroup,
                data.membership(), self).isEmpty()) {
            handOverSinceMillis = -1;
            return;
        }
        // act only on a table at least as new as every committed change (a stale table could
        // re-add a member whose removal this node has not applied yet)
        try {
            runtime.readBarrier(metaGroup).get(BARRIER_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException notNow) {
            return;
        }
        table = meta.members();
        if (!table.seeded()) {
            MetaCommand s = seed.get();
            if (s != null && idle(metaGroup)) {
                log.info("member_table_seeding node={} members={}", self, s.getSeed().getMembersCount());
                inFlight.put(metaGroup, runtime.propose(metaGroup, MetaStateMachine.command(s)));
            }
            return;
        }
        data = runtime.status(defaultGroup);
        metaStatus = runtime.status(metaGroup);
        List<MembershipPlan.Step> steps = MembershipPlan.next(table, metaGroup, metaStatus.membership(),
                defaultGroup, data.membership(), self);
        boolean handingOver = false;
        for (MembershipPlan.Step step : steps) {
            switch (step) {
                case MembershipPlan.Change c -> propose(c.groupId(), c.change());
                case MembershipPlan.HandOver h -> {
                    handingOver = true;
                    handOver(table, data);
                }
            }
        }
        if (!handingOver) {
            handOverSinceMillis = -1;
        }
    }

    /**
     * Where a meta leader that does not lead the {@code default} group sends meta leadership:
     * to the {@code default} leader; or, when this node was removed and no longer hears from
     * that group, to any current meta voter it reaches (from there it finds the leader).
     */
    private Optional<NodeId> metaSuccessor(LogStatus data, LogStatus metaStatus) {
        NodeId self = runtime.self();
        if (data.leader() != null && !data.leader().equals(self) && metaStatus.membership().isVoter(data.leader())) {
            return Optional.of(data.leader());
        }
        MemberTable table = meta.members();
        if (!table.seeded() || table.currentByName(self.value()).isPresent()) {
            return Optional.empty();
        }
        return table.voters().stream().filter(Member::started).map(Member::node)
                .filter(n -> !n.equals(self) && metaStatus.membership().isVoter(n) && connected.test(n))
                .findFirst();
    }

    private void propose(long groupId, MembershipChange change) {
        if (!idle(groupId)) {
            return;
        }
        log.info("membership_step node={} group={} change={} node_changed={}", runtime.self(), groupId,
                change.type(), change.node());
        inFlight.put(groupId, runtime.proposeMembership(groupId, change));
    }

    private boolean idle(long groupId) {
        CompletableFuture<Object> f = inFlight.get(groupId);
        return f == null || f.isDone();
    }

    /**
     * This leader is being removed: hand both groups to the most up-to-date connected voter;
     * without one within the patience, remove itself (Raft steps it down once that commits).
     */
    private void handOver(MemberTable table, LogStatus data) throws InterruptedException {
        long now = clockMillis.getAsLong();
        if (handOverSinceMillis < 0) {
            handOverSinceMillis = now;
        }
        NodeId self = runtime.self();
        if (now - handOverSinceMillis > handOverPatienceMillis) {
            propose(defaultGroup, new MembershipChange(MembershipChange.Type.REMOVE, self));
            return;
        }
        Map<NodeId, Long> matches;
        try {
            matches = runtime.query(defaultGroup, r -> r.matchIndexes()).get(BARRIER_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException notNow) {
            return;
        }
        Optional<NodeId> successor = table.voters().stream().filter(Member::started).map(Member::node)
                .filter(n -> !n.equals(self) && data.membership().isVoter(n) && connected.test(n))
                .max(Comparator.comparingLong(n -> matches.getOrDefault(n, 0L)));
        if (successor.isPresent()) {
            log.info("leader_hand_over node={} to={} reason=removed", self, successor.get());
            runtime.transferLeadership(defaultGroup, successor.get());
            runtime.transferLeadership(metaGroup, successor.get());
        }
    }
}
