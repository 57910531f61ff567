package dev.atoll.storage.mvcc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Range reads over the kv column family at a revision, with etcd's range_end conventions,
 * limit, count, filters and sort. Works on any RocksIterator: a snapshot iterator for reads,
 * or a write batch's iterator-with-base inside a transaction (which sees the txn's own writes).
 */
final class RangeScan {
    private RangeScan() {
    }

    interface Visitor {
        /** A live key's newest version <= the read revision; false stops the scan. */
        boolean visit(byte[] userKey, long modRevision, byte[] stored);
    }

    /** Visits, in key order, each live key of a range as of a read revision (see {@link #scan}). */
    interface Source {
        void scan(Visitor visitor);
    }

    static boolean isFromKey(byte[] rangeEnd) {
        return Arrays.equals(rangeEnd, RangeRequest.FROM_KEY);
    }

    /** Whether userKey lies in the range named by (key, rangeEnd). */
    static boolean contains(byte[] key, byte[] rangeEnd, byte[] userKey) {
        if (rangeEnd.length == 0) {
            return Arrays.equals(key, userKey);
        }
        return Arrays.compareUnsigned(userKey, key) >= 0
                && (isFromKey(rangeEnd) || Arrays.compareUnsigned(userKey, rangeEnd) < 0);
    }

    static void scan(RocksIterator it, byte[] key, byte[] rangeEnd, long revision, Visitor visitor) {
        if (rangeEnd.length == 0) {
            byte[] start = KeyCodec.keyStart(key);
            it.seek(KeyCodec.versionKeyFromStart(start, revision));
            if (it.isValid() && KeyCodec.isVersionOf(it.key(), start)) {
                byte[] stored = it.value();
                if (!VersionCodec.isTombstone(stored)) {
                    visitor.visit(key, KeyCodec.revision(it.key()), stored);
                }
            }
            checkStatus(it);
            return;
        }
        boolean fromKey = isFromKey(rangeEnd);
        if (!fromKey && Arrays.compareUnsigned(key, rangeEnd) >= 0) {
            return;
        }
        it.seek(KeyCodec.keyStart(key));
        while (it.isValid()) {
            byte[] encoded = it.key();
            byte[] userKey = KeyCodec.userKey(encoded);
            if (!fromKey && Arrays.compareUnsigned(userKey, rangeEnd) >= 0) {
                break;
            }
            byte[] start = KeyCodec.keyStart(userKey);
            long modRevision = KeyCodec.revision(encoded);
            if (modRevision > revision) {
                // Versions are newest first: seek to this key's newest version <= revision.
                it.seek(KeyCodec.versionKeyFromStart(start, revision));
                if (!it.isValid()) {
                    break;
                }
                encoded = it.key();
                if (!KeyCodec.isVersionOf(encoded, start)) {
                    continue; // the key did not exist at revision; the iterator is on the next key
                }
                modRevision = KeyCodec.revision(encoded);
            }
            byte[] stored = it.value();
            if (!VersionCodec.isTombstone(stored) && !visitor.visit(userKey, modRevision, stored)) {
                return;
            }
            // One next() is enough when the key has one version (the common case after
            // compaction); otherwise seek past its older versions.
            it.next();
            if (it.isValid() && KeyCodec.isVersionOf(it.key(), start)) {
                it.seek(KeyCodec.afterAllVersions(start));
            }
        }
        checkStatus(it);
    }

    static void checkStatus(RocksIterator it) {
        try {
            it.status();
        } catch (RocksDBException e) {
            throw new MvccStorageException("kv iteration failed", e);
        }
    }

    /**
     * etcd's applierV3 Range: fetch (everything when sorting or filtering, else limit + 1),
     * filter, sort, cut to limit. count is the number of keys in range, unfiltered.
     */
    static RangeResponse range(RocksIterator it, RangeRequest r, long readRevision, long headerRevision,
                               MvccConfig config) {
        return range(visitor -> scan(it, r.key(), r.rangeEnd(), readRevision, visitor), r, headerRevision, config);
    }

