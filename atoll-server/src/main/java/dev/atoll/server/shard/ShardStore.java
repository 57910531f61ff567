package dev.atoll.server.shard;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardId;
import org.rocksdb.Options;
import org.rocksdb.Range;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SizeApproximationFlag;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.atoll.core.Check.check;

/**
 * The data of every shard replica on this node, in one RocksDB: not one database per shard, so
 * hundreds of shards share one set of files, caches and compactions. Each replica's keys live
 * under its own prefix (keyspace storage id, then shard id), so a replica's store is a prefixed
 * view ({@link Replica}) that the pure {@code dev.atoll.shard.replica.ShardReplica} reads and
 * writes; a split copies the new shard's rows to its prefix in the same batch that removes them
 * from the parent's.
 *
 * <p>Each replica's state outside its rows (bounds, applied log position, merge state) is
 * written in the same batch as the rows an entry changed, so that after a crash the store
 * holds exactly the state of some prefix of the log, and a restart replays the log past it.
 * Writes go through RocksDB's WAL without fsync: the Raft log is the durable record.
 * Thread-safe (RocksDB is); each replica's writes come from its group's apply, on one thread.
 */
public final class ShardStore implements AutoCloseable {
    private static final byte DATA = 'd';
    private static final byte APPLIED = 'a';

    static {
        RocksDB.loadLibrary();
    }

    private final RocksDB db;
    private final Options options;
    private final WriteOptions writeOptions = new WriteOptions().setSync(false).setDisableWAL(false);

    private ShardStore(RocksDB db, Options options) {
        this.db = db;
        this.options = options;
    }

