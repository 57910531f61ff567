package dev.atoll.storage.wal;

import static dev.atoll.core.Check.checkArgument;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;

import java.util.List;

/**
 * What one replica group asks the log to persist in one round, as a core's {@code Ready} carries
 * it. Written in this order: the snapshot metadata (if not null), the entries (which replace the
 * group's entries at or after the first one's index), the hard state (if not null).
 *
 * <p>A snapshot comes in two kinds. A local compaction ({@code replacesLog} false, {@link
 * #ofSnapshot}) keeps the group's entries above the snapshot index: they continue it. A snapshot
 * installed from the leader ({@code replacesLog} true, {@link #ofInstalledSnapshot}) discards
 * every entry of the group first: the follower's entries above it may conflict with the leader's
 * log, and the Raft core's contract is to replace the whole persisted log with the snapshot
 * followed by this write's entries, which must then start right after the snapshot.
 */
public record GroupWrite(long groupId, SnapshotMeta snapshot, List<Entry> entries, HardState hardState,
                         boolean replacesLog) {
    public GroupWrite {
        entries = List.copyOf(entries);
        checkArgument(snapshot != null || !entries.isEmpty() || hardState != null,
                "a group write persists something: group %d", groupId);
        for (int i = 1; i < entries.size(); i++) {
            checkArgument(entries.get(i).index() == entries.get(i - 1).index() + 1,
                    "a batch of entries is contiguous: group %d has %d after %d", groupId,
                    entries.get(i).index(), entries.get(i - 1).index());
        }
        if (replacesLog) {
            checkArgument(snapshot != null, "group %d: only a snapshot replaces the log", groupId);
            long firstIndex = entries.isEmpty() ? snapshot.index() + 1 : entries.get(0).index();
            checkArgument(firstIndex == snapshot.index() + 1,
                    "group %d: entries after installed snapshot %d must start at %d, batch starts at %d", groupId,
                    snapshot.index(), snapshot.index() + 1, firstIndex);
        }
    }

    /** A write that keeps the group's log: any snapshot in it is a local compaction. */
    public GroupWrite(long groupId, SnapshotMeta snapshot, List<Entry> entries, HardState hardState) {
        this(groupId, snapshot, entries, hardState, false);
    }

    public static GroupWrite ofEntries(long groupId, List<Entry> entries) {
        return new GroupWrite(groupId, null, entries, null, false);
    }

    public static GroupWrite ofHardState(long groupId, HardState hardState) {
        return new GroupWrite(groupId, null, List.of(), hardState, false);
    }

    /** A local compaction: the group's entries above {@code snapshot} stay. */
    public static GroupWrite ofSnapshot(long groupId, SnapshotMeta snapshot) {
        return new GroupWrite(groupId, snapshot, List.of(), null, false);
    }

    /**
     * A snapshot received from the leader: every entry of the group is discarded, then the
     * snapshot set, then {@code entriesAfter} (empty, or starting at {@code snapshot.index() + 1})
     * and the hard state (may be null) written. Throws IllegalArgumentException otherwise.
     */
    public static GroupWrite ofInstalledSnapshot(long groupId, SnapshotMeta snapshot, List<Entry> entriesAfter,
                                                 HardState hardState) {
        return new GroupWrite(groupId, snapshot, entriesAfter, hardState, true);
    }
}