    /** {@link #range(RocksIterator, RangeRequest, long, long, MvccConfig)} over the keys {@code source} visits. */
    static RangeResponse range(Source source, RangeRequest r, long headerRevision, MvccConfig config) {
        boolean fetchAll = r.sortOrder() != RangeRequest.SortOrder.NONE || r.hasRevisionFilters();
        long keep = r.countOnly() ? 0 : (fetchAll || r.limit() <= 0 ? Long.MAX_VALUE : r.limit() + 1);
        List<KeyValue> kvs = new ArrayList<>();
        long[] countAndBytes = new long[2];
        source.scan((userKey, modRevision, stored) -> {
            countAndBytes[0]++;
            if (kvs.size() < keep) {
                // rangeKeysMax + 1 so that limit == rangeKeysMax can still tell "more".
                if (kvs.size() > config.rangeKeysMax()) {
                    throw new Refusal(MvccError.RANGE_TOO_LARGE,
                            "more than rangeKeysMax=" + config.rangeKeysMax() + " keys; page with limit");
                }
                KeyValue kv = VersionCodec.decode(userKey, modRevision, stored, r.keysOnly());
                countAndBytes[1] += userKey.length + kv.value().length;
                if (countAndBytes[1] > config.rangeResponseBytesMax()) {
                    throw new Refusal(MvccError.RANGE_TOO_LARGE,
                            "more than rangeResponseBytesMax=" + config.rangeResponseBytesMax() + " bytes");
                }
                kvs.add(kv);
            }
            return true;
        });
        List<KeyValue> result = kvs;
        if (r.hasRevisionFilters()) {
            result = kvs.stream().filter(kv -> passes(r, kv)).collect(ArrayList::new, List::add, List::addAll);
        }
        Comparator<KeyValue> order = sortOrder(r);
        if (order != null) {
            result.sort(order);
        }
        boolean more = false;
        if (r.limit() > 0 && result.size() > r.limit()) {
            result = result.subList(0, (int) r.limit());
            more = true;
        }
        return new RangeResponse(headerRevision, List.copyOf(result), more, countAndBytes[0]);
    }

    private static boolean passes(RangeRequest r, KeyValue kv) {
        return (r.maxModRevision() == 0 || kv.modRevision() <= r.maxModRevision())
                && (r.minModRevision() == 0 || kv.modRevision() >= r.minModRevision())
                && (r.maxCreateRevision() == 0 || kv.createRevision() <= r.maxCreateRevision())
                && (r.minCreateRevision() == 0 || kv.createRevision() >= r.minCreateRevision());
    }

    /**
     * etcd sorts ASCEND by default when the target is not KEY, and never re-sorts KEY ASCEND
     * (the scan is already in key order). Ties keep key order (the sort is stable).
     */
    private static Comparator<KeyValue> sortOrder(RangeRequest r) {
        RangeRequest.SortOrder order = r.sortOrder();
        if (r.sortTarget() != RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.NONE) {
            order = RangeRequest.SortOrder.ASCEND;
        } else if (r.sortTarget() == RangeRequest.SortTarget.KEY && order == RangeRequest.SortOrder.ASCEND) {
            order = RangeRequest.SortOrder.NONE;
        }
        if (order == RangeRequest.SortOrder.NONE) {
            return null;
        }
        Comparator<KeyValue> c = switch (r.sortTarget()) {
            case KEY -> (a, b) -> Arrays.compareUnsigned(a.key(), b.key());
            case VERSION -> Comparator.comparingLong(KeyValue::version);
            case CREATE -> Comparator.comparingLong(KeyValue::createRevision);
            case MOD -> Comparator.comparingLong(KeyValue::modRevision);
            case VALUE -> (a, b) -> Arrays.compareUnsigned(a.value(), b.value());
        };
        return order == RangeRequest.SortOrder.DESCEND ? c.reversed() : c;
    }
}
