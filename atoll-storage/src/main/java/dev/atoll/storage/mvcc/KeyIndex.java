package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedMap;
import java.util.TreeMap;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

/**
 * The newest version of every live key, without its value: what a put, delete or txn compare
 * needs to know about the current state, so that a write costs no RocksDB seek (etcd keeps
 * the same in memory, its treeIndex). A deleted key is simply absent, exactly as a read at the
 * current revision sees it; tombstones and older versions stay in RocksDB only, where ranges at
 * past revisions, history and compaction read them. Compaction never removes a live key's
 * newest version, so it leaves this index unchanged. Rebuilt from RocksDB on open and on a
 * checkpoint install.
 *
 * <p>Each live key has one {@link Slot}, held both by a sorted map (ranges) and by a hash map
 * (point lookups): a put reads and replaces a live key's version with one hash lookup instead of
 * two searches of the sorted map, which with many keys is most of the index's cost per put.
 *
 * <p>Memory, per live key (64-bit JVM, compressed oops, 8-byte alignment): a TreeMap entry 40
 * bytes, a HashMap node 32 bytes and its share of the table about 8, the {@link Slot} 24, the
 * {@link Latest} record 48, the key's byte array 16 + key bytes rounded up to 8: <b>168 bytes +
 * the key rounded up to 8</b> (184 bytes for a 16-byte key; 1 M such keys take about 185 MB of
 * heap). While a batch is applied, each change also keeps an undo record (24 bytes) until the
 * batch is written; a batch is bounded by {@link MvccConfig#applyBatchEntriesMax}.
 *
 * <p>Threads: touched only by the applier, under the store's apply lock.
 */
final class KeyIndex {
    /** What a key's newest version holds besides its value. */
    record Latest(long createRevision, long modRevision, long version, long lease) {
        KeyValue toKeyValue(byte[] key, byte[] value) {
            return new KeyValue(key.clone(), createRevision, modRevision, version, value, lease);
        }
    }

    /**
     * A live key and its newest version. As a hash map key it is equal to any slot of the same
     * key bytes, so a lookup probes with a slot of the caller's array; the slots kept in the maps
     * hold this index's own copy, so no caller can reorder the maps by changing its array.
     */
    private static final class Slot {
        final byte[] key;
        final int hash;
        Latest latest;

