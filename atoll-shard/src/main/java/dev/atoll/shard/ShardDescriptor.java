package dev.atoll.shard;

import dev.atoll.core.NodeId;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import static dev.atoll.core.Check.checkArgument;

/**
 * One shard as the meta group records it: which part of which keyspace it holds, its replicas
 * (sorted by node, one per node, at least one voter), the leader last reported (a hint, which
 * may be stale, or null) and its epoch. Immutable; the {@code with...} methods return copies.
 */
public record ShardDescriptor(ShardId id, String keyspace, ShardSpan span, List<Replica> replicas,
                              NodeId leaderHint, ShardEpoch epoch) {
    /** Replicas one shard may have at once: the largest replication factor, one in-flight move and learners. */
    public static final int REPLICAS_MAX = 16;

    public ShardDescriptor {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(keyspace, "keyspace");
        Objects.requireNonNull(span, "span");
        Objects.requireNonNull(epoch, "epoch");
        var sorted = new ArrayList<>(replicas);
        sorted.sort(null);
        replicas = List.copyOf(sorted);
        checkArgument(replicas.size() <= REPLICAS_MAX, "at most %d replicas: %s", REPLICAS_MAX, replicas);
        var nodes = new HashSet<NodeId>();
        boolean anyVoter = false;
        for (Replica r : replicas) {
            checkArgument(nodes.add(r.node()), "one replica per node: %s", replicas);
            anyVoter |= r.isVoter();
        }
        checkArgument(anyVoter, "a shard has at least one voter: %s", replicas);
        checkArgument(leaderHint == null || replicas.contains(Replica.voter(leaderHint)),
                "the leader hint %s is a voter of %s", leaderHint, replicas);
    }

    public List<NodeId> voters() {
        return replicas.stream().filter(Replica::isVoter).map(Replica::node).toList();
    }

    public List<NodeId> learners() {
        return replicas.stream().filter(r -> !r.isVoter()).map(Replica::node).toList();
    }

    /** Every node holding a replica, voter or learner, sorted. */
    public List<NodeId> nodes() {
        return replicas.stream().map(Replica::node).toList();
    }

    public Optional<Replica> replicaOn(NodeId node) {
        return replicas.stream().filter(r -> r.node().equals(node)).findFirst();
    }

    public boolean hasReplicaOn(NodeId node) {
        return replicaOn(node).isPresent();
    }

    public Optional<NodeId> leader() {
        return Optional.ofNullable(leaderHint);
    }

    /** Votes needed to commit: a majority of the voters. */
    public int quorum() {
        return voters().size() / 2 + 1;
    }

    public KeyRange keyRange() {
        checkArgument(span instanceof KeyRange, "%s holds %s, not a key range", id, span);
        return (KeyRange) span;
    }

    public HashSlots hashSlots() {
        checkArgument(span instanceof HashSlots, "%s holds %s, not hash slots", id, span);
        return (HashSlots) span;
    }

    ShardDescriptor withSpan(ShardSpan newSpan, ShardEpoch newEpoch) {
        return new ShardDescriptor(id, keyspace, newSpan, replicas, leaderHint, newEpoch);
    }

    ShardDescriptor withReplicas(List<Replica> newReplicas, NodeId newLeaderHint, ShardEpoch newEpoch) {
        return new ShardDescriptor(id, keyspace, span, newReplicas, newLeaderHint, newEpoch);
    }

    ShardDescriptor withLeaderHint(NodeId newLeaderHint) {
        return new ShardDescriptor(id, keyspace, span, replicas, newLeaderHint, epoch);
    }

    @Override
    public String toString() {
        return id + "{" + keyspace + " " + span + " " + replicas
                + (leaderHint == null ? "" : " leader=" + leaderHint) + " " + epoch + "}";
    }
}
