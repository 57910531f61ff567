package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

import org.rocksdb.Checkpoint;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The MVCC key-value state machine of a Raft group, with etcd v3's data model, on RocksDB.
 * See the package documentation for the layout and the durability rules.
 *
 * <p>Mutating calls take the {@link LogPosition} of the Raft entry they apply; the position is
 * written in the same RocksDB write batch as the data, so {@link #appliedPosition()} is exact
 * after any crash, and an entry at or below it is answered {@link Outcome.AlreadyApplied}
 * without effect. A refused entry changes no data but is still recorded as applied.
 *
 * <p>Threads: mutations are serialized (one applier); reads ({@link #range}, {@link #history},
 * lease queries) may run concurrently from any thread and see one consistent revision.
 * {@link #installCheckpoint} and {@link #close} need every other caller to have stopped.
 */
public final class MvccStore implements AutoCloseable {
    private static final int FORMAT_VERSION = 1;
    /** etcd's first revision: an empty store is at revision 1, and the first write makes 2. */
    static final long INITIAL_REVISION = 1;
    private static final byte[] META_FORMAT = meta("format");
    private static final byte[] META_APPLIED = meta("raft.applied");
    private static final byte[] META_REVISION = meta("revision.current");
    private static final byte[] META_COMPACTED = meta("revision.compacted");
    private static final byte[] META_COMPACTION_FINISHED = meta("revision.compaction_finished");
    private static final byte[] META_LEASE_LAST_ID = meta("lease.last_id");

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final MvccConfig config;
    private final WriteOptions writeOptions;
    /** Serializes mutations (the Raft applier) and lifecycle changes. */
    private final ReentrantLock applyLock = new ReentrantLock();
    /** Makes (batch written, fields published) atomic for readers taking a snapshot. */
    private final Object viewLock = new Object();
    private StoreHandles h;
    private long appliedIndex;
    private long appliedTerm;
    private long currentRevision;
    private long compactedRevision;
    private long lastLeaseId;
    private long leaseCount;

    private MvccStore(Path dir, MvccConfig config) {
        this.dir = dir;
        this.config = config;
        // The Raft log is the durable record: the store writes through RocksDB's WAL without
        // fsync, and after a crash is a consistent prefix that the runtime completes by
        // replaying the log from appliedIndex + 1.
        this.writeOptions = new WriteOptions().setSync(false).setDisableWAL(false);
    }

    /** Opens (creating if missing) the store in {@code dir}, finishing an interrupted install or compaction. */
    public static MvccStore open(Path dir, MvccConfig config) {
        recoverInterruptedInstall(dir);
        MvccStore store = new MvccStore(dir, config);
        try {
            store.openHandles();
        } catch (RuntimeException e) {
            store.writeOptions.close();
            throw e;
        }
        return store;
    }

    public static MvccStore open(Path dir) {
        return open(dir, MvccConfig.defaults());
    }

    private void openHandles() {
        h = StoreHandles.open(dir, false);
        try {
            byte[] format = h.db.get(h.meta, META_FORMAT);
            if (format == null) {
                try (WriteBatch b = new WriteBatch()) {
                    b.put(h.meta, META_FORMAT, KeyCodec.longBytes(FORMAT_VERSION));
                    b.put(h.meta, META_REVISION, KeyCodec.longBytes(INITIAL_REVISION));
                    h.db.write(writeOptions, b);
                }
            } else {
                check(KeyCodec.getLong(format, 0) == FORMAT_VERSION, "store format %d is known",
                        KeyCodec.getLong(format, 0));
            }
            byte[] applied = h.db.get(h.meta, META_APPLIED);
            appliedIndex = applied == null ? 0 : KeyCodec.getLong(applied, 0);
            appliedTerm = applied == null ? 0 : KeyCodec.getLong(applied, 8);
            currentRevision = metaLong(META_REVISION, INITIAL_REVISION);
            compactedRevision = metaLong(META_COMPACTED, 0);
            lastLeaseId = metaLong(META_LEASE_LAST_ID, 0);
            leaseCount = 0;
            try (RocksIterator it = h.db.newIterator(h.lease)) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    leaseCount++;
                }
                RangeScan.checkStatus(it);
            }
            check(compactedRevision <= currentRevision, "compacted %d <= current %d", compactedRevision,
                    currentRevision);
            long finished = metaLong(META_COMPACTION_FINISHED, 0);
            if (finished < compactedRevision) {
                // A crash interrupted the physical part of a compaction: reads were correct
                // all along (they never go below compactedRevision); finish removing garbage.
                compactPhysically(compactedRevision);
            }
        } catch (RocksDBException e) {
            h.close();
            throw new MvccStorageException("cannot read MVCC store metadata at " + dir, e);
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
    }

    private long metaLong(byte[] key, long absent) throws RocksDBException {
        byte[] v = h.db.get(h.meta, key);
        return v == null ? absent : KeyCodec.getLong(v, 0);
    }

    private static byte[] meta(String name) {
        return name.getBytes(StandardCharsets.US_ASCII);
    }

    // ---------------------------------------------------------------- state

    public LogPosition appliedPosition() {
        synchronized (viewLock) {
            return new LogPosition(appliedIndex, appliedTerm);
        }
    }

    public long appliedIndex() {
        synchronized (viewLock) {
            return appliedIndex;
        }
    }

    public long currentRevision() {
        synchronized (viewLock) {
            return currentRevision;
        }
    }

    public long compactedRevision() {
        synchronized (viewLock) {
            return compactedRevision;
        }
    }

    public MvccConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- mutations

    /** etcd Put. Refused: EMPTY_KEY, KEY_TOO_LARGE, VALUE_TOO_LARGE, LEASE_NOT_FOUND, KEY_NOT_FOUND, *_PROVIDED. */
    public Outcome<PutResponse> put(PutRequest request, LogPosition at) {
        return apply(at, txn -> {
            RequestChecks.checkPut(request, config);
            txn.checkPutState(request);
            return txn.put(request);
        });
    }

    /** etcd DeleteRange; the revision moves only when something was deleted. */
    public Outcome<DeleteRangeResponse> deleteRange(DeleteRangeRequest request, LogPosition at) {
        return apply(at, txn -> {
            RequestChecks.checkKey(request.key(), request.rangeEnd(), config);
            return txn.deleteRange(request);
        });
    }

    /**
     * etcd Txn, atomically at one revision (moved only when the branch taken writes).
     * Refused: TOO_MANY_OPS, TXN_TOO_DEEP, DUPLICATE_KEY, and any refusal of an op on the path taken.
     */
    public Outcome<TxnResponse> txn(TxnRequest request, LogPosition at) {
        return apply(at, txn -> {
            RequestChecks.checkTxn(request, config);
            WriteTxn.Plan plan = txn.plan(request);
            txn.checkPath(request, plan);
            TxnResponse response = txn.execute(request, plan);
            return (TxnResponse) WriteTxn.stamp(response, txn.revisionAfter());
        });
    }

    /**
     * etcd Compact: keeps, for every key, its newest version <= revision (dropped if a
     * tombstone) and all later ones, and history from revision on. Refused: COMPACTED when
     * revision <= the compacted revision, FUTURE_REVISION when above the current one.
     */
    public Outcome<CompactResponse> compact(long revision, LogPosition at) {
        Outcome<CompactResponse> outcome = apply(at, txn -> {
            if (revision <= txn.compactedRevision) {
                throw new Refusal(MvccError.COMPACTED, "revision " + revision + " <= compacted " + txn.compactedRevision);
            }
            if (revision > txn.baseRevision) {
                throw new Refusal(MvccError.FUTURE_REVISION, "revision " + revision + " > current " + txn.baseRevision);
            }
            // The compacted revision is recorded with the log position; removing old versions
            // follows in bounded batches, which a restart finishes if a crash cuts it short.
            txn.put(h.meta, META_COMPACTED, KeyCodec.longBytes(revision));
            return new CompactResponse(txn.baseRevision, revision);
        });
        if (outcome instanceof Outcome.Done<CompactResponse> done) {
            compactPhysically(done.response().compactedRevision());
        }
        return outcome;
    }

    /**
     * etcd LeaseGrant. id 0 picks the lowest unused id above the last one picked or granted
     * (deterministic, so every replica picks the same). Refused: LEASE_EXISTS,
     * LEASE_ID_INVALID, LEASE_TTL_NEGATIVE, LEASE_TTL_TOO_LARGE, LEASE_COUNT_EXCEEDED.
     */
    public Outcome<LeaseGrantResponse> leaseGrant(long id, long ttlSeconds, LogPosition at) {
        return apply(at, txn -> {
            if (id < 0) {
                throw new Refusal(MvccError.LEASE_ID_INVALID, "lease id " + id);
            }
            if (ttlSeconds < 0) {
                throw new Refusal(MvccError.LEASE_TTL_NEGATIVE, "ttl " + ttlSeconds);
            }
            if (ttlSeconds > config.leaseTtlSecondsMax()) {
                throw new Refusal(MvccError.LEASE_TTL_TOO_LARGE, "ttl over leaseTtlSecondsMax=" + config.leaseTtlSecondsMax());
            }
            if (leaseCount >= config.leaseCountMax()) {
                throw new Refusal(MvccError.LEASE_COUNT_EXCEEDED, "leaseCountMax=" + config.leaseCountMax());
            }
            long granted = id;
            if (id == 0) {
                granted = txn.lastLeaseId + 1;
                // At most leaseCount ids are taken, so this ends within leaseCount + 1 steps.
                for (long steps = 0; txn.leaseExists(granted); steps++) {
                    check(steps <= leaseCount, "a free lease id is found within leaseCount steps");
                    granted++;
                }
            } else if (txn.leaseExists(id)) {
                throw new Refusal(MvccError.LEASE_EXISTS, "lease " + id + " exists");
            }
            txn.put(h.lease, KeyCodec.leaseId(granted), encodeLease(ttlSeconds, 0));
            txn.lastLeaseId = Math.max(txn.lastLeaseId, granted);
            txn.put(h.meta, META_LEASE_LAST_ID, KeyCodec.longBytes(txn.lastLeaseId));
            txn.leaseCountDelta++;
            return new LeaseGrantResponse(txn.baseRevision, granted, ttlSeconds);
        });
    }

    /** etcd LeaseRevoke: deletes every attached key at one revision. Refused: LEASE_NOT_FOUND. */
    public Outcome<LeaseRevokeResponse> leaseRevoke(long id, LogPosition at) {
        return apply(at, txn -> {
            if (!txn.leaseExists(id)) {
                throw new Refusal(MvccError.LEASE_NOT_FOUND, "lease " + id + " not found");
            }
            long deleted = txn.revokeLease(id);
            return new LeaseRevokeResponse(txn.revisionAfter(), deleted);
        });
    }

    /** etcd LeaseCheckpoint: records the remaining TTL so a new leader does not restart the lease's clock. */
    public Outcome<Lease> leaseCheckpoint(long id, long remainingTtlSeconds, LogPosition at) {
        return apply(at, txn -> {
            byte[] stored = txn.get(h.lease, KeyCodec.leaseId(id));
            if (stored == null) {
                throw new Refusal(MvccError.LEASE_NOT_FOUND, "lease " + id + " not found");
            }
            long granted = KeyCodec.getLong(stored, 0);
            long remaining = Math.clamp(remainingTtlSeconds, 0, granted);
            txn.put(h.lease, KeyCodec.leaseId(id), encodeLease(granted, remaining));
            return new Lease(id, granted, remaining);
        });
    }

    /** Records a log entry that holds no store command (Raft no-op, configuration change). False if already applied. */
    public boolean markApplied(LogPosition at) {
        return apply(at, txn -> Boolean.TRUE) instanceof Outcome.Done<Boolean>;
    }

    private interface TxnBody<R> {
        R run(WriteTxn txn);
    }

    private <R> Outcome<R> apply(LogPosition at, TxnBody<R> body) {
        applyLock.lock();
        try {
            checkOpen();
            if (at.index() <= appliedIndex) {
                return new Outcome.AlreadyApplied<>(appliedPosition());
            }
            check(at.term() >= appliedTerm, "applied terms never go down: %d after %d", at.term(), appliedTerm);
            try (WriteTxn txn = new WriteTxn(h, config, currentRevision, compactedRevision, lastLeaseId)) {
                R response;
                Refusal refusal = null;
                try {
                    response = body.run(txn);
                } catch (Refusal r) {
                    refusal = r;
                    response = null;
                }
                if (refusal != null) {
                    // Nothing of the refused request is written, but the entry is applied.
                    try (WriteBatch b = new WriteBatch()) {
                        b.put(h.meta, META_APPLIED, applied(at));
                        commit(() -> h.db.write(writeOptions, b), at, currentRevision);
                    }
                    return refusal.outcome();
                }
                txn.put(h.meta, META_APPLIED, applied(at));
                if (txn.changed()) {
                    txn.put(h.meta, META_REVISION, KeyCodec.longBytes(txn.revisionAfter()));
                }
                commit(() -> h.db.write(writeOptions, txn.batch), at, txn.revisionAfter());
                lastLeaseId = txn.lastLeaseId;
                leaseCount += txn.leaseCountDelta;
                if (response instanceof CompactResponse c) {
                    synchronized (viewLock) {
                        compactedRevision = c.compactedRevision();
                    }
                }
                return Outcome.done(response);
            }
        } catch (RocksDBException e) {
            throw new MvccStorageException("apply of log index " + at.index() + " failed", e);
        } finally {
            applyLock.unlock();
        }
    }

    private interface BatchWrite {
        void write() throws RocksDBException;
    }

    private void commit(BatchWrite write, LogPosition at, long revisionAfter) throws RocksDBException {
        synchronized (viewLock) {
            write.write();
            check(revisionAfter >= currentRevision, "the revision never goes down");
            appliedIndex = at.index();
            appliedTerm = at.term();
            currentRevision = revisionAfter;
        }
    }

    private static byte[] applied(LogPosition at) {
        byte[] v = new byte[16];
        KeyCodec.putLong(v, 0, at.index());
        KeyCodec.putLong(v, 8, at.term());
        return v;
    }

    private static byte[] encodeLease(long grantedTtlSeconds, long remainingTtlSeconds) {
        byte[] v = new byte[16];
        KeyCodec.putLong(v, 0, grantedTtlSeconds);
        KeyCodec.putLong(v, 8, remainingTtlSeconds);
        return v;
    }

    private static Lease decodeLease(long id, byte[] v) {
        return new Lease(id, KeyCodec.getLong(v, 0), KeyCodec.getLong(v, 8));
    }

    /**
     * Removes versions hidden by the compaction at {@code revision}: for every key, all
     * versions older than its newest one <= revision, and that one too if it is a tombstone;
     * history before revision. In batches of compactionBatchKeysMax deletes.
     */
    private void compactPhysically(long revision) {
        try (RocksIterator it = h.db.newIterator(h.kv)) {
            WriteBatch batch = new WriteBatch();
            try {
                byte[] keyStart = null;
                boolean keptOne = false;
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    byte[] encoded = it.key();
                    if (keyStart == null || !KeyCodec.isVersionOf(encoded, keyStart)) {
                        keyStart = KeyCodec.keyStart(KeyCodec.userKey(encoded));
                        keptOne = false;
                    }
                    if (KeyCodec.revision(encoded) > revision) {
                        continue;
                    }
                    if (!keptOne && !VersionCodec.isTombstone(it.value())) {
                        keptOne = true; // the key's newest version <= revision: reads at revision need it
                        continue;
                    }
                    keptOne = true;
                    batch.delete(h.kv, encoded);
                    if (batch.count() >= config.compactionBatchKeysMax()) {
                        h.db.write(writeOptions, batch);
                        batch.close();
                        batch = new WriteBatch();
                    }
                }
                RangeScan.checkStatus(it);
                batch.deleteRange(h.history, KeyCodec.historyKey(0, 0), KeyCodec.historyKey(revision, 0));
                batch.put(h.meta, META_COMPACTION_FINISHED, KeyCodec.longBytes(revision));
                h.db.write(writeOptions, batch);
            } finally {
                batch.close();
            }
        } catch (RocksDBException e) {
            throw new MvccStorageException("compaction at revision " + revision + " failed", e);
        }
    }

    // ---------------------------------------------------------------- reads

    /** A snapshot and the revisions that hold in it. */
    private final class ReadView implements AutoCloseable {
        final Snapshot snapshot;
        final ReadOptions readOptions;
        final long currentRevision;
        final long compactedRevision;

        ReadView() {
            synchronized (viewLock) {
                checkOpen();
                snapshot = h.db.getSnapshot();
                currentRevision = MvccStore.this.currentRevision;
                compactedRevision = MvccStore.this.compactedRevision;
            }
            readOptions = new ReadOptions().setSnapshot(snapshot);
        }

        RocksIterator iterator(org.rocksdb.ColumnFamilyHandle cf) {
            return h.db.newIterator(cf, readOptions);
        }

        byte[] get(org.rocksdb.ColumnFamilyHandle cf, byte[] key) {
            try {
                return h.db.get(cf, readOptions, key);
            } catch (RocksDBException e) {
                throw new MvccStorageException("read failed", e);
            }
        }

        @Override
        public void close() {
            readOptions.close();
            h.db.releaseSnapshot(snapshot);
        }
    }

    /** etcd Range (serializable: the local state). Refused: COMPACTED, FUTURE_REVISION, EMPTY_KEY, KEY_TOO_LARGE, RANGE_TOO_LARGE. */
    public Outcome<RangeResponse> range(RangeRequest request) {
        try (ReadView view = new ReadView()) {
            RequestChecks.checkKey(request.key(), request.rangeEnd(), config);
            if (request.revision() > view.currentRevision) {
                return Outcome.refused(MvccError.FUTURE_REVISION,
                        "revision " + request.revision() + " > current " + view.currentRevision);
            }
            if (request.revision() > 0 && request.revision() < view.compactedRevision) {
                return Outcome.refused(MvccError.COMPACTED,
                        "revision " + request.revision() + " < compacted " + view.compactedRevision);
            }
            long readRevision = request.revision() <= 0 ? view.currentRevision : request.revision();
            try (RocksIterator it = view.iterator(h.kv)) {
                return Outcome.done(RangeScan.range(it, request, readRevision, view.currentRevision, config));
            }
        } catch (Refusal r) {
            return r.outcome();
        }
    }

    /**
     * Changes from (fromRevision, fromSubRevision) on, in revision order, for watch replay;
     * at most min(eventsMax, historyEventsMax) events. Refused: COMPACTED when fromRevision is
     * below the compacted revision (etcd's watch rule). An event at exactly the compacted
     * revision may lack its prevKv (the version before it was compacted away).
     */
    public Outcome<HistoryPage> history(long fromRevision, long fromSubRevision, int eventsMax, boolean prevKv) {
        checkArgument(eventsMax > 0 && fromSubRevision >= 0, "eventsMax > 0 and fromSubRevision >= 0");
        int pageEventsMax = Math.min(eventsMax, config.historyEventsMax());
        try (ReadView view = new ReadView()) {
            if (fromRevision < view.compactedRevision) {
                return Outcome.refused(MvccError.COMPACTED,
                        "revision " + fromRevision + " < compacted " + view.compactedRevision);
            }
            List<Event> events = new ArrayList<>();
            boolean more = false;
            try (RocksIterator it = view.iterator(h.history); RocksIterator kvs = view.iterator(h.kv)) {
                for (it.seek(KeyCodec.historyKey(Math.max(fromRevision, 0), fromSubRevision)); it.isValid(); it.next()) {
                    if (events.size() >= pageEventsMax) {
                        more = true;
                        break;
                    }
                    byte[] k = it.key();
                    byte[] v = it.value();
                    long revision = KeyCodec.getLong(k, 0);
                    long sub = KeyCodec.getLong(k, 8);
                    byte[] userKey = Arrays.copyOfRange(v, 1, v.length);
                    boolean isPut = v[0] == VersionCodec.PUT;
                    KeyValue kv;
                    if (isPut) {
                        byte[] stored = view.get(h.kv, KeyCodec.versionKey(userKey, revision));
                        check(stored != null && !VersionCodec.isTombstone(stored),
                                "a put in history at revision %d has its version in kv", revision);
                        kv = VersionCodec.decode(userKey, revision, stored, false);
                    } else {
                        kv = new KeyValue(userKey, 0, revision, 0, new byte[0], 0);
                    }
                    Optional<KeyValue> prev = prevKv ? versionBefore(kvs, userKey, revision) : Optional.empty();
                    events.add(new Event(isPut ? Event.Type.PUT : Event.Type.DELETE, kv, prev, sub));
                }
                RangeScan.checkStatus(it);
            }
            return Outcome.done(new HistoryPage(view.currentRevision, List.copyOf(events), more));
        }
    }

    private static Optional<KeyValue> versionBefore(RocksIterator kvs, byte[] userKey, long revision) {
        byte[] start = KeyCodec.keyStart(userKey);
        kvs.seek(KeyCodec.versionKeyFromStart(start, revision - 1));
        if (!kvs.isValid() || !KeyCodec.isVersionOf(kvs.key(), start)) {
            RangeScan.checkStatus(kvs);
            return Optional.empty();
        }
        byte[] stored = kvs.value();
        return VersionCodec.isTombstone(stored) ? Optional.empty()
                : Optional.of(VersionCodec.decode(userKey, KeyCodec.revision(kvs.key()), stored, false));
    }

    /** Every lease, in id order (at most leaseCountMax). */
    public List<Lease> leases() {
        List<Lease> leases = new ArrayList<>();
        try (ReadView view = new ReadView(); RocksIterator it = view.iterator(h.lease)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                leases.add(decodeLease(KeyCodec.getLong(it.key(), 0), it.value()));
            }
            RangeScan.checkStatus(it);
        }
        return leases;
    }

    /** etcd LeaseTimeToLive's stored part: granted and checkpointed TTL, attached keys. Refused: LEASE_NOT_FOUND. */
    public Outcome<LeaseTimeToLive> leaseTimeToLive(long id) {
        try (ReadView view = new ReadView()) {
            byte[] stored = view.get(h.lease, KeyCodec.leaseId(id));
            if (stored == null) {
                return Outcome.refused(MvccError.LEASE_NOT_FOUND, "lease " + id + " not found");
            }
            List<byte[]> keys = new ArrayList<>();
            try (RocksIterator it = view.iterator(h.leaseKey)) {
                for (it.seek(KeyCodec.leaseId(id)); it.isValid() && KeyCodec.getLong(it.key(), 0) == id; it.next()) {
                    byte[] k = it.key();
                    keys.add(Arrays.copyOfRange(k, 8, k.length));
                }
                RangeScan.checkStatus(it);
            }
            return Outcome.done(new LeaseTimeToLive(decodeLease(id, stored), List.copyOf(keys)));
        }
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Creates a consistent RocksDB checkpoint (hard links where possible) in {@code target},
     * which must not exist, holding exactly the state at {@link #appliedPosition()}.
     */
    public CheckpointInfo checkpoint(Path target) {
        applyLock.lock();
        try {
            checkOpen();
            try (Checkpoint checkpoint = Checkpoint.create(h.db)) {
                checkpoint.createCheckpoint(target.toString());
            }
            return new CheckpointInfo(target, appliedPosition(), currentRevision(), checkpointFiles(target));
        } catch (RocksDBException e) {
            throw new MvccStorageException("checkpoint to " + target + " failed", e);
        } finally {
            applyLock.unlock();
        }
    }

    /** The files of a checkpoint directory, by name, with their sizes: what to stream, chunk by chunk. */
    public static List<CheckpointFile> checkpointFiles(Path checkpointDir) {
        try (Stream<Path> files = Files.list(checkpointDir)) {
            List<CheckpointFile> out = new ArrayList<>();
            for (Path f : files.sorted().toList()) {
                check(Files.isRegularFile(f), "a checkpoint holds only files: %s", f);
                out.add(new CheckpointFile(f.getFileName().toString(), Files.size(f)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoint " + checkpointDir, e);
        }
    }

    /** The Raft position a (received) checkpoint holds, read without changing it. */
    public static LogPosition appliedPositionOf(Path checkpointDir) {
        try (StoreHandles ro = StoreHandles.open(checkpointDir, true)) {
            byte[] applied = ro.db.get(ro.meta, META_APPLIED);
            return applied == null ? LogPosition.ZERO
                    : new LogPosition(KeyCodec.getLong(applied, 0), KeyCodec.getLong(applied, 8));
        } catch (RocksDBException e) {
            throw new MvccStorageException("cannot read checkpoint " + checkpointDir, e);
        }
    }

    /**
     * Replaces this store's state with a received checkpoint: fsyncs its files, moves the
     * current directory aside, renames the checkpoint into place (same file system: an atomic
     * rename), fsyncs the parent, reopens. A crash at any point leaves either the old or the
     * new store in place; {@link #open} finishes or undoes the swap. The checkpoint must not
     * be older than what is applied. No other call may run meanwhile.
     */
    public void installCheckpoint(Path checkpointDir) {
        applyLock.lock();
        try {
            checkOpen();
            LogPosition snapshot = appliedPositionOf(checkpointDir);
            checkArgument(snapshot.index() >= appliedIndex, "checkpoint at %s is older than applied %d", snapshot,
                    appliedIndex);
            fsyncTree(checkpointDir);
            synchronized (viewLock) {
                h.close();
                h = null;
            }
            Path replaced = replacedDir(dir);
            deleteTree(replaced);
            Files.move(dir, replaced, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(dir.toAbsolutePath().getParent());
            Files.move(checkpointDir, dir, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(dir.toAbsolutePath().getParent());
            deleteTree(replaced);
            synchronized (viewLock) {
                openHandles();
            }
            check(appliedIndex == snapshot.index(), "after install the applied index is the checkpoint's");
        } catch (IOException e) {
            throw new UncheckedIOException("install of checkpoint " + checkpointDir + " failed", e);
        } finally {
            applyLock.unlock();
        }
    }

    private static Path replacedDir(Path dir) {
        return dir.resolveSibling(dir.getFileName() + ".replaced");
    }

    /** Completes or undoes an install that a crash interrupted between its two renames. */
    private static void recoverInterruptedInstall(Path dir) {
        Path replaced = replacedDir(dir);
        try {
            if (!Files.exists(replaced)) {
                return;
            }
            if (Files.exists(dir)) {
                deleteTree(replaced); // the new store is in place; the old one is garbage
            } else {
                Files.move(replaced, dir, StandardCopyOption.ATOMIC_MOVE); // the old store comes back
                fsyncDirectory(dir.toAbsolutePath().getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot recover interrupted install at " + dir, e);
        }
    }

    private static void fsyncTree(Path d) throws IOException {
        try (Stream<Path> files = Files.list(d)) {
            for (Path f : files.toList()) {
                try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
                    c.force(true);
                }
            }
        }
        fsyncDirectory(d);
    }

    private static void fsyncDirectory(Path d) throws IOException {
        try (FileChannel c = FileChannel.open(d, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    private static void deleteTree(Path d) throws IOException {
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(d)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void checkOpen() {
        check(h != null, "the store is open");
    }

    /** Closes RocksDB. No other call may run meanwhile; closing twice is a no-op. */
    @Override
    public void close() {
        applyLock.lock();
        try {
            synchronized (viewLock) {
                if (h != null) {
                    h.close();
                    h = null;
                }
            }
            writeOptions.close();
        } finally {
            applyLock.unlock();
        }
    }
}
