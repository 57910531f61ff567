package dev.atoll.storage.wal;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;

import java.util.List;
import java.util.Map;

/** A decoded log record. */
sealed interface WalRecord {
    /** Entries of a group; they replace the group's entries at or after the first one's index. */
    record Entries(long groupId, List<Entry> entries) implements WalRecord {
    }

    /** A group's hard state; the last one wins. */
    record HardStateSet(long groupId, HardState hardState) implements WalRecord {
    }

    /**
     * A group's snapshot metadata from a local compaction; the last one wins and makes entries at
     * or below it obsolete. Entries above it stay.
     */
    record SnapshotSet(long groupId, SnapshotMeta snapshot) implements WalRecord {
    }

    /**
     * A snapshot installed from the leader: every entry of the group written before it is
     * obsolete, whatever its index, and the snapshot is set as by {@link SnapshotSet}.
     */
    record SnapshotInstall(long groupId, SnapshotMeta snapshot) implements WalRecord {
    }

    /** First record of every segment: each live group's state, so older segments can go. */
    record Checkpoint(Map<Long, GroupCheckpoint> groups) implements WalRecord {
    }

    /**
     * The segment was fsynced through {@code offset} before this record was written. Recovery
     * uses it to tell real corruption (a bad record that was durable) from a torn crash tail.
     */
    record SyncedThrough(long offset) implements WalRecord {
    }

    record GroupCheckpoint(HardState hardState, SnapshotMeta snapshot) {
    }
}
