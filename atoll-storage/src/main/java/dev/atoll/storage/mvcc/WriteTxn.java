package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatchWithIndex;

/**
 * One write transaction at one revision: every change goes into an indexed write batch, so
 * reads inside the transaction see its own writes, and nothing reaches RocksDB until the
 * store writes the batch (together with the applied Raft position) or drops it on refusal.
 * Every change of the transaction gets revision {@code baseRevision + 1} and the next
 * sub-revision, as in etcd.
 */
final class WriteTxn implements AutoCloseable {
    private final StoreHandles h;
    private final MvccConfig config;
    final WriteBatchWithIndex batch = new WriteBatchWithIndex(true);
    private final ReadOptions readOptions = new ReadOptions();
    final long baseRevision;
    final long compactedRevision;
    private long subRevision;
    private final Set<ByteBuffer> writtenKeys = new HashSet<>();
    /** Lease bookkeeping the store publishes after the batch is written. */
    long leaseCountDelta;
    long lastLeaseId;

    WriteTxn(StoreHandles h, MvccConfig config, long baseRevision, long compactedRevision, long lastLeaseId) {
        this.h = h;
        this.config = config;
        this.baseRevision = baseRevision;
        this.compactedRevision = compactedRevision;
        this.lastLeaseId = lastLeaseId;
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

    /** A plain iterator while the batch is empty (the common single put), else one that overlays the batch. */
    private RocksIterator iterator(ColumnFamilyHandle cf) {
        RocksIterator base = h.db.newIterator(cf, readOptions);
        return batch.count() == 0 ? base : batch.newIteratorWithBase(cf, base, readOptions);
    }

    Optional<KeyValue> latest(byte[] key) {
        try (RocksIterator it = iterator(h.kv)) {
            byte[] start = KeyCodec.keyStart(key);
            it.seek(KeyCodec.versionKeyFromStart(start, writeRevision()));
            if (!it.isValid() || !KeyCodec.isVersionOf(it.key(), start)) {
                RangeScan.checkStatus(it);
                return Optional.empty();
            }
            byte[] stored = it.value();
            if (VersionCodec.isTombstone(stored)) {
                return Optional.empty();
            }
            return Optional.of(VersionCodec.decode(key, KeyCodec.revision(it.key()), stored, false));
        }
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

    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        try {
            batch.put(cf, key, value);
        } catch (RocksDBException e) {
            throw new MvccStorageException("batch put failed", e);
        }
    }

    void delete(ColumnFamilyHandle cf, byte[] key) {
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
        if ((p.ignoreValue() || p.ignoreLease()) && latest(p.key()).isEmpty()) {
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
        Optional<KeyValue> current = latest(p.key());
        check(current.isPresent() || !(p.ignoreValue() || p.ignoreLease()), "ignore flags were checked on a live key");
        long rev = writeRevision();
        byte[] value = p.ignoreValue() ? current.orElseThrow().value() : p.value();
        long lease = p.ignoreLease() ? current.orElseThrow().lease() : p.lease();
        long createRevision = current.map(KeyValue::createRevision).orElse(rev);
        long version = current.map(kv -> kv.version() + 1).orElse(1L);
        writeVersion(p.key(), VersionCodec.encode(createRevision, version, lease, value), Event.Type.PUT);
        long previousLease = current.map(KeyValue::lease).orElse(0L);
        if (previousLease != 0 && previousLease != lease) {
            delete(h.leaseKey, KeyCodec.leaseKey(previousLease, p.key()));
        }
        if (lease != 0) {
            put(h.leaseKey, KeyCodec.leaseKey(lease, p.key()), new byte[0]);
        }
        return new PutResponse(rev, p.prevKv() ? current : Optional.empty());
    }

    DeleteRangeResponse deleteRange(DeleteRangeRequest d) {
        List<KeyValue> victims = new ArrayList<>();
        try (RocksIterator it = iterator(h.kv)) {
            RangeScan.scan(it, d.key(), d.rangeEnd(), writeRevision(), (userKey, modRevision, stored) -> {
                if (victims.size() >= config.deleteKeysMax()) {
                    throw new Refusal(MvccError.RANGE_TOO_LARGE,
                            "delete over deleteKeysMax=" + config.deleteKeysMax() + " keys");
                }
                victims.add(VersionCodec.decode(userKey, modRevision, stored, !d.prevKv()));
                return true;
            });
        }
        for (KeyValue kv : victims) {
            tombstone(kv);
        }
        return new DeleteRangeResponse(revisionAfter(), victims.size(),
                d.prevKv() ? List.copyOf(victims) : List.of());
    }

    private void tombstone(KeyValue kv) {
        writeVersion(kv.key(), VersionCodec.TOMBSTONE_VALUE, Event.Type.DELETE);
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
        // Revision 0 reads the txn's own writes, as etcd's write txn does.
        long readRevision = r.revision() <= 0 ? writeRevision() : r.revision();
        try (RocksIterator it = iterator(h.kv)) {
            return RangeScan.range(it, r, readRevision, revisionAfter(), config);
        }
    }

    // ---- transactions ----

    /** Which branch each txn on the executed path takes; nested entries in op order. */
    record Plan(boolean succeeded, List<Plan> nested) {
    }

    /** etcd's compareToPath: every compare on the path is evaluated before anything is written. */
    Plan plan(TxnRequest t) {
        check(batch.count() == 0, "compares see the state before the txn");
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
        List<KeyValue> kvs = new ArrayList<>();
        try (RocksIterator it = iterator(h.kv)) {
            RangeScan.scan(it, c.key(), c.rangeEnd(), baseRevision, (userKey, modRevision, stored) -> {
                kvs.add(VersionCodec.decode(userKey, modRevision, stored, c.target() != Compare.Target.VALUE));
                // A compare over a range is bounded like a range read.
                if (kvs.size() > config.rangeKeysMax()) {
                    throw new Refusal(MvccError.RANGE_TOO_LARGE, "compare over rangeKeysMax keys");
                }
                return true;
            });
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
            KeyValue kv = latest(key).orElseThrow(() -> new dev.atoll.core.InvariantViolation(
                    "a key attached to lease " + id + " is live"));
            check(kv.lease() == id, "a key attached to lease %d carries it, not %d", id, kv.lease());
            tombstone(kv);
        }
        delete(h.lease, KeyCodec.leaseId(id));
        leaseCountDelta--;
        return keys.size();
    }

    @Override
    public void close() {
        readOptions.close();
        batch.close();
    }
}
