package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.AddMember;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.meta.PromoteMember;
import dev.atoll.proto.meta.PublishMember;
import dev.atoll.proto.meta.RemoveMember;
import dev.atoll.proto.meta.UpdateMember;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.NotLeaderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * etcd's membership operations (MemberAdd, MemberRemove, MemberUpdate, MemberPromote,
 * MoveLeader) and a member's publish, carried out on the node that leads both the meta and the
 * {@code default} group. Each change is checked as etcd checks it (its strict reconfiguration
 * check included), committed to the meta group's member table (which validates it again, as
 * etcd's apply does), and answered once the {@code default} group's committed membership shows
 * it; the {@link MembershipReconciler} takes the Raft steps.
 *
 * <p>Outcomes are values: {@link Done}, {@link Refused} with etcd's error, or {@link NotLeader}
 * (the caller forwards to the leader). A future fails only for what etcd also answers as a
 * failure of the request: a timeout (outcome unknown, the committed intent is still carried
 * out) or a leader change. Thread-safe; futures complete on the runtime's loop thread or on
 * {@code scheduler}.
 */
public final class MemberChanges {
    private static final Logger log = LoggerFactory.getLogger(MemberChanges.class);
    private static final long POLL_MILLIS = 20;

    public sealed interface Outcome permits Done, Refused, NotLeader {
    }

    /** The change is made; {@code member} is the member it concerns (null when none). */
    public record Done(Member member, MemberTable table) implements Outcome {
    }

    public record Refused(MemberError error) implements Outcome {
    }

    /** This node does not lead the {@code default} group; {@code leaderHint} does, if known. */
    public record NotLeader(NodeId leaderHint) implements Outcome {
    }

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final long defaultGroup;
    private final MetaStateMachine meta;
    private final Predicate<NodeId> connected;
    private final Runnable kick;
    private final ScheduledExecutorService scheduler;
    private final long timeoutMillis;
    private final LongSupplier epochSeconds;

    /**
     * @param connected     whether this node's peer stream to a node is up (strict checks)
     * @param kick          asks the reconciler for a round now
     * @param timeoutMillis longest a request waits (etcd's request timeout)
     * @param epochSeconds  wall clock, for etcd's member ids
     */
    public MemberChanges(NodeRuntime runtime, long metaGroup, long defaultGroup, MetaStateMachine meta,
                         Predicate<NodeId> connected, Runnable kick, ScheduledExecutorService scheduler,
                         long timeoutMillis, LongSupplier epochSeconds) {
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.defaultGroup = defaultGroup;
        this.meta = meta;
        this.connected = connected;
        this.kick = kick;
        this.scheduler = scheduler;
        this.timeoutMillis = timeoutMillis;
        this.epochSeconds = epochSeconds;
    }

    /** The member table as this node has applied it (etcd's MemberList is served locally too). */
    public MemberTable table() {
        return meta.members();
    }

    // ------------------------------------------------------------------ operations

    /** etcd's MemberAdd: the member is known by its peer URLs until it starts and publishes itself. */
    public CompletableFuture<Outcome> add(List<String> peerUrls, boolean learner) {
        Optional<List<String>> urls = PeerUrls.parse(peerUrls);
        if (urls.isEmpty()) {
            return done(new Refused(MemberError.BAD_URLS));
        }
        return asLeader(deadline(), table -> {
            Optional<MemberError> refused = ReconfigChecks.mayAdd(table, learner, runtime.self(), connected);
            if (refused.isPresent()) {
                return done(new Refused(refused.get()));
            }
            long id = MemberIds.ofAddedMember(urls.get(), epochSeconds.getAsLong());
            var member = new Member(id, "", urls.get(), List.of(), learner, false);
            return commit(MetaCommand.newBuilder().setAdd(AddMember.newBuilder().setMember(member.toProto())).build());
        });
    }