        Slot(byte[] key, Latest latest) {
            this.key = key;
            this.hash = Arrays.hashCode(key);
            this.latest = latest;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Slot other && other.hash == hash && Arrays.equals(other.key, key);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** How to put back one change: the key and what it mapped to before (null: absent). */
    private record Undo(byte[] key, Latest previous) {
    }

    private final TreeMap<byte[], Slot> sorted = new TreeMap<>(Arrays::compareUnsigned);
    private final HashMap<Slot, Slot> byKey = new HashMap<>();
    /** Changes not yet written to RocksDB, oldest first. */
    private final List<Undo> undo = new ArrayList<>();

    /** Reads the newest version of every key from the kv column family; tombstoned keys are left out. */
    static KeyIndex load(RocksDB db, ColumnFamilyHandle kv) {
        KeyIndex index = new KeyIndex();
        try (RocksIterator it = db.newIterator(kv)) {
            it.seekToFirst();
            while (it.isValid()) {
                byte[] encoded = it.key();
                byte[] userKey = KeyCodec.userKey(encoded);
                byte[] stored = it.value();
                if (!VersionCodec.isTombstone(stored)) {
                    KeyValue kvHeader = VersionCodec.decode(userKey, KeyCodec.revision(encoded), stored, true);
                    index.insert(userKey, new Latest(kvHeader.createRevision(), kvHeader.modRevision(),
                            kvHeader.version(), kvHeader.lease()));
                }
                // Versions are newest first: skip this key's older ones.
                byte[] start = KeyCodec.keyStart(userKey);
                it.next();
                if (it.isValid() && KeyCodec.isVersionOf(it.key(), start)) {
                    it.seek(KeyCodec.afterAllVersions(start));
                }
            }
            RangeScan.checkStatus(it);
        }
        return index;
    }

    /** The key's newest version, or null when the key is absent or deleted. */
    Latest get(byte[] key) {
        Slot slot = slotOf(key);
        return slot == null ? null : slot.latest;
    }

    /** The key now has this newest version. */
    void put(byte[] key, Latest latest) {
        Slot slot = slotOf(key);
        if (slot != null) {
            undo.add(new Undo(slot.key, slot.latest));
            slot.latest = latest;
            return;
        }
        slot = insert(key.clone(), latest);
        undo.add(new Undo(slot.key, null));
    }

    /** The key was deleted. */
    void remove(byte[] key) {
        Slot slot = byKey.remove(new Slot(key, null));
        check(slot != null, "only a live key is deleted");
        sorted.remove(slot.key);
        undo.add(new Undo(slot.key, slot.latest));
    }

    /** The live keys named by (key, rangeEnd) with etcd's range_end conventions, in key order. */
    Iterable<Map.Entry<byte[], Latest>> range(byte[] key, byte[] rangeEnd) {
        if (rangeEnd.length == 0) {
            Slot slot = slotOf(key);
            return slot == null ? List.of() : List.of(Map.entry(slot.key, slot.latest));
        }
        SortedMap<byte[], Slot> slots;
        if (RangeScan.isFromKey(rangeEnd)) {
            slots = sorted.tailMap(key, true);
        } else if (Arrays.compareUnsigned(key, rangeEnd) >= 0) {
            slots = Collections.emptySortedMap();
        } else {
            slots = sorted.subMap(key, true, rangeEnd, false);
        }
        return () -> new Iterator<>() {
            private final Iterator<Slot> it = slots.values().iterator();

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Map.Entry<byte[], Latest> next() {
                Slot slot = it.next();
                return Map.entry(slot.key, slot.latest);
            }
        };
    }

    int size() {
        return byKey.size();
    }

    /** Where the undo log stands now; {@link #rollbackTo} this mark undoes every later change. */
    int undoMark() {
        return undo.size();
    }

    /** Undoes every change made since {@code mark}, newest first. */
    void rollbackTo(int mark) {
        check(mark >= 0 && mark <= undo.size(), "an undo mark is within the log");
        for (int i = undo.size() - 1; i >= mark; i--) {
            Undo u = undo.remove(i);
            Slot slot = slotOf(u.key());
            if (u.previous() == null) {
                byKey.remove(slot);
                sorted.remove(slot.key);
            } else if (slot == null) {
                insert(u.key(), u.previous()); // the undo record holds a slot's own copy of the key
            } else {
                slot.latest = u.previous();
            }
        }
    }

    /** The changes so far are durable in RocksDB: they will not be undone. */
    void forgetUndo() {
        undo.clear();
    }

    /** Whether changes are waiting for their batch to be written. */
    boolean hasUndo() {
        return !undo.isEmpty();
    }

    /** A copy of the index, for tests that compare it with a rebuilt one. */
    NavigableMap<byte[], Latest> copy() {
        check(sorted.size() == byKey.size(), "the sorted and the hash map hold the same keys: %d and %d",
                sorted.size(), byKey.size());
        TreeMap<byte[], Latest> out = new TreeMap<>(Arrays::compareUnsigned);
        sorted.forEach((k, slot) -> {
            check(byKey.get(slot) == slot, "the hash map holds the sorted map's slot");
            out.put(k.clone(), slot.latest);
        });
        return out;
    }

    /** The live key's slot, or null; {@code key} may be any array of its bytes. */
    private Slot slotOf(byte[] key) {
        return byKey.get(new Slot(key, null));
    }

    /** Adds a key that is not live; {@code ownKey} is this index's own copy. */
    private Slot insert(byte[] ownKey, Latest latest) {
        Slot slot = new Slot(ownKey, latest);
        sorted.put(ownKey, slot);
        byKey.put(slot, slot);
        return slot;
    }
}
