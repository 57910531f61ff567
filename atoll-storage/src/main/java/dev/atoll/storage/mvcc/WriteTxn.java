package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * One log entry's write transaction at one revision, inside the store's batch of entries:
 * every change goes into the batch's indexed write batch and the in-memory {@link KeyIndex},
 * so this entry and every later one of the batch read what it wrote, and nothing reaches
 * RocksDB until the store writes the batch (with the applied Raft position of its last entry).
 * A refused entry is undone alone ({@link #undo}): the write batch rolls back to the save point
 * taken before the entry's first write, the key index to its mark. Every change gets revision
 * {@code baseRevision + 1} and the next sub-revision, as in etcd.
 */
final class WriteTxn {
    private final StoreHandles h;
    private final MvccConfig config;
    private final WriteBatchWithIndex batch;
    private final ReadOptions readOptions;
    private final KeyIndex index;
    private final int indexMark;
    final long baseRevision;
    final long compactedRevision;
    private long subRevision;
    private final Set<ByteBuffer> writtenKeys = new HashSet<>();
    /** Writes into the batch and their key and value bytes: what the batch's bounds count. */
    private int writeCount;
    private long writeBytes;
    /** Lease bookkeeping the store carries to the next entry of the batch, then publishes. */
    final long leaseCountBefore;
    long leaseCountDelta;
    long lastLeaseId;

    WriteTxn(StoreHandles h, MvccConfig config, WriteBatchWithIndex batch, ReadOptions readOptions, KeyIndex index,
             long baseRevision, long compactedRevision, long lastLeaseId, long leaseCount) {
        this.h = h;
        this.config = config;
        this.batch = batch;
        this.readOptions = readOptions;
        this.index = index;
        this.indexMark = index.undoMark();
        this.baseRevision = baseRevision;
        this.compactedRevision = compactedRevision;
        this.lastLeaseId = lastLeaseId;
        this.leaseCountBefore = leaseCount;
    }

    long writeRevision() {
        return baseRevision + 1;
    }

    boolean changed() {
        return subRevision > 0;
    }

    /** The store revision once this txn is written: etcd bumps it only for a txn that changed something. */
    long revisionAfter() {
        return changed() ? writeRevision() : baseRevision;
    }

    long leaseCount() {
        return leaseCountBefore + leaseCountDelta;
    }

    long writeBytes() {
        return writeBytes;
    }

    /** The entry is done: its writes stay in the batch. */
    void finish() {
        if (writeCount > 0) {
            try {
                batch.popSavePoint();
            } catch (RocksDBException e) {
                throw new MvccStorageException("write batch save point failed", e);
            }
        }
    }

    /** The entry was refused: removes its writes from the batch and the key index, leaving earlier entries' own. */
    void undo() {
        if (writeCount > 0) {
            try {
                batch.rollbackToSavePoint();
            } catch (RocksDBException e) {
                throw new MvccStorageException("write batch rollback failed", e);
            }
        }
        index.rollbackTo(indexMark);
    }

    /** A plain iterator while the batch is empty, else one that overlays the batch (earlier entries' writes too). */
    private RocksIterator iterator(ColumnFamilyHandle cf) {
        RocksIterator base = h.db.newIterator(cf, readOptions);
        return batch.count() == 0 ? base : batch.newIteratorWithBase(cf, base, readOptions);
    }

    /** The key's newest version (this txn's own change included), or null when absent; from memory. */
    KeyIndex.Latest latest(byte[] key) {
        return index.get(key);
    }

    /** The value of the key's version at modRevision, which must exist and be a put. */
    private byte[] valueAt(byte[] key, long modRevision) {
        byte[] stored = get(h.kv, KeyCodec.versionKey(key, modRevision));
        check(stored != null && !VersionCodec.isTombstone(stored), "the key index names a stored put");
        return VersionCodec.decode(key, modRevision, stored, false).value();
    }

    private KeyValue withValue(byte[] key, KeyIndex.Latest latest) {
        return latest.toKeyValue(key, valueAt(key, latest.modRevision()));
    }

    boolean leaseExists(long id) {
        return get(h.lease, KeyCodec.leaseId(id)) != null;
    }

    byte[] get(ColumnFamilyHandle cf, byte[] key) {
        try {
            return batch.getFromBatchAndDB(h.db, cf, readOptions, key);
        } catch (RocksDBException e) {
            throw new MvccStorageException("read failed", e);
        }
    }

    private void beforeWrite(byte[] key, byte[] value) {
        if (writeCount == 0) {
            batch.setSavePoint();
        }
        writeCount++;
        writeBytes += key.length + (value == null ? 0 : value.length);
    }

    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        beforeWrite(key, value);
        try {
            batch.put(cf, key, value);
        } catch (RocksDBException e) {
            throw new MvccStorageException("batch put failed", e);
        }
    }

    void delete(ColumnFamilyHandle cf, byte[] key) {
        beforeWrite(key, null);
        try {
            batch.delete(cf, key);
        } catch (RocksDBException e) {
            throw new MvccStorageException("batch delete failed", e);
        }
    }

    // ---- state checks of etcd's checkRequests, against the state before the txn ----

    void checkPutState(PutRequest p) {
        if (p.lease() != 0 && !leaseExists(p.lease())) {
            throw new Refusal(MvccError.LEASE_NOT_FOUND, "lease " + p.lease() + " not found");
        }
        if ((p.ignoreValue() || p.ignoreLease()) && latest(p.key()) == null) {
            throw new Refusal(MvccError.KEY_NOT_FOUND, "ignore_value/ignore_lease on a missing key");
        }
    }

    void checkRangeRevision(long revision) {
        if (revision > baseRevision) {
            throw new Refusal(MvccError.FUTURE_REVISION, "revision " + revision + " > current " + baseRevision);
        }
        if (revision > 0 && revision < compactedRevision) {
            throw new Refusal(MvccError.COMPACTED, "revision " + revision + " < compacted " + compactedRevision);
        }
    }

    // ---- operations ----

    PutResponse put(PutRequest p) {
        KeyIndex.Latest current = latest(p.key());
        check(current != null || !(p.ignoreValue() || p.ignoreLease()), "ignore flags were checked on a live key");
        long rev = writeRevision();
        // The value is read (a point get) only when the request needs the old one.
        KeyValue previous = current != null && (p.ignoreValue() || p.prevKv()) ? withValue(p.key(), current) : null;
        byte[] value = p.ignoreValue() ? previous.value() : p.value();
        long previousLease = current == null ? 0 : current.lease();
        long lease = p.ignoreLease() ? previousLease : p.lease();
        long createRevision = current == null ? rev : current.createRevision();
        long version = current == null ? 1 : current.version() + 1;
        writeVersion(p.key(), VersionCodec.encode(createRevision, version, lease, value), Event.Type.PUT);
        index.put(p.key(), new KeyIndex.Latest(createRevision, rev, version, lease));
        if (previousLease != 0 && previousLease != lease) {
            delete(h.leaseKey, KeyCodec.leaseKey(previousLease, p.key()));
        }
        if (lease != 0) {
            put(h.leaseKey, KeyCodec.leaseKey(lease, p.key()), new byte[0]);
        }
        return new PutResponse(rev, p.prevKv() ? Optional.ofNullable(previous) : Optional.empty());
    }

    DeleteRangeResponse deleteRange(DeleteRangeRequest d) {
        List<KeyValue> victims = new ArrayList<>();
        for (Map.Entry<byte[], KeyIndex.Latest> e : index.range(d.key(), d.rangeEnd())) {
            if (victims.size() >= config.deleteKeysMax()) {
                throw new Refusal(MvccError.RANGE_TOO_LARGE,
                        "delete over deleteKeysMax=" + config.deleteKeysMax() + " keys");
            }
            victims.add(d.prevKv() ? withValue(e.getKey(), e.getValue()) : e.getValue().toKeyValue(e.getKey(), new byte[0]));
        }
        for (KeyValue kv : victims) {
            tombstone(kv);
        }
        return new DeleteRangeResponse(revisionAfter(), victims.size(),
                d.prevKv() ? List.copyOf(victims) : List.of());
    }

    private void tombstone(KeyValue kv) {
        writeVersion(kv.key(), VersionCodec.TOMBSTONE_VALUE, Event.Type.DELETE);
        index.remove(kv.key());
        if (kv.lease() != 0) {
            delete(h.leaseKey, KeyCodec.leaseKey(kv.lease(), kv.key()));
        }
    }

    private void writeVersion(byte[] key, byte[] stored, Event.Type type) {
        // The duplicate-key check of the txn guarantees one change per key per revision;
        // the kv layout (one entry per key and main revision) depends on it.
        check(writtenKeys.add(ByteBuffer.wrap(key)), "a txn changes a key at most once");
        put(h.kv, KeyCodec.versionKey(key, writeRevision()), stored);
        put(h.history, KeyCodec.historyKey(writeRevision(), subRevision), VersionCodec.historyValue(type, key));
        subRevision++;
    }

    RangeResponse range(RangeRequest r) {
        checkRangeRevision(r.revision());
        if (r.rangeEnd().length == 0 && r.revision() <= 0) {
            // One key at the newest revision: the key index names its version, and one point
            // read fetches it. This runs on the apply thread (a txn's failure branch reading the
            // key it compared is the common case): no iterator over the batch and the store.
            return RangeScan.range(visitor -> visitLatest(r, visitor), r, revisionAfter(), config);
        }
        // Revision 0 reads the txn's own writes, as etcd's write txn does.
        long readRevision = r.revision() <= 0 ? writeRevision() : r.revision();
        try (RocksIterator it = iterator(h.kv)) {
            return RangeScan.range(it, r, readRevision, revisionAfter(), config);
        }
    }

    /** The newest version of the key of a single-key range, this txn's own writes included, if live. */
    private void visitLatest(RangeRequest r, RangeScan.Visitor visitor) {
        KeyIndex.Latest latest = latest(r.key());
        if (latest == null) {
            return;
        }
        byte[] stored = get(h.kv, KeyCodec.versionKey(r.key(), latest.modRevision()));
        check(stored != null && !VersionCodec.isTombstone(stored), "the key index names a stored put");
        visitor.visit(r.key().clone(), latest.modRevision(), stored);
    }

    // ---- transactions ----

    /** Which branch each txn on the executed path takes; nested entries in op order. */
    record Plan(boolean succeeded, List<Plan> nested) {
    }

    /** etcd's compareToPath: every compare on the path is evaluated before anything is written. */
    Plan plan(TxnRequest t) {
        check(writeCount == 0, "compares see the state before the txn");
        boolean succeeded = true;
        for (Compare c : t.compares()) {
            if (!holds(c)) {
                succeeded = false;
                break;
            }
        }
        List<Plan> nested = new ArrayList<>();
        for (RequestOp op : succeeded ? t.success() : t.failure()) {
            if (op instanceof TxnRequest n) {
                nested.add(plan(n));
            }
        }
        return new Plan(succeeded, nested);
    }

    private boolean holds(Compare c) {
        // Before the txn writes, the key index is the state at baseRevision.
        List<KeyValue> kvs = new ArrayList<>();
        for (Map.Entry<byte[], KeyIndex.Latest> e : index.range(c.key(), c.rangeEnd())) {
            kvs.add(c.target() == Compare.Target.VALUE ? withValue(e.getKey(), e.getValue())
                    : e.getValue().toKeyValue(e.getKey(), new byte[0]));
            // A compare over a range is bounded like a range read.
            if (kvs.size() > config.rangeKeysMax()) {
                throw new Refusal(MvccError.RANGE_TOO_LARGE, "compare over rangeKeysMax keys");
            }
        }
        if (kvs.isEmpty()) {
            // etcd: a missing key fails every VALUE compare, and is all zeros for the others.
            return c.target() != Compare.Target.VALUE
                    && holds(c, new KeyValue(c.key(), 0, 0, 0, new byte[0], 0));
        }
        for (KeyValue kv : kvs) {
            if (!holds(c, kv)) {
                return false;
            }
        }
        return true;
    }

    private static boolean holds(Compare c, KeyValue kv) {
        int order = switch (c.target()) {
            case VERSION -> Long.compare(kv.version(), c.number());
            case CREATE_REVISION -> Long.compare(kv.createRevision(), c.number());
            case MOD_REVISION -> Long.compare(kv.modRevision(), c.number());
            case LEASE -> Long.compare(kv.lease(), c.number());
            case VALUE -> java.util.Arrays.compareUnsigned(kv.value(), c.value());
        };
        return switch (c.result()) {
            case EQUAL -> order == 0;
            case NOT_EQUAL -> order != 0;
            case GREATER -> order > 0;
            case LESS -> order < 0;
        };
    }

    /** etcd's checkRequests on the path taken: leases, ignore flags and range revisions. */
    void checkPath(TxnRequest t, Plan plan) {
        Iterator<Plan> nested = plan.nested().iterator();
        for (RequestOp op : plan.succeeded() ? t.success() : t.failure()) {
            switch (op) {
                case PutRequest p -> checkPutState(p);
                case RangeRequest r -> checkRangeRevision(r.revision());
                case DeleteRangeRequest d -> { }
                case TxnRequest n -> checkPath(n, nested.next());
            }
        }
    }

    TxnResponse execute(TxnRequest t, Plan plan) {
        Iterator<Plan> nested = plan.nested().iterator();
        List<ResponseOp> responses = new ArrayList<>();
        for (RequestOp op : plan.succeeded() ? t.success() : t.failure()) {
            responses.add(switch (op) {
                case RangeRequest r -> range(r);
                case PutRequest p -> put(p);
                case DeleteRangeRequest d -> deleteRange(d);
                case TxnRequest n -> execute(n, nested.next());
            });
        }
        return new TxnResponse(revisionAfter(), plan.succeeded(), responses);
    }

    /** Every response of a txn carries the txn's final revision in its header, as etcd's. */
    static ResponseOp stamp(ResponseOp r, long revision) {
        return switch (r) {
            case RangeResponse x -> new RangeResponse(revision, x.kvs(), x.more(), x.count());
            case PutResponse x -> new PutResponse(revision, x.prevKv());
            case DeleteRangeResponse x -> new DeleteRangeResponse(revision, x.deleted(), x.prevKvs());
            case TxnResponse x -> new TxnResponse(revision, x.succeeded(),
                    x.responses().stream().map(op -> stamp(op, revision)).toList());
        };
    }

    // ---- leases ----

    List<byte[]> attachedKeys(long id) {
        List<byte[]> keys = new ArrayList<>();
        byte[] prefix = KeyCodec.leaseId(id);
        try (RocksIterator it = iterator(h.leaseKey)) {
            for (it.seek(prefix); it.isValid(); it.next()) {
                byte[] k = it.key();
                if (KeyCodec.getLong(k, 0) != id) {
                    break;
                }
                keys.add(java.util.Arrays.copyOfRange(k, 8, k.length));
            }
            RangeScan.checkStatus(it);
        }
        return keys;
    }

    long revokeLease(long id) {
        List<byte[]> keys = attachedKeys(id);
        for (byte[] key : keys) {
            KeyIndex.Latest latest = latest(key);
            check(latest != null, "a key attached to lease %d is live", id);
            check(latest.lease() == id, "a key attached to lease %d carries it, not %d", id, latest.lease());
            tombstone(latest.toKeyValue(key, new byte[0]));
        }
        delete(h.lease, KeyCodec.leaseId(id));
        leaseCountDelta--;
        return keys.size();
    }
}