    /** etcd's MemberRemove; answered once the {@code default} group no longer counts the member. */
    public CompletableFuture<Outcome> remove(long id) {
        long deadline = deadline();
        return asLeader(deadline, table -> {
            Optional<Member> target = table.byId(id).filter(m -> !m.removed());
            if (target.isEmpty()) {
                return done(new Refused(MemberError.MEMBER_NOT_FOUND));
            }
            Optional<MemberError> refused = ReconfigChecks.mayRemove(table, target.get(), runtime.self(), connected);
            if (refused.isPresent()) {
                return done(new Refused(refused.get()));
            }
            return commit(MetaCommand.newBuilder().setRemove(RemoveMember.newBuilder().setId(id)).build())
                    .thenCompose(outcome -> awaitDefault(outcome, deadline,
                            (m, committed) -> !committed.isMember(m.node())));
        });
    }

    /** etcd's MemberPromote; answered once the {@code default} group counts the member as a voter. */
    public CompletableFuture<Outcome> promote(long id) {
        long deadline = deadline();
        return asLeader(deadline, table -> {
            Optional<Member> learner = table.byId(id).filter(m -> !m.removed());
            if (learner.isEmpty()) {
                return done(new Refused(MemberError.MEMBER_NOT_FOUND));
            }
            if (!learner.get().learner()) {
                return done(new Refused(MemberError.MEMBER_NOT_LEARNER));
            }
            return runtime.query(defaultGroup, r -> r.matchIndexes()).thenCompose(matches -> {
                Optional<MemberError> refused = ReconfigChecks.mayPromote(table, learner.get(), runtime.self(),
                        matches);
                if (refused.isPresent()) {
                    return done(new Refused(refused.get()));
                }
                return commit(MetaCommand.newBuilder().setPromote(PromoteMember.newBuilder().setId(id)).build())
                        .thenCompose(outcome -> awaitDefault(outcome, deadline,
                                (m, committed) -> committed.isVoter(m.node())));
            });
        });
    }

    /** etcd's MemberUpdate: new peer URLs, which every member's transport dials from then on. */
    public CompletableFuture<Outcome> update(long id, List<String> peerUrls) {
        Optional<List<String>> urls = PeerUrls.parse(peerUrls);
        if (urls.isEmpty()) {
            return done(new Refused(MemberError.BAD_URLS));
        }
        return asLeader(deadline(), table -> commit(MetaCommand.newBuilder()
                .setUpdate(UpdateMember.newBuilder().setId(id).addAllPeerUrls(urls.get())).build()));
    }

    /** etcd's publish: a starting member names itself and tells its client URLs (and its labels). */
    public CompletableFuture<Outcome> publish(PublishMember request) {
        return asLeader(deadline(), table -> commit(MetaCommand.newBuilder().setPublish(request).build()));
    }

    /**
     * etcd's MoveLeader: only the leader takes it (etcd: "not leader"); the target must be a
     * started voter. Hands both groups over and answers once the {@code default} group's
     * leader is the target, or LEADER_TRANSFER_TIMED_OUT.
     */
    public CompletableFuture<Outcome> moveLeader(long targetId) {
        LogStatus data = runtime.status(defaultGroup);
        if (data == null || data.role() != Role.LEADER) {
            return done(new Refused(MemberError.NOT_LEADER));
        }
        MemberTable table = meta.members();
        Optional<NodeId> target = table.byId(targetId)
                .filter(m -> m.isVoter() && m.started() && data.membership().isVoter(m.node()))
                .map(Member::node);
        if (target.isEmpty()) {
            return done(new Refused(MemberError.BAD_LEADER_TRANSFEREE));
        }
        if (target.get().equals(runtime.self())) {
            return done(new Done(table.byId(targetId).orElseThrow(), table));
        }
        log.info("leadership_transfer_starting node={} to={}", runtime.self(), target.get());
        runtime.transferLeadership(defaultGroup, target.get());
        runtime.transferLeadership(metaGroup, target.get());
        long deadline = deadline();
        return poll(deadline, () -> {
            LogStatus s = runtime.status(defaultGroup);
            return CompletableFuture.completedFuture(s != null && target.get().equals(s.leader()));
        }).thenApply(moved -> moved ? (Outcome) new Done(table.byId(targetId).orElseThrow(), meta.members())
                : new Refused(MemberError.LEADER_TRANSFER_TIMED_OUT));
    }

