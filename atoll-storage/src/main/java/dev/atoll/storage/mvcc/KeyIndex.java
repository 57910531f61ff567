package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
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
 * <p>Memory, per live key (64-bit JVM, compressed oops, 8-byte alignment): a TreeMap entry 40
 * bytes, the key's byte array 16 + key bytes rounded up to 8, the {@link Latest} record 48 bytes:
 * <b>104 bytes + the key rounded up to 8</b> (120 bytes for a 16-byte key; 1 M such keys take
 * about 120 MB of heap). While a batch is applied, each change also keeps an undo record
 * (24 bytes) until the batch is written; a batch is bounded by {@link MvccConfig#applyBatchEntriesMax}.
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

    /** How to put back one change: the key and what it mapped to before (null: absent). */
    private record Undo(byte[] key, Latest previous) {
    }

    private final TreeMap<byte[], Latest> live = new TreeMap<>(Arrays::compareUnsigned);
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
                    index.live.put(userKey, new Latest(kvHeader.createRevision(), kvHeader.modRevision(),
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
        return live.get(key);
    }

    /** The key now has this newest version. */
    void put(byte[] key, Latest latest) {
        Latest previous = live.replace(key, latest);
        if (previous == null) {
            // a new map key: keep our own copy, so no caller can reorder the map by changing its array
            key = key.clone();
            live.put(key, latest);
        }
        undo.add(new Undo(key, previous));
    }

    /** The key was deleted. */
    void remove(byte[] key) {
        Latest previous = live.remove(key);
        check(previous != null, "only a live key is deleted");
        undo.add(new Undo(key, previous));
    }

    /** The live keys named by (key, rangeEnd) with etcd's range_end conventions, in key order. */
    SortedMap<byte[], Latest> range(byte[] key, byte[] rangeEnd) {
        if (rangeEnd.length == 0) {
            Latest latest = live.get(key);
            return latest == null ? Collections.emptySortedMap() : live.subMap(key, true, key, true);
        }
        if (RangeScan.isFromKey(rangeEnd)) {
            return live.tailMap(key, true);
        }
        if (Arrays.compareUnsigned(key, rangeEnd) >= 0) {
            return Collections.emptySortedMap();
        }
        return live.subMap(key, true, rangeEnd, false);
    }

    int size() {
        return live.size();
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
            if (u.previous() == null) {
                live.remove(u.key());
            } else {
                live.put(u.key().clone(), u.previous()); // a fresh copy if the key comes back
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
        TreeMap<byte[], Latest> out = new TreeMap<>(Arrays::compareUnsigned);
        live.forEach((k, v) -> out.put(k.clone(), v));
        return out;
    }
}
