package dev.atoll.server.runtime;

import dev.atoll.core.NodeId;

/** A write or linearizable read reached a replica that is not the group's leader. */
public final class NotLeaderException extends RuntimeException {
    private final NodeId leaderHint;

    public NotLeaderException(long groupId, NodeId leaderHint) {
        super("not leader of group " + groupId + (leaderHint == null ? "" : "; leader is " + leaderHint), null,
                false, false);
        this.leaderHint = leaderHint;
    }

    /** The leader this replica knows of, or null. */
    public NodeId leaderHint() {
        return leaderHint;
    }
}
