package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardDescriptor;

import java.util.Optional;

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
