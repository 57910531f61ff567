package dev.atoll.storage.wal;

import static dev.atoll.core.Check.checkArgument;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;

import java.util.List;

/**
 * What one replica group asks the log to persist in one round, as a core's {@code Ready} carries
 * it. Written in this order: the snapshot metadata (if not null), the entries (which replace the
 * group's entries at or after the first one's index), the hard state (if not null).
 */
public record GroupWrite(long groupId, SnapshotMeta snapshot, List<Entry> entries, HardState hardState) {
    public GroupWrite {
        entries = List.copyOf(entries);
        checkArgument(snapshot != null || !entries.isEmpty() || hardState != null,
                "a group write persists something: group %d", groupId);
        for (int i = 1; i < entries.size(); i++) {
            checkArgument(entries.get(i).index() == entries.get(i - 1).index() + 1,
                    "a batch of entries is contiguous: group %d has %d after %d", groupId,
                    entries.get(i).index(), entries.get(i - 1).index());
        }
    }

    public static GroupWrite ofEntries(long groupId, List<Entry> entries) {
        return new GroupWrite(groupId, null, entries, null);
    }

    public static GroupWrite ofHardState(long groupId, HardState hardState) {
        return new GroupWrite(groupId, null, List.of(), hardState);
    }

    public static GroupWrite ofSnapshot(long groupId, SnapshotMeta snapshot) {
        return new GroupWrite(groupId, snapshot, List.of(), null);
    }
}
