package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

/** What became of a proposal, read request or transfer at the moment it was offered. */
public sealed interface ProposeResult {
    /**
     * Appended to the leader's log at {@code index} in {@code term} (0/0 for reads and transfers
     * served by this replica). As the outcome of a forwarded read, {@code index} is the read
     * index the leader confirmed and {@code term} its term.
     */
    record Accepted(long index, long term) implements ProposeResult {
    }

    /** This replica is not the leader; {@code leaderHint} is the leader it knows of, or null. */
    record NotLeader(NodeId leaderHint) implements ProposeResult {
    }

    /** Refused without effect, for the stated reason (transfer in progress, change pending, ...). */
    record Dropped(String reason) implements ProposeResult {
    }

    /**
     * Relayed to {@code leader}, which decides. The outcome arrives in a later {@link Ready}: for a
     * proposal, a {@link ProposalOutcome} with {@code proposalId}; for a read, a {@link ReadState}
     * or a {@link ReadRefusal} with the read's own id (then {@code proposalId} is that read id).
     * Nothing may arrive at all (the request or the answer was lost, the leader failed): the
     * driver must time out, and a write that timed out has an unknown outcome.
     */
    record Forwarded(long proposalId, NodeId leader) implements ProposeResult {
    }
}
