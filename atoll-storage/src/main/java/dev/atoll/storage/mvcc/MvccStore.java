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
import java.util.NavigableMap;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

import org.rocksdb.Checkpoint;
import org.rocksdb.FlushOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteOptions;

/**
 * The MVCC key-value state machine of a Raft group, with etcd v3's data model, on RocksDB.
 * See the package documentation for the layout and the durability rules.
 *
 * <p>Mutating calls take the {@link LogPosition} of the Raft entry they apply; the position is
 * written in the same RocksDB write batch as the data, so {@link #appliedPosition()} is exact
 * after any crash, and an entry at or below it is answered {@link Outcome.AlreadyApplied}
 * without effect. A refused entry changes no data but is still recorded as applied.
 * {@link #applyAll} applies a whole Raft round in one RocksDB write, with the same outcomes
 * as applying its entries one by one.
 *
 * <p>The newest version of every live key (revisions, version, lease; not the value) is also
 * kept in memory ({@link KeyIndex}, about 104 bytes + the key per live key), so a write needs no
 * RocksDB seek; it is rebuilt from RocksDB on open and on {@link #installCheckpoint}. Reads go
 * to RocksDB, at any revision.
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
    /** Default read options, shared by every range read (RocksDB only reads them). */
    private final ReadOptions latestReadOptions;
    private final BatchWriter batchWriter;
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
    /** The newest version of every live key; the applier's alone, under applyLock. */
    private KeyIndex keyIndex;

    /** How a batch of applied entries reaches RocksDB; tests substitute one that fails. */
    interface BatchWriter {
        void write(RocksDB db, WriteOptions options, WriteBatchWithIndex batch) throws RocksDBException;
    }

    private MvccStore(Path dir, MvccConfig config, BatchWriter batchWriter) {
        this.dir = dir;
        this.config = config;
        this.batchWriter = batchWriter;
        // The Raft log is the durable record: the store writes through RocksDB's WAL without
        // fsync, and after a crash is a consistent prefix that the runtime completes by
        // replaying the log from appliedIndex + 1.
        this.writeOptions = new WriteOptions().setSync(false).setDisableWAL(false);
        this.latestReadOptions = new ReadOptions();
    }

    /** Opens (creating if missing) the store in {@code dir}, finishing an interrupted install or compaction. */
    public static MvccStore open(Path dir, MvccConfig config) {
        return open(dir, config, RocksDB::write);
    }

    /** {@link #open(Path, MvccConfig)} with the RocksDB write of applied batches replaced (fault injection). */
    static MvccStore open(Path dir, MvccConfig config, BatchWriter batchWriter) {
        recoverInterruptedInstall(dir);
        MvccStore store = new MvccStore(dir, config, batchWriter);
        try {
            store.openHandles();
        } catch (RuntimeException e) {
            store.writeOptions.close();
            store.latestReadOptions.close();
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
            keyIndex = KeyIndex.load(h.db, h.kv);
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

    /** A copy of the in-memory key index (for tests). */
    NavigableMap<byte[], KeyIndex.Latest> keyIndexCopy() {
        applyLock.lock();
        try {
            checkOpen();
            return keyIndex.copy();
        } finally {
            applyLock.unlock();
        }
    }

    /** The key index as a rebuild from RocksDB now would make it (for tests). */
    NavigableMap<byte[], KeyIndex.Latest> keyIndexFromDisk() {
        applyLock.lock();
        try {
            checkOpen();
            return KeyIndex.load(h.db, h.kv).copy();
        } finally {
            applyLock.unlock();
        }
    }

    // ---------------------------------------------------------------- mutations

    /** etcd Put. Refused: EMPTY_KEY, KEY_TOO_LARGE, VALUE_TOO_LARGE, LEASE_NOT_FOUND, KEY_NOT_FOUND, *_PROVIDED. */
    public Outcome<PutResponse> put(PutRequest request, LogPosition at) {
        return applyOne(new Mutation.Put(request, at));
    }

    /** etcd DeleteRange; the revision moves only when something was deleted. */
    public Outcome<DeleteRangeResponse> deleteRange(DeleteRangeRequest request, LogPosition at) {
        return applyOne(new Mutation.DeleteRange(request, at));
    }

    /**
     * etcd Txn, atomically at one revision (moved only when the branch taken writes).
     * Refused: TOO_MANY_OPS, TXN_TOO_DEEP, DUPLICATE_KEY, and any refusal of an op on the path taken.
     */
    public Outcome<TxnResponse> txn(TxnRequest request, LogPosition at) {
        return applyOne(new Mutation.Txn(request, at));
    }

    /**
     * etcd Compact: keeps, for every key, its newest version <= revision (dropped if a
     * tombstone) and all later ones, and history from revision on. Refused: COMPACTED when
     * revision <= the compacted revision, FUTURE_REVISION when above the current one.
     */
    public Outcome<CompactResponse> compact(long revision, LogPosition at) {
        return applyOne(new Mutation.Compact(revision, at));
    }

    /**
     * etcd LeaseGrant. id 0 picks the lowest unused id above the last one picked or granted
     * (deterministic, so every replica picks the same). Refused: LEASE_EXISTS,
     * LEASE_ID_INVALID, LEASE_TTL_NEGATIVE, LEASE_TTL_TOO_LARGE, LEASE_COUNT_EXCEEDED.
     */
    public Outcome<LeaseGrantResponse> leaseGrant(long id, long ttlSeconds, LogPosition at) {
        return applyOne(new Mutation.LeaseGrant(id, ttlSeconds, at));
    }

    /** etcd LeaseRevoke: deletes every attached key at one revision. Refused: LEASE_NOT_FOUND. */
    public Outcome<LeaseRevokeResponse> leaseRevoke(long id, LogPosition at) {
        return applyOne(new Mutation.LeaseRevoke(id, at));
    }

    /** etcd LeaseCheckpoint: records the remaining TTL so a new leader does not restart the lease's clock. */
    public Outcome<Lease> leaseCheckpoint(long id, long remainingTtlSeconds, LogPosition at) {
        return applyOne(new Mutation.LeaseCheckpoint(id, remainingTtlSeconds, at));
    }

    /** Records a log entry that holds no store command (Raft no-op, configuration change). False if already applied. */
    public boolean markApplied(LogPosition at) {
        return applyOne(new Mutation.MarkApplied(at)) instanceof Outcome.Done<?>;
    }

    @SuppressWarnings("unchecked")
    private <R> Outcome<R> applyOne(Mutation mutation) {
        return (Outcome<R>) applyAll(List.of(mutation)).getFirst();
    }

    /**
     * Applies committed log entries in log order, exactly as if each were passed to its
     * single-entry method ({@link #put}, {@link #txn}, {@link #compact}, ...) one after the
     * other: the i-th outcome is what that call would return (its type is named on each
     * {@link Mutation}); a later entry sees every change of the earlier ones; a refused entry
     * changes nothing but is applied; an entry at or below the applied index is
     * {@link Outcome.AlreadyApplied}.
     *
     * <p>The entries go to RocksDB in one write, with the applied position of the last one;
     * a list longer than {@link MvccConfig#applyBatchEntriesMax} entries or
     * {@link MvccConfig#applyBatchBytesMax} bytes is written in several, each a prefix of the
     * rest. Readers see a batch's changes all at once, when its write is done.
     *
     * <p>Throws {@link MvccStorageException} when RocksDB fails: the entries of the failed write
     * are applied neither on disk nor in memory (those of earlier writes of the same call are),
     * and the caller must replay from {@link #appliedPosition()} + 1. Only the applier calls this.
     */
    public List<Outcome<?>> applyAll(List<Mutation> mutations) {
        applyLock.lock();
        try {
            checkOpen();
            List<Outcome<?>> outcomes = new ArrayList<>(mutations.size());
            int next = 0;
            while (next < mutations.size()) {
                next = applyBatch(mutations, next, outcomes);
            }
            return outcomes;
        } finally {
            applyLock.unlock();
        }
    }

    /** What a batch has changed so far; published to readers only once RocksDB has the batch. */
    private static final class BatchState {
        long appliedIndex;
        long appliedTerm;
        long revision;
        long compactedRevision;
        long lastLeaseId;
        long leaseCount;
        int entryCount;
        long writeBytes;
        /** The revision of the batch's last compaction, whose old versions are removed after the write; 0 = none. */
        long compactionRevision;

        boolean full(MvccConfig config) {
            return entryCount >= config.applyBatchEntriesMax() || writeBytes >= config.applyBatchBytesMax();
        }
    }

    /** Applies mutations from {@code from} on in one RocksDB write, until the list ends or the batch is full; returns where it stopped. */
    private int applyBatch(List<Mutation> mutations, int from, List<Outcome<?>> outcomes) {
        check(!keyIndex.hasUndo(), "a batch starts with every earlier change of the key index written");
        BatchState s = new BatchState();
        s.appliedIndex = appliedIndex;
        s.appliedTerm = appliedTerm;
        s.revision = currentRevision;
        s.compactedRevision = compactedRevision;
        s.lastLeaseId = lastLeaseId;
        s.leaseCount = leaseCount;
        int next = from;
        try (WriteBatchWithIndex batch = new WriteBatchWithIndex(true); ReadOptions readOptions = new ReadOptions()) {
            while (next < mutations.size() && !s.full(config)) {
                Mutation m = mutations.get(next++);
                LogPosition at = m.at();
                if (at.index() <= s.appliedIndex) {
                    outcomes.add(new Outcome.AlreadyApplied<>(new LogPosition(s.appliedIndex, s.appliedTerm)));
                    continue;
                }
                check(at.term() >= s.appliedTerm, "applied terms never go down: %d after %d", at.term(), s.appliedTerm);
                outcomes.add(applyEntry(m, s, batch, readOptions));
                s.appliedIndex = at.index();
                s.appliedTerm = at.term();
                s.entryCount++;
            }
            if (s.entryCount > 0) {
                batch.put(h.meta, META_APPLIED, applied(s.appliedIndex, s.appliedTerm));
                if (s.revision != currentRevision) {
                    batch.put(h.meta, META_REVISION, KeyCodec.longBytes(s.revision));
                }
                synchronized (viewLock) {
                    batchWriter.write(h.db, writeOptions, batch);
                    check(s.revision >= currentRevision, "the revision never goes down");
                    appliedIndex = s.appliedIndex;
                    appliedTerm = s.appliedTerm;
                    currentRevision = s.revision;
                    compactedRevision = s.compactedRevision;
                }
                lastLeaseId = s.lastLeaseId;
                leaseCount = s.leaseCount;
            }
            keyIndex.forgetUndo();
        } catch (RocksDBException e) {
            keyIndex.rollbackTo(0);
            throw new MvccStorageException("apply of log indexes " + mutations.get(from).at().index() + ".."
                    + mutations.get(next - 1).at().index() + " failed: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            keyIndex.rollbackTo(0); // nothing of the batch is applied: the key index matches RocksDB again
            throw e;
        }
        if (s.compactionRevision > 0) {
            // The compacted revision is recorded with the log position; removing old versions
            // follows in bounded batches, which a restart finishes if a crash cuts it short.
            compactPhysically(s.compactionRevision);
        }
        return next;
    }

    /** One entry into the batch: its outcome, and on success its changes carried in {@code s}. */
    private Outcome<?> applyEntry(Mutation m, BatchState s, WriteBatchWithIndex batch, ReadOptions readOptions) {
        WriteTxn txn = new WriteTxn(h, config, batch, readOptions, keyIndex, s.revision, s.compactedRevision,
                s.lastLeaseId, s.leaseCount);
        Object response;
        try {
            response = switch (m) {
                case Mutation.Put p -> applyPut(txn, p.request());
                case Mutation.DeleteRange d -> applyDeleteRange(txn, d.request());
                case Mutation.Txn t -> applyTxn(txn, t.request());
                case Mutation.Compact c -> applyCompact(txn, c.revision());
                case Mutation.LeaseGrant g -> applyLeaseGrant(txn, g.id(), g.ttlSeconds());
                case Mutation.LeaseRevoke r -> applyLeaseRevoke(txn, r.id());
                case Mutation.LeaseCheckpoint c -> applyLeaseCheckpoint(txn, c.id(), c.remainingTtlSeconds());
                case Mutation.MarkApplied a -> Boolean.TRUE; // no store command: only the applied index moves
            };
        } catch (Refusal r) {
            // Nothing of the refused entry stays in the batch, but the entry is applied.
            txn.undo();
            return r.outcome();
        }
        txn.finish();
        s.revision = txn.revisionAfter();
        s.lastLeaseId = txn.lastLeaseId;
        s.leaseCount = txn.leaseCount();
        s.writeBytes += txn.writeBytes();
        if (response instanceof CompactResponse c) {
            s.compactedRevision = c.compactedRevision();
            s.compactionRevision = c.compactedRevision();
        }
        return Outcome.done(response);
    }

    private PutResponse applyPut(WriteTxn txn, PutRequest request) {
        RequestChecks.checkPut(request, config);
        txn.checkPutState(request);
        return txn.put(request);
    }

    private DeleteRangeResponse applyDeleteRange(WriteTxn txn, DeleteRangeRequest request) {
        RequestChecks.checkKey(request.key(), request.rangeEnd(), config);
        return txn.deleteRange(request);
    }

    private TxnResponse applyTxn(WriteTxn txn, TxnRequest request) {
        RequestChecks.checkTxn(request, config);
        WriteTxn.Plan plan = txn.plan(request);
        txn.checkPath(request, plan);
        TxnResponse response = txn.execute(request, plan);
        return (TxnResponse) WriteTxn.stamp(response, txn.revisionAfter());
    }

    private CompactResponse applyCompact(WriteTxn txn, long revision) {
        if (revision <= txn.compactedRevision) {
            throw new Refusal(MvccError.COMPACTED, "revision " + revision + " <= compacted " + txn.compactedRevision);
        }
        if (revision > txn.baseRevision) {
            throw new Refusal(MvccError.FUTURE_REVISION, "revision " + revision + " > current " + txn.baseRevision);
        }
        txn.put(h.meta, META_COMPACTED, KeyCodec.longBytes(revision));
        return new CompactResponse(txn.baseRevision, revision);
    }

    private LeaseGrantResponse applyLeaseGrant(WriteTxn txn, long id, long ttlSeconds) {
        if (id < 0) {
            throw new Refusal(MvccError.LEASE_ID_INVALID, "lease id " + id);
        }
        if (ttlSeconds < 0) {
            throw new Refusal(MvccError.LEASE_TTL_NEGATIVE, "ttl " + ttlSeconds);
        }
        if (ttlSeconds > config.leaseTtlSecondsMax()) {
            throw new Refusal(MvccError.LEASE_TTL_TOO_LARGE, "ttl over leaseTtlSecondsMax=" + config.leaseTtlSecondsMax());
        }
        long leases = txn.leaseCount();
        if (leases >= config.leaseCountMax()) {
            throw new Refusal(MvccError.LEASE_COUNT_EXCEEDED, "leaseCountMax=" + config.leaseCountMax());
        }
        long granted = id;
        if (id == 0) {
            granted = txn.lastLeaseId + 1;
            // At most leaseCount ids are taken, so this ends within leaseCount + 1 steps.
            for (long steps = 0; txn.leaseExists(granted); steps++) {
                check(steps <= leases, "a free lease id is found within leaseCount steps");
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
    }

    private LeaseRevokeResponse applyLeaseRevoke(WriteTxn txn, long id) {
        if (!txn.leaseExists(id)) {
            throw new Refusal(MvccError.LEASE_NOT_FOUND, "lease " + id + " not found");
        }
        long deleted = txn.revokeLease(id);
        return new LeaseRevokeResponse(txn.revisionAfter(), deleted);
    }

    private Lease applyLeaseCheckpoint(WriteTxn txn, long id, long remainingTtlSeconds) {
        byte[] stored = txn.get(h.lease, KeyCodec.leaseId(id));
        if (stored == null) {
            throw new Refusal(MvccError.LEASE_NOT_FOUND, "lease " + id + " not found");
        }
        long granted = KeyCodec.getLong(stored, 0);
        long remaining = Math.clamp(remainingTtlSeconds, 0, granted);
        txn.put(h.lease, KeyCodec.leaseId(id), encodeLease(granted, remaining));
        return new Lease(id, granted, remaining);
    }

    private static byte[] applied(long index, long term) {
        byte[] v = new byte[16];
        KeyCodec.putLong(v, 0, index);
        KeyCodec.putLong(v, 8, term);
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
        RocksIterator it;
        long current;
        long compacted;
        synchronized (viewLock) {
            checkOpen();
            // One iterator is all a range reads: its implicit snapshot, taken under viewLock like
            // ReadView's, holds exactly the state at currentRevision, without a snapshot of its
            // own and read options to create and release per read.
            it = h.db.newIterator(h.kv, latestReadOptions);
            current = currentRevision;
            compacted = compactedRevision;
        }
        try (it) {
            RequestChecks.checkKey(request.key(), request.rangeEnd(), config);
            if (request.revision() > current) {
                return Outcome.refused(MvccError.FUTURE_REVISION,
                        "revision " + request.revision() + " > current " + current);
            }
            if (request.revision() > 0 && request.revision() < compacted) {
                return Outcome.refused(MvccError.COMPACTED,
                        "revision " + request.revision() + " < compacted " + compacted);
            }
            long readRevision = request.revision() <= 0 ? current : request.revision();
            return Outcome.done(RangeScan.range(it, request, readRevision, current, config));
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

    /**
     * Writes every column family's memtable to SST files and waits until they are, so that a
     * {@link #checkpoint} taken next, which flushes what is left, costs only the writes since.
     * RocksDB flushes beside writes, so entries may apply meanwhile (no applyLock is taken); the
     * caller keeps {@link #installCheckpoint} and {@link #close} from running concurrently.
     */
    public void flushMemtables() {
        StoreHandles handles;
        synchronized (viewLock) {
            checkOpen();
            handles = h;
        }
        try (FlushOptions options = new FlushOptions().setWaitForFlush(true)) {
            handles.db.flush(options, handles.families());
        } catch (RocksDBException e) {
            throw new MvccStorageException("memtable flush failed", e);
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
                keyIndex = null;
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
                    keyIndex = null;
                }
            }
            writeOptions.close();
            latestReadOptions.close();
        } finally {
            applyLock.unlock();
        }
    }
}
