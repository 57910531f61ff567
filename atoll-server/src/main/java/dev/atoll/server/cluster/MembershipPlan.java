package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The next Raft membership changes that bring the meta group and the {@code default} group to
 * what the member table says, at most one per group (Raft changes one server at a time).
 * Pure: the same table and memberships give the same steps.
 *
 * <p>The rules, which make every crash between two steps recoverable by simply planning again:
 * <ul>
 *   <li>Only started members (with a name, hence a node id) are placed in groups.</li>
 *   <li>Steps only move forward: absent, then learner, then voter, then absent for good once the
 *       table says removed. Nothing is ever demoted or re-added, so a plan made on an older
 *       table can delay a step but never undo one.</li>
 *   <li>The meta group goes first when a member is added or promoted, the {@code default}
 *       group first when it is removed: the meta group (the address book) always holds at
 *       least what the data group holds, so a newcomer has the table before it serves data,
 *       and the {@code default} group's voters are always meta voters.</li>
 *   <li>The leader never removes itself from the {@code default} group directly: it hands
 *       leadership over, and the next leader removes it ({@link HandOver}).</li>
 * </ul>
 */
public final class MembershipPlan {
    private MembershipPlan() {
    }

    /** What to do next. */
    public sealed interface Step permits Change, HandOver {
    }

    /** Propose {@code change} to group {@code groupId}. */
    public record Change(long groupId, MembershipChange change) implements Step {
    }

    /** This leader is to leave the {@code default} group: hand leadership of both groups to another voter. */
    public record HandOver() implements Step {
    }

    private enum Level { ABSENT, LEARNER, VOTER }

    public static List<Step> next(MemberTable table, long metaGroup, Membership meta, long defaultGroup,
                                  Membership data, NodeId self) {
        Set<String> currentNames = table.current().stream().filter(Member::started).map(Member::name)
                .collect(Collectors.toSet());
        Optional<Step> metaStep = Optional.empty();
        Optional<Step> dataStep = Optional.empty();
        for (Member m : table.members()) {
            if (!m.started() || (m.removed() && currentNames.contains(m.name()))) {
                continue; // unstarted, or a tombstone whose name a newer member took
            }
            NodeId node = m.node();
            Level want = m.removed() ? Level.ABSENT : m.learner() ? Level.LEARNER : Level.VOTER;
            Level inMeta = level(meta, node);
            Level inData = level(data, node);
            if (metaStep.isEmpty()) {
                if (want != Level.ABSENT && inMeta.compareTo(want) < 0) {
                    metaStep = Optional.of(new Change(metaGroup, raise(want, node)));
                } else if (want == Level.ABSENT && inMeta != Level.ABSENT && inData == Level.ABSENT) {
                    metaStep = Optional.of(new Change(metaGroup,
                            new MembershipChange(MembershipChange.Type.REMOVE, node)));
                }
            }
            if (dataStep.isEmpty()) {
                if (want != Level.ABSENT && inData.compareTo(want) < 0 && inMeta.compareTo(want) >= 0) {
                    dataStep = Optional.of(new Change(defaultGroup, raise(want, node)));
                } else if (want == Level.ABSENT && inData != Level.ABSENT) {
                    dataStep = Optional.of(node.equals(self) ? new HandOver()
                            : new Change(defaultGroup, new MembershipChange(MembershipChange.Type.REMOVE, node)));
                }
            }
        }
        var steps = new ArrayList<Step>(2);
        metaStep.ifPresent(steps::add);
        dataStep.ifPresent(steps::add);
        return steps;
    }

    private static MembershipChange raise(Level want, NodeId node) {
        return new MembershipChange(want == Level.LEARNER ? MembershipChange.Type.ADD_LEARNER
                : MembershipChange.Type.ADD_VOTER, node);
    }

    private static Level level(Membership m, NodeId node) {
        return m.isVoter(node) ? Level.VOTER : m.learners().contains(node) ? Level.LEARNER : Level.ABSENT;
    }
}
