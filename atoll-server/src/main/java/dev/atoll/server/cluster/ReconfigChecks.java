package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * etcd's strict reconfiguration checks (--strict-reconfig-check, on by default), made on the
 * leader before a change is proposed: a change must not leave fewer started voters than a
 * quorum, must not be made while the leader cannot reach the voters it would need, and a
 * learner is promoted only once its log is in sync with the leader's. "Started" is etcd's
 * word for a member that has published its name; "connected" is the leader's peer stream to
 * the member being up (etcd looks at its transport's active time). Pure functions.
 */
public final class ReconfigChecks {
    /** etcd's readyPercent: a learner is in sync once it holds 90 % of the leader's log. */
    public static final double LEARNER_READY_FRACTION = 0.9;

    private ReconfigChecks() {
    }

    /** etcd's mayAddMember. */
    public static Optional<MemberError> mayAdd(MemberTable table, boolean learner, NodeId self,
                                               Predicate<NodeId> connected) {
        List<Member> voters = table.voters();
        if (!learner) {
            // IsReadyToAddVotingMember: the newcomer counts as a member, not as started
            int members = voters.size() + 1;
            long started = voters.stream().filter(Member::started).count();
            boolean restoringFromOne = started == 1 && members == 2;
            if (!restoringFromOne && started < members / 2 + 1) {
                return Optional.of(MemberError.NOT_ENOUGH_STARTED);
            }
        }
        // isConnectedFullySince: every voter reachable from the leader
        for (Member v : voters) {
            if (!isConnected(v, self, connected)) {
                return Optional.of(MemberError.UNHEALTHY);
            }
        }
        return Optional.empty();
    }

    /** etcd's mayRemoveMember, for a member known to be current. */
    public static Optional<MemberError> mayRemove(MemberTable table, Member target, NodeId self,
                                                  Predicate<NodeId> connected) {
        if (target.learner()) {
            return Optional.empty(); // a learner is not part of any quorum
        }
        List<Member> voters = table.voters();
        // IsReadyToRemoveVotingMember
        List<Member> remaining = voters.stream().filter(v -> v.id() != target.id()).toList();
        long started = remaining.stream().filter(Member::started).count();
        if (started < remaining.size() / 2 + 1) {
            return Optional.of(MemberError.NOT_ENOUGH_STARTED);
        }
        // a member that is down is not part of the active quorum: removing it is safe
        boolean targetIsSelf = target.started() && target.node().equals(self);
        if (!targetIsSelf && !isConnected(target, self, connected)) {
            return Optional.empty();
        }
        long active = voters.stream().filter(v -> isConnected(v, self, connected)).count();
        if (active - 1 < 1 + (voters.size() - 1) / 2) {
            return Optional.of(MemberError.UNHEALTHY);
        }
        return Optional.empty();
    }

    /**
     * etcd's mayPromoteMember for a current learner: in sync with the leader ({@code matchIndexes}
     * as the leader of the {@code default} group knows them; a learner that never started has
     * none), then IsReadyToPromoteMember.
     */
    public static Optional<MemberError> mayPromote(MemberTable table, Member learner, NodeId self,
                                                   Map<NodeId, Long> matchIndexes) {
        Long leaderMatch = matchIndexes.get(self);
        Long learnerMatch = learner.started() ? matchIndexes.get(learner.node()) : null;
        if (leaderMatch == null || learnerMatch == null
                || learnerMatch < leaderMatch * LEARNER_READY_FRACTION) {
            return Optional.of(MemberError.LEARNER_NOT_READY);
        }
        List<Member> voters = table.voters();
        // the learner counts as a future voter, and as started
        int members = voters.size() + 1;
        long started = voters.stream().filter(Member::started).count() + 1;
        if (started < members / 2 + 1) {
            return Optional.of(MemberError.NOT_ENOUGH_STARTED);
        }
        return Optional.empty();
    }

    private static boolean isConnected(Member m, NodeId self, Predicate<NodeId> connected) {
        if (!m.started()) {
            return false;
        }
        return m.node().equals(self) || connected.test(m.node());
    }
}
