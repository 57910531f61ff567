package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

/** A snapshot of a replica's protocol state for checkers, metrics and status pages. */
public record LogStatus(
        NodeId id,
        Role role,
        long term,
        NodeId leader,
        long commitIndex,
        long appliedIndex,
        long firstIndex,
        long lastIndex,
        Membership membership) {
}
