package dev.atoll.shard;

import dev.atoll.core.NodeId;

import java.util.Objects;

/** One replica of a shard: the node it lives on and whether it votes. */
public record Replica(NodeId node, Role role) implements Comparable<Replica> {
    /** A voter counts towards quorum; a learner receives the log (and a snapshot) but does not vote. */
    public enum Role { VOTER, LEARNER }

    public Replica {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(role, "role");
    }

    public static Replica voter(NodeId node) {
        return new Replica(node, Role.VOTER);
    }

    public static Replica learner(NodeId node) {
        return new Replica(node, Role.LEARNER);
    }

    public boolean isVoter() {
        return role == Role.VOTER;
    }

    @Override
    public int compareTo(Replica other) {
        return node.compareTo(other.node);
    }

    @Override
    public String toString() {
        return role == Role.VOTER ? node.value() : node.value() + "(learner)";
    }
}
