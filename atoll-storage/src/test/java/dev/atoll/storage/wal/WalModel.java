package dev.atoll.storage.wal;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.PersistentState;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The log's meaning, written the plain way (a sorted map per group), to compare recovery with.
 * Also builds test data.
 */
final class WalModel {
    /** What a test compares: a group's state without the snapshot's (absent) data. */
    record GroupView(HardState hardState, SnapshotMeta snapshot, List<Entry> entries) {
    }

    private static final class Group {
        HardState hardState = HardState.EMPTY;
        SnapshotMeta snapshot = SnapshotMeta.NONE;
        final TreeMap<Long, Entry> entries = new TreeMap<>();

        long lastIndex() {
            return entries.isEmpty() ? snapshot.index() : entries.lastKey();
        }
    }

    private final TreeMap<Long, Group> groups = new TreeMap<>();

    void apply(List<GroupWrite> writes) {
        for (GroupWrite w : writes) {
            Group g = groups.computeIfAbsent(w.groupId(), id -> new Group());
            if (w.snapshot() != null) {
                g.snapshot = w.snapshot();
                if (w.replacesLog()) {
                    g.entries.clear(); // installed from the leader: the whole log goes
                } else {
                    g.entries.headMap(w.snapshot().index(), true).clear();
                }
            }
            if (!w.entries().isEmpty()) {
                g.entries.tailMap(w.entries().get(0).index(), true).clear();
                w.entries().forEach(e -> g.entries.put(e.index(), e));
            }
            if (w.hardState() != null) {
                g.hardState = w.hardState();
            }
        }
    }

    long lastIndex(long groupId) {
        Group g = groups.get(groupId);
        return g == null ? 0 : g.lastIndex();
    }

    long snapshotIndex(long groupId) {
        Group g = groups.get(groupId);
        return g == null ? 0 : g.snapshot.index();
    }

    Map<Long, GroupView> view() {
        Map<Long, GroupView> view = new TreeMap<>();
        groups.forEach((id, g) -> view.put(id, new GroupView(g.hardState, g.snapshot, List.copyOf(g.entries.values()))));
        return view;
    }

    static Map<Long, GroupView> view(Map<Long, PersistentState> recovered) {
        Map<Long, GroupView> view = new TreeMap<>();
        recovered.forEach((id, s) -> view.put(id,
                new GroupView(s.hardState(), SnapshotMeta.of(s.snapshot()), s.entries())));
        return view;
    }

    static List<Entry> entries(long firstIndex, long lastIndex, long term, int dataBytes) {
        List<Entry> entries = new ArrayList<>();
        for (long i = firstIndex; i <= lastIndex; i++) {
            byte[] data = new byte[dataBytes];
            for (int b = 0; b < dataBytes; b++) {
                data[b] = (byte) (i * 31 + term * 7 + b);
            }
            entries.add(new Entry(i, term, Entry.Kind.COMMAND, data));
        }
        return entries;
    }

    static HardState hardState(long term, String vote, long commit) {
        return new HardState(term, vote == null ? null : NodeId.of(vote), commit);
    }

    static SnapshotMeta snapshot(long index, long term) {
        return new SnapshotMeta(index, term, new Membership(Set.of(NodeId.of("n1"), NodeId.of("n2"), NodeId.of("n3")),
                Set.of(NodeId.of("n4"))));
    }
}
