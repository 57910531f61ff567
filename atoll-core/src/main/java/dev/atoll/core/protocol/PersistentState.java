package dev.atoll.core.protocol;

import java.util.List;

/**
 * What a replica finds on its disk when it starts: the hard state, the latest snapshot and
 * the log entries after it, in index order with no gaps.
 */
public record PersistentState(HardState hardState, Snapshot snapshot, List<Entry> entries) {
    public PersistentState {
        entries = List.copyOf(entries);
        long expected = snapshot.index() + 1;
        for (Entry e : entries) {
            if (e.index() != expected) {
                throw new IllegalArgumentException("persisted log has a gap or overlap at " + e.index()
                        + ", expected " + expected);
            }
            expected++;
        }
    }

    /**
     * A founding member of a new group: the initial membership lives in the bootstrap snapshot
     * at index 0, which every founder holds. A node that joins later starts {@link #joining()}
     * and receives that snapshot (or a later one) from the leader before any entry.
     */
    public static PersistentState bootstrap(Membership membership) {
        return new PersistentState(HardState.EMPTY, Snapshot.bootstrap(membership), List.of());
    }

    /** A node that will join an existing group: empty log, no membership until it replicates one. */
    public static PersistentState joining() {
        return new PersistentState(HardState.EMPTY, Snapshot.bootstrap(Membership.ofVoters(java.util.Set.of())),
                List.of());
    }
}
