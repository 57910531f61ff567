package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

import java.util.Set;
import java.util.TreeSet;

/** The voters and the non-voting learners of a group. A node is never both. */
public record Membership(Set<NodeId> voters, Set<NodeId> learners) {
    public Membership {
        voters = Set.copyOf(voters);
        learners = Set.copyOf(learners);
        for (NodeId l : learners) {
            if (voters.contains(l)) {
                throw new IllegalArgumentException(l + " is both voter and learner");
            }
        }
    }

    public static Membership ofVoters(Set<NodeId> voters) {
        return new Membership(voters, Set.of());
    }

    public boolean isVoter(NodeId id) {
        return voters.contains(id);
    }

    public boolean isMember(NodeId id) {
        return voters.contains(id) || learners.contains(id);
    }

    public int quorum() {
        return voters.size() / 2 + 1;
    }

    /** This membership with {@code change} applied; throws IllegalArgumentException if it makes no sense. */
    public Membership apply(MembershipChange change) {
        var v = new TreeSet<>(voters);
        var l = new TreeSet<>(learners);
        NodeId n = change.node();
        switch (change.type()) {
            case ADD_VOTER -> {
                l.remove(n);
                v.add(n);
            }
            case ADD_LEARNER -> {
                if (v.contains(n)) {
                    throw new IllegalArgumentException(n + " is already a voter");
                }
                l.add(n);
            }
            case REMOVE -> {
                v.remove(n);
                l.remove(n);
            }
        }
        return new Membership(v, l);
    }

    /** Sorted voters, for deterministic iteration. */
    public TreeSet<NodeId> sortedMembers() {
        var all = new TreeSet<>(voters);
        all.addAll(learners);
        return all;
    }

    @Override
    public String toString() {
        return "voters=" + new TreeSet<>(voters) + (learners.isEmpty() ? "" : " learners=" + new TreeSet<>(learners));
    }
}
