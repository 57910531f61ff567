package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

/** What became of a proposal, read request or transfer at the moment it was offered. */
public sealed interface ProposeResult {
    /** Appended to the leader's log at {@code index} in {@code term} (0/0 for reads and transfers). */
    record Accepted(long index, long term) implements ProposeResult {
    }

    /** This replica is not the leader; {@code leaderHint} is the leader it knows of, or null. */
    record NotLeader(NodeId leaderHint) implements ProposeResult {
    }

    /** Refused without effect, for the stated reason (transfer in progress, change pending, ...). */
    record Dropped(String reason) implements ProposeResult {
    }
}