    /** Opens (creating if missing) the store in {@code dir}. */
    public static ShardStore open(Path dir) {
        var options = new Options().setCreateIfMissing(true).setMaxOpenFiles(256);
        try {
            java.nio.file.Files.createDirectories(dir);
            return new ShardStore(RocksDB.open(options, dir.toString()), options);
        } catch (RocksDBException | java.io.IOException e) {
            options.close();
            throw new IllegalStateException("cannot open the shard store in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** One key and value, both as the user sees them. */
    public record KeyValue(byte[] key, byte[] value) {
    }

    /** Store keys [lo, hi) holding a replica's data. */
    public record Bounds(byte[] lo, byte[] hi) {
    }

    /**
     * What a replica's store records besides its rows: its applied log position and, encoded by
     * the replica's {@code ShardCodec}, a snapshot without rows (bounds, applied index, merge state).
     */
    public record Applied(long index, long term, byte[] replicaState) {
        public static final Applied NONE = new Applied(0, 0, new byte[0]);
    }

    /** The prefixed store of shard {@code shard}'s replica; {@code keyspaceId} is its keyspace's storage id. */
    public Replica replica(ShardId shard, long keyspaceId) {
        return new Replica(shard, keyspaceId);
    }

    /** The shards that have data or an applied position here, with the store bounds of their data. */
    public Map<ShardId, List<Bounds>> shardsWithData() {
        var found = new TreeMap<ShardId, List<Bounds>>();
        try (RocksIterator it = db.newIterator()) {
            for (it.seek(new byte[]{APPLIED}); it.isValid() && it.key()[0] == APPLIED; it.next()) {
                long id = ByteBuffer.wrap(it.key(), 1, 8).getLong();
                found.put(ShardId.of(id), boundsOf(it.value()));
            }
        }
        return found;
    }

    /** Deletes the data and applied position of a shard that is no longer hosted here. */
    public void deleteShard(ShardId shard, List<Bounds> bounds) {
        try (var batch = new WriteBatch()) {
            for (Bounds b : bounds) {
                batch.deleteRange(b.lo(), b.hi());
            }
            batch.delete(appliedKey(shard));
            db.write(writeOptions, batch);
        } catch (RocksDBException e) {
            throw storageFailed("delete shard " + shard, e);
        }
    }

    @Override
    public void close() {
        writeOptions.close();
        db.close();
        options.close();
    }

    // ------------------------------------------------------------------ layout

    private static byte[] replicaPrefix(long keyspaceId, ShardId shard) {
        return ByteBuffer.allocate(17).put(DATA).putLong(keyspaceId).putLong(shard.value()).array();
    }

    private static byte[] appliedKey(ShardId shard) {
        return ByteBuffer.allocate(9).put(APPLIED).putLong(shard.value()).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The first byte string after every one starting with {@code prefix} (never all 0xFF here). */
    private static byte[] prefixEnd(byte[] prefix) {
        return Key.of(prefix).prefixEnd().toBytes();
    }

    private static byte[] encodeApplied(Applied applied, Bounds bounds) {
        ByteBuffer out = ByteBuffer.allocate(16 + 4 + 8 + bounds.lo().length + bounds.hi().length + 4
                        + applied.replicaState().length)
                .putLong(applied.index()).putLong(applied.term()).putInt(1);
        out.putInt(bounds.lo().length).put(bounds.lo()).putInt(bounds.hi().length).put(bounds.hi());
        out.putInt(applied.replicaState().length).put(applied.replicaState());
        return out.array();
    }

    private static Applied appliedOf(byte[] value) {
        ByteBuffer in = ByteBuffer.wrap(value);
        long index = in.getLong();
        long term = in.getLong();
        int n = in.getInt();
        for (int i = 0; i < 2 * n; i++) {
            int skipped = in.getInt();
            in.position(in.position() + skipped);
        }
        byte[] state = new byte[in.getInt()];
        in.get(state);
        return new Applied(index, term, state);
    }

    private static List<Bounds> boundsOf(byte[] value) {
        ByteBuffer in = ByteBuffer.wrap(value, 16, value.length - 16);
        int n = in.getInt();
        var bounds = new ArrayList<Bounds>(n);
        for (int i = 0; i < n; i++) {
            byte[] lo = new byte[in.getInt()];
            in.get(lo);
            byte[] hi = new byte[in.getInt()];
            in.get(hi);
            bounds.add(new Bounds(lo, hi));
        }
        return bounds;
    }

    private static IllegalStateException storageFailed(String what, RocksDBException e) {
        // the apply of a committed entry cannot be skipped: stop rather than diverge
        return new IllegalStateException("SHARD_STORE_FAILED: " + what + ": " + e.getMessage(), e);
    }

    // ------------------------------------------------------------------ one replica

    /**
     * One shard replica's keys under its prefix, as the pure replica's store. Writes are held in
     * a batch until {@link #commit}, which writes them with the replica's new state at once;
     * reads see what is committed, so the driver commits each entry's writes before the next
     * entry reads (the replica never reads a key after writing it within one command). Reads
     * from other threads ({@link #read}, {@link #scanRows}) see only committed data.
     */
    public final class Replica implements dev.atoll.shard.replica.ShardStore {
        private final ShardId shard;
        private final long keyspaceId;
        private final byte[] prefix;
        private final byte[] hi;
        private final byte[] appliedKey;
        private WriteBatch batch = new WriteBatch();
        private int pendingWrites;

        Replica(ShardId shard, long keyspaceId) {
            this.shard = shard;
            this.keyspaceId = keyspaceId;
            this.prefix = replicaPrefix(keyspaceId, shard);
            this.hi = prefixEnd(prefix);
            this.appliedKey = appliedKey(shard);
        }

        public ShardId shardId() {
            return shard;
        }

        /** RocksDB's estimate of the bytes under this replica's prefix, memtables included: cheap, rough. */
        public long approximateSizeBytes() {
            try (var lo = new Slice(prefix); var end = new Slice(hi)) {
                long[] sizes = db.getApproximateSizes(List.of(new Range(lo, end)), SizeApproximationFlag.INCLUDE_FILES,
                        SizeApproximationFlag.INCLUDE_MEMTABLES);
                return sizes.length == 0 ? 0 : Math.max(0, sizes[0]);
            }
        }

        /** What the store holds besides the rows ({@link Applied#NONE} for a replica never written). */
        public Applied applied() {
            try {
                byte[] v = db.get(appliedKey);
                return v == null ? Applied.NONE : appliedOf(v);
            } catch (RocksDBException e) {
                throw storageFailed("read applied index of " + shard, e);
            }
        }

        // ---- dev.atoll.shard.replica.ShardStore (the apply thread)

        @Override
        public byte[] get(Key key) {
            check(pendingWrites == 0, "a replica reads %s only with its writes committed", shard);
            return read(key.toBytes());
        }

        @Override
        public void put(Key key, byte[] value) {
            try {
                batch.put(concat(prefix, key.toBytes()), value);
                pendingWrites++;
            } catch (RocksDBException e) {
                throw storageFailed("put in " + shard, e);
            }
        }

        @Override
        public void delete(Key key) {
            try {
                batch.delete(concat(prefix, key.toBytes()));
                pendingWrites++;
            } catch (RocksDBException e) {
                throw storageFailed("delete in " + shard, e);
            }
        }

        @Override
        public List<dev.atoll.shard.replica.KeyValue> scan(KeyRange range, int limit) {
            check(pendingWrites == 0, "a replica scans %s only with its writes committed", shard);
            var out = new ArrayList<dev.atoll.shard.replica.KeyValue>();
            for (KeyValue kv : scanRows(range.start().toBytes(), range.end().isEnd() ? null : range.end().toBytes(),
                    limit)) {
                out.add(new dev.atoll.shard.replica.KeyValue(Key.of(kv.key()), kv.value()));
            }
            return out;
        }

        @Override
        public void deleteRange(KeyRange range) {
            try {
                batch.deleteRange(concat(prefix, range.start().toBytes()),
                        range.end().isEnd() ? hi : concat(prefix, range.end().toBytes()));
                pendingWrites++;
            } catch (RocksDBException e) {
                throw storageFailed("delete range in " + shard, e);
            }
        }

        // ---- the driver

        /** Writes the held writes and the replica's new state at once. */
        public void commit(Applied applied) {
            commit(applied, null, List.of(), null);
        }

        /**
         * Writes the held writes and the replica's new state, and with them, when {@code child} is
         * not null, a new shard's first rows and state (the upper part of a split of this one):
         * all in one atomic batch, so that no crash leaves the rows in neither or both.
         */
        public void commit(Applied applied, Replica child, List<dev.atoll.shard.replica.KeyValue> childRows,
                           Applied childApplied) {
            try {
                batch.put(appliedKey, encodeApplied(applied, new Bounds(prefix, hi)));
                if (child != null) {
                    batch.deleteRange(child.prefix, child.hi);
                    for (dev.atoll.shard.replica.KeyValue kv : childRows) {
                        batch.put(concat(child.prefix, kv.key().toBytes()), kv.value());
                    }
                    batch.put(child.appliedKey, encodeApplied(childApplied, new Bounds(child.prefix, child.hi)));
                }
                db.write(writeOptions, batch);
            } catch (RocksDBException e) {
                throw storageFailed("write to " + shard, e);
            } finally {
                batch.close();
                batch = new WriteBatch();
                pendingWrites = 0;
            }
        }

        /** Deletes all the replica's data and its applied position. */
        public void deleteAll() {
            deleteShard(shard, List.of(new Bounds(prefix, hi)));
        }

        // ---- reads of committed data (any thread)

        /** The committed value of {@code key}, or null. */
        public byte[] read(byte[] key) {
            try {
                return db.get(concat(prefix, key));
            } catch (RocksDBException e) {
                throw storageFailed("get in " + shard, e);
            }
        }

        /** The committed keys in [start, end) in key order (end null: to the end), at most {@code limit}. */
        public List<KeyValue> scanRows(byte[] start, byte[] end, int limit) {
            return scanRows(start, end, limit, null);
        }

        /**
         * The replica's committed rows as they are now, readable later from any thread while its
         * writes go on (a RocksDB snapshot): for a Raft snapshot materialized off the loop
         * thread. Read-only; close it to release the RocksDB snapshot.
         */
        public FrozenRows freeze() {
            check(pendingWrites == 0, "a replica freezes %s only with its writes committed", shard);
            return new FrozenRows(db.getSnapshot());
        }

        /** The rows of a {@link #freeze}: a read-only store for the pure replica's row scans. */
        public final class FrozenRows implements dev.atoll.shard.replica.ShardStore, AutoCloseable {
            private final org.rocksdb.Snapshot snapshot;
            private boolean closed;

            private FrozenRows(org.rocksdb.Snapshot snapshot) {
                this.snapshot = snapshot;
            }

            @Override
            public byte[] get(Key key) {
                check(!closed, "%s: frozen rows read after close", shard);
                try (var ro = new ReadOptions().setSnapshot(snapshot)) {
                    return db.get(ro, concat(prefix, key.toBytes()));
                } catch (RocksDBException e) {
                    throw storageFailed("get in frozen " + shard, e);
                }
            }

            @Override
            public List<dev.atoll.shard.replica.KeyValue> scan(KeyRange range, int limit) {
                check(!closed, "%s: frozen rows read after close", shard);
                var out = new ArrayList<dev.atoll.shard.replica.KeyValue>();
                for (KeyValue kv : scanRows(range.start().toBytes(), range.end().isEnd() ? null
                        : range.end().toBytes(), limit, snapshot)) {
                    out.add(new dev.atoll.shard.replica.KeyValue(Key.of(kv.key()), kv.value()));
                }
                return out;
            }

            @Override
            public void put(Key key, byte[] value) {
                throw new UnsupportedOperationException("frozen rows are read-only");
            }

            @Override
            public void delete(Key key) {
                throw new UnsupportedOperationException("frozen rows are read-only");
            }

            @Override
            public void deleteRange(KeyRange range) {
                throw new UnsupportedOperationException("frozen rows are read-only");
            }

            /** Releases the RocksDB snapshot; idempotent. */
            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    db.releaseSnapshot(snapshot);
                }
            }
        }

        private List<KeyValue> scanRows(byte[] start, byte[] end, int limit, org.rocksdb.Snapshot at) {
            byte[] from = concat(prefix, start);
            byte[] to = end == null ? hi : concat(prefix, end);
            var out = new ArrayList<KeyValue>(Math.min(limit, 1024));
            if (Arrays.compareUnsigned(from, to) >= 0) {
                return out;
            }
            try (var upper = new Slice(to); var ro = new ReadOptions().setIterateUpperBound(upper).setSnapshot(at);
                 RocksIterator it = db.newIterator(ro)) {
                for (it.seek(from); it.isValid() && out.size() < limit; it.next()) {
                    byte[] k = it.key();
                    out.add(new KeyValue(Arrays.copyOfRange(k, prefix.length, k.length), it.value()));
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "ShardStore.Replica{" + shard + " keyspace=" + keyspaceId + "}";
        }
    }
}
