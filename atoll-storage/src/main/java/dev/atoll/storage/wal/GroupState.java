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
    /**
     * Sequence of the segment holding the group's last installed-snapshot record, or -1: every
     * entry of the group in an older segment was discarded by it.
     */
    long installSegment = -1;
    /** {@link #installSegment} as of the last sync: the entries it discarded may be deleted. */
    long durableInstallSegment = -1;
    /** Bytes this group adds to a checkpoint payload, kept current so the bound is cheap to check. */
    long checkpointBytes = WalCodec.checkpointGroupBytes(hardState, snapshot);

    GroupState copy() {
        GroupState c = new GroupState();
        c.hardState = hardState;
        c.snapshot = snapshot;
        c.lastIndex = lastIndex;
        c.durableSnapshotIndex = durableSnapshotIndex;
        c.installSegment = installSegment;
        c.durableInstallSegment = durableInstallSegment;
        c.checkpointBytes = checkpointBytes;
        return c;
    }

    void applySnapshot(SnapshotMeta s) {
        snapshot = s;
        // entries after the snapshot continue it; a shorter log is wholly obsolete
        lastIndex = Math.max(lastIndex, s.index());
        checkpointBytes = WalCodec.checkpointGroupBytes(hardState, snapshot);
    }

    /** A snapshot from the leader replaces the whole log: no entry follows it yet. */
    void applyInstalledSnapshot(SnapshotMeta s) {
        snapshot = s;
        lastIndex = s.index();
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
