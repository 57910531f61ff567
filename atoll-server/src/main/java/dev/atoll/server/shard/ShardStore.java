package dev.atoll.server.shard;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardSpan;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The data of every shard replica on this node, in one RocksDB: not one database per shard, so
 * hundreds of shards share one set of files, caches and compactions. Keys are prefixed by their
 * keyspace's storage id; the shards of a range (or geo) keyspace share that prefix, a shard
 * owning the keys of its range under it, so a split or merge on one node moves no data. Hash
 * and directory shards add their shard id to the prefix (their keys do not form one range).
 *
 * <p>Each shard's applied log position is written in the same batch as its data, with the
 * store key bounds of its data, so that data left by a shard this node no longer hosts can be
 * found and deleted after a crash. Writes go through RocksDB's WAL without fsync: the Raft log
 * is the durable record, and a restart replays it past each shard's applied index.
 * Thread-safe (RocksDB is); each shard's writes come from its group's apply, on one thread.
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

    /** A write of one key: a put, or a delete when {@code value} is null. */
    public record Write(byte[] key, byte[] value) {
    }

    /** Store keys [lo, hi) holding (part of) a shard's data. */
    public record Bounds(byte[] lo, byte[] hi) {
    }

    /** A shard's applied log position as the store holds it. */
    public record Applied(long index, long term) {
        public static final Applied NONE = new Applied(0, 0);
    }

    /**
     * The view of one shard replica's data: what the shard's apply logic reads and writes, and
     * nothing else. {@code keyspaceId} is the keyspace's storage id.
     */
    public ShardData shard(ShardDescriptor descriptor, long keyspaceId) {
        return new View(descriptor.id(), keyspaceId, descriptor.span());
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

    private static byte[] keyspacePrefix(long keyspaceId) {
        return ByteBuffer.allocate(9).put(DATA).putLong(keyspaceId).array();
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

    private static byte[] encodeApplied(Applied applied, List<Bounds> bounds) {
        int size = 16 + 4;
        for (Bounds b : bounds) {
            size += 8 + b.lo().length + b.hi().length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).putLong(applied.index()).putLong(applied.term())
                .putInt(bounds.size());
        for (Bounds b : bounds) {
            out.putInt(b.lo().length).put(b.lo()).putInt(b.hi().length).put(b.hi());
        }
        return out.array();
    }

    private static Applied appliedOf(byte[] value) {
        ByteBuffer in = ByteBuffer.wrap(value);
        return new Applied(in.getLong(), in.getLong());
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

    // ------------------------------------------------------------------ one shard

    /** One shard replica's keys: a prefix, and for a shared-prefix (range) keyspace its range under it. */
    private final class View implements ShardData {
        private final ShardId shard;
        private final byte[] prefix;
        /** Store bounds of this shard's data: [lo, hi). */
        private final byte[] lo;
        private final byte[] hi;
        private final byte[] appliedKey;

        View(ShardId shard, long keyspaceId, ShardSpan span) {
            this.shard = shard;
            this.appliedKey = appliedKey(shard);
            byte[] keyspace = keyspacePrefix(keyspaceId);
            switch (span) {
                case KeyRange r -> {
                    prefix = keyspace;
                    lo = concat(keyspace, r.start().toBytes());
                    hi = r.end().isEnd() ? prefixEnd(keyspace) : concat(keyspace, r.end().toBytes());
                }
                case HashSlots h -> {
                    prefix = concat(keyspace, ByteBuffer.allocate(8).putLong(shard.value()).array());
                    lo = prefix;
                    hi = prefixEnd(prefix);
                }
                case ShardSpan.Directed d -> {
                    prefix = concat(keyspace, ByteBuffer.allocate(8).putLong(shard.value()).array());
                    lo = prefix;
                    hi = prefixEnd(prefix);
                }
            }
        }

        @Override
        public ShardId shardId() {
            return shard;
        }

        @Override
        public Applied applied() {
            try {
                byte[] v = db.get(appliedKey);
                return v == null ? Applied.NONE : appliedOf(v);
            } catch (RocksDBException e) {
                throw storageFailed("read applied index of " + shard, e);
            }
        }

        @Override
        public Optional<byte[]> get(byte[] key) {
            try {
                return Optional.ofNullable(db.get(concat(prefix, key)));
            } catch (RocksDBException e) {
                throw storageFailed("get in " + shard, e);
            }
        }

        @Override
        public List<KeyValue> scan(byte[] start, byte[] end, int limit) {
            byte[] from = max(concat(prefix, start), lo);
            byte[] to = end == null ? hi : min(concat(prefix, end), hi);
            var out = new ArrayList<KeyValue>(Math.min(limit, 1024));
            if (Arrays.compareUnsigned(from, to) >= 0) {
                return out;
            }
            try (var upper = new Slice(to); var ro = new ReadOptions().setIterateUpperBound(upper);
                 RocksIterator it = db.newIterator(ro)) {
                for (it.seek(from); it.isValid() && out.size() < limit; it.next()) {
                    byte[] k = it.key();
                    out.add(new KeyValue(Arrays.copyOfRange(k, prefix.length, k.length), it.value()));
                }
            }
            return out;
        }

        @Override
        public void write(List<Write> writes, Applied applied) {
            try (var batch = new WriteBatch()) {
                for (Write w : writes) {
                    if (w.value() == null) {
                        batch.delete(concat(prefix, w.key()));
                    } else {
                        batch.put(concat(prefix, w.key()), w.value());
                    }
                }
                batch.put(appliedKey, encodeApplied(applied, List.of(new Bounds(lo, hi))));
                db.write(writeOptions, batch);
            } catch (RocksDBException e) {
                throw storageFailed("write to " + shard, e);
            }
        }

        @Override
        public void replace(List<KeyValue> pairs, Applied applied) {
            try (var batch = new WriteBatch()) {
                batch.deleteRange(lo, hi);
                for (KeyValue kv : pairs) {
                    batch.put(concat(prefix, kv.key()), kv.value());
                }
                batch.put(appliedKey, encodeApplied(applied, List.of(new Bounds(lo, hi))));
                db.write(writeOptions, batch);
            } catch (RocksDBException e) {
                throw storageFailed("install snapshot of " + shard, e);
            }
        }

        @Override
        public void delete() {
            deleteShard(shard, List.of(new Bounds(lo, hi)));
        }

        private byte[] max(byte[] a, byte[] b) {
            return Arrays.compareUnsigned(a, b) >= 0 ? a : b;
        }

        private byte[] min(byte[] a, byte[] b) {
            return Arrays.compareUnsigned(a, b) <= 0 ? a : b;
        }
    }
}
