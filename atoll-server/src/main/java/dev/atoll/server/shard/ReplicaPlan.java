package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardDescriptor;

import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The next Raft membership change that brings a shard's group to the replicas the shard map
 * lists, as its leader plans it: one change at a time (Raft's rule), only ever forward. A
 * replica the map lists joins as a learner (it is caught up by snapshot) and becomes a voter
 * once the map says so; a member the map no longer lists is removed, the leader itself last
 * and never by its own hand (it hands leadership to another voter, which removes it). Pure.
 */
public final class ReplicaPlan {
    private ReplicaPlan() {
    }

    /** What the group's leader does next. */
    public sealed interface Step permits Change, HandOver {
    }

    /** Propose {@code change} to the shard's group. */
    public record Change(MembershipChange change) implements Step {
    }

    /** The leader is to leave the group: hand leadership to {@code to} first. */
    public record HandOver(NodeId to) implements Step {
    }

    /** What the group's leader does next in a replica move from one node to another. */
    public enum MoveStep {
        /** Nothing yet: the target is not in the group, or is catching up. */
        WAIT,
        /** The target has caught up: the map makes it a voter. */
        PROMOTE,
        /** The target votes: the map drops the source. */
        REMOVE_SOURCE,
        /** The leader is the source: it hands leadership to the target first, and leaves last. */
        HAND_OVER
    }

    /**
     * The next step of a move of {@code shard}'s replica on {@code from} to {@code to}, as the map
     * and the group stand. The target is promoted once it is a member of the group (a learner,
     * or still a voter: the map may have dropped it in an earlier move off that node whose removal
     * the group has not applied yet, and such a replica never becomes a learner) and has caught up:
     * {@code targetMatch} (the leader's match index for it, 0 when unknown, asked only then) within
     * {@code lagMax} entries of the commit index.
     */
    public static MoveStep nextOfMove(ShardDescriptor shard, NodeId from, NodeId to, Membership group, NodeId leader,
                                      LongSupplier targetMatch, long commitIndex, long lagMax) {
        if (shard.learners().contains(to) && group.isMember(to)) {
            long match = targetMatch.getAsLong();
            return match > 0 && match + lagMax >= commitIndex ? MoveStep.PROMOTE : MoveStep.WAIT;
        }
        if (shard.voters().contains(to) && group.isVoter(to) && shard.hasReplicaOn(from)) {
            return from.equals(leader) ? MoveStep.HAND_OVER : MoveStep.REMOVE_SOURCE;
        }
        return MoveStep.WAIT;
    }

    public static Optional<Step> next(ShardDescriptor shard, Membership group, NodeId leader) {
        for (Replica r : shard.replicas()) {
            NodeId n = r.node();
            if (!group.isMember(n)) {
                return Optional.of(new Change(new MembershipChange(MembershipChange.Type.ADD_LEARNER, n)));
            }
            if (r.isVoter() && !group.isVoter(n)) {
                return Optional.of(new Change(new MembershipChange(MembershipChange.Type.ADD_VOTER, n)));
            }
        }
        for (NodeId n : group.sortedMembers()) {
            if (shard.hasReplicaOn(n) || n.equals(leader)) {
                continue;
            }
            return Optional.of(new Change(new MembershipChange(MembershipChange.Type.REMOVE, n)));
        }
        if (!shard.hasReplicaOn(leader)) {
            return shard.voters().stream().filter(group::isVoter).findFirst().map(HandOver::new);
        }
        return Optional.empty();
    }
}
