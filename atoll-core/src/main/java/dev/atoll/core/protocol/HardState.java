package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

/**
 * What a replica must remember across a crash besides its log: the highest term (ballot,
 * view) it has seen, whom it voted for in that term, and the commit index it knows.
 */
public record HardState(long term, NodeId vote, long commit) {
    public static final HardState EMPTY = new HardState(0, null, 0);
}
