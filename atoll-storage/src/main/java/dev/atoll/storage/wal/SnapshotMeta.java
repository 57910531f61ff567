package dev.atoll.storage.wal;

import static dev.atoll.core.Check.checkArgument;

import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;

import java.util.Objects;
import java.util.Set;

/**
 * What the log records of a snapshot: its last index and term and the membership in force
 * there. The snapshot's data lives elsewhere (the state machine's snapshot store).
 */
public record SnapshotMeta(long index, long term, Membership membership) {
    /** A group that has written no snapshot: index 0, no members (as {@link dev.atoll.core.protocol.PersistentState#joining()}). */
    public static final SnapshotMeta NONE = new SnapshotMeta(0, 0, new Membership(Set.of(), Set.of()));

    public SnapshotMeta {
        checkArgument(index >= 0 && term >= 0, "snapshot index and term are never negative: %d@%d", index, term);
        Objects.requireNonNull(membership, "membership");
    }

    public static SnapshotMeta of(Snapshot snapshot) {
        return new SnapshotMeta(snapshot.index(), snapshot.term(), snapshot.membership());
    }

    /** The snapshot without its data, as recovery hands it back. */
    public Snapshot toSnapshot() {
        return new Snapshot(index, term, membership, new byte[0]);
    }
}