    // ------------------------------------------------------------------ steps

    private interface TableAction {
        CompletableFuture<Outcome> run(MemberTable freshTable);
    }

    /**
     * Runs {@code action} on a fresh table (after a meta ReadIndex) if this node leads the
     * {@code default} group and, within the deadline, the meta group too (the reconciler moves
     * meta leadership to the {@code default} leader).
     */
    private CompletableFuture<Outcome> asLeader(long deadline, TableAction action) {
        LogStatus data = runtime.status(defaultGroup);
        if (data == null || data.role() != Role.LEADER) {
            return done(new NotLeader(data == null ? null : data.leader()));
        }
        return poll(deadline, () -> {
            LogStatus m = runtime.status(metaGroup);
            return CompletableFuture.completedFuture(m != null && m.role() == Role.LEADER);
        }).thenCompose(leadsMeta -> {
            if (!leadsMeta) {
                LogStatus m = runtime.status(metaGroup);
                return CompletableFuture.failedFuture(new NotLeaderException(metaGroup, m == null ? null : m.leader()));
            }
            return runtime.readBarrier(metaGroup).thenCompose(index -> action.run(meta.members()));
        });
    }

    /** Proposes a member command to the meta group; the applied answer becomes the outcome. */
    private CompletableFuture<Outcome> commit(MetaCommand command) {
        return runtime.propose(metaGroup, MetaStateMachine.command(command)).thenApply(result -> {
            Outcome outcome = switch (result) {
                case MemberTable.Changed c -> new Done(c.member(), c.table());
                case MemberTable.Refused r -> new Refused(r.error());
                case null, default -> throw new IllegalStateException("a member command answers a change: " + result);
            };
            if (outcome instanceof Done d) {
                log.info("member_table_changed node={} op={} member={}", runtime.self(), command.getOpCase(),
                        d.member());
                kick.run();
            }
            return outcome;
        });
    }

    private interface MembershipCondition {
        boolean holds(Member member, Membership committed);
    }

    /**
     * Waits until the {@code default} group's committed membership meets {@code condition} for
     * the member (when it has started; an unstarted one is in no group), or this node stopped
     * leading it (a successor completes the change); etcd answers a configuration change once
     * applied.
     */
    private CompletableFuture<Outcome> awaitDefault(Outcome outcome, long deadline, MembershipCondition condition) {
        if (!(outcome instanceof Done done) || done.member() == null || !done.member().started()) {
            return done(outcome);
        }
        return poll(deadline, () -> {
            LogStatus s = runtime.status(defaultGroup);
            if (s == null || s.role() != Role.LEADER) {
                return CompletableFuture.completedFuture(true);
            }
            return runtime.query(defaultGroup, r -> r.committedMembership())
                    .thenApply(committed -> condition.holds(done.member(), committed));
        }).thenCompose(met -> met ? done(new Done(done.member(), meta.members()))
                : CompletableFuture.failedFuture(new TimeoutException("membership change not yet committed")));
    }

    /** Completes with true once {@code probe} does, or false at the deadline. */
    private CompletableFuture<Boolean> poll(long deadlineNanos, Supplier<CompletableFuture<Boolean>> probe) {
        var result = new CompletableFuture<Boolean>();
        pollOnce(deadlineNanos, probe, result);
        return result;
    }

    private void pollOnce(long deadlineNanos, Supplier<CompletableFuture<Boolean>> probe,
                          CompletableFuture<Boolean> result) {
        probe.get().whenComplete((ok, error) -> {
            if (error == null && ok) {
                result.complete(true);
            } else if (System.nanoTime() - deadlineNanos > 0) {
                result.complete(false);
            } else {
                scheduler.schedule(() -> pollOnce(deadlineNanos, probe, result), POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
    }

    private long deadline() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    }

    private static CompletableFuture<Outcome> done(Outcome outcome) {
        return CompletableFuture.completedFuture(outcome);
    }
}
