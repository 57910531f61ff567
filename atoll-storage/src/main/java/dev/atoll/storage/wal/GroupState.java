package dev.atoll.storage.wal;

import dev.atoll.core.protocol.HardState;

/** What the writer remembers of one group: enough to validate writes and to write a checkpoint. */
final class GroupState {
    HardState hardState = HardState.EMPTY;
    SnapshotMeta snapshot = SnapshotMeta.NONE;
    /** The group's last index: its last entry, or its snapshot index when no entry follows it. */
    long lastIndex;
    /** The snapshot index of the last synced snapshot record: entries at or below it may be deleted. */
    long durableSnapshotIndex;
    /** Bytes this group adds to a checkpoint payload, kept current so the bound is cheap to check. */
    long checkpointBytes = WalCodec.checkpointGroupBytes(hardState, snapshot);

    GroupState copy() {
        GroupState c = new GroupState();
        c.hardState = hardState;
        c.snapshot = snapshot;
        c.lastIndex = lastIndex;
        c.durableSnapshotIndex = durableSnapshotIndex;
        c.checkpointBytes = checkpointBytes;
        return c;
    }

    void applySnapshot(SnapshotMeta s) {
        snapshot = s;
        // entries after the snapshot continue it; a shorter log is wholly obsolete
        lastIndex = Math.max(lastIndex, s.index());
        checkpointBytes = WalCodec.checkpointGroupBytes(hardState, snapshot);
    }

    void applyEntries(long lastEntryIndex) {
        lastIndex = lastEntryIndex;
    }

    void applyHardState(HardState hs) {
        hardState = hs;
        checkpointBytes = WalCodec.checkpointGroupBytes(hardState, snapshot);
    }

    WalRecord.GroupCheckpoint checkpoint() {
        return new WalRecord.GroupCheckpoint(hardState, snapshot);
    }
}
