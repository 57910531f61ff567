package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.checkArgument;

/**
 * Bounds of the MVCC store. Every request is checked against them and refused with a stable
 * {@link MvccError} when over, so a bound is never a silent truncation.
 *
 * @param keyBytesMax          etcd bounds only the whole request (1.5 MiB); a key is repeated in
 *                             every version and history entry, so it gets its own, smaller bound
 * @param valueBytesMax        etcd's default --max-request-bytes (1.5 MiB)
 * @param txnOpsMax            compares, success ops and failure ops per txn level (etcd --max-txn-ops)
 * @param txnDepthMax          nesting levels of txns
 * @param rangeKeysMax         key-values one range may hold in memory (after limit); bigger
 *                             ranges must page with limit
 * @param rangeResponseBytesMax key and value bytes one range may return
 * @param deleteKeysMax        keys one delete range (or lease revoke) may delete at one revision
 * @param historyEventsMax     events one history page may return
 * @param leaseCountMax        leases alive at once
 * @param leaseTtlSecondsMax   etcd's MaxLeaseTTL (9e9 s)
 * @param compactionBatchKeysMax deletes per RocksDB write batch while compacting
 * @param applyBatchEntriesMax  log entries {@link MvccStore#applyAll} puts in one RocksDB write;
 *                             a longer list (a catch-up round) is written in several
 * @param applyBatchBytesMax    key and value bytes after which {@link MvccStore#applyAll} writes
 *                             what it has and starts a new RocksDB write (the entry that crosses
 *                             the bound still goes in, so one batch may pass it by one entry)
 */
public record MvccConfig(int keyBytesMax, int valueBytesMax, int txnOpsMax, int txnDepthMax, int rangeKeysMax,
                         long rangeResponseBytesMax, int deleteKeysMax, int historyEventsMax, int leaseCountMax,
                         long leaseTtlSecondsMax, int compactionBatchKeysMax, int applyBatchEntriesMax,
                         long applyBatchBytesMax) {

    public static final int KEY_BYTES_MAX_DEFAULT = 64 * 1024;
    public static final int VALUE_BYTES_MAX_DEFAULT = 1536 * 1024;
    public static final int TXN_OPS_MAX_DEFAULT = 128;
    /** etcd commits its backend batch every 10,000 writes or 100 ms; a Raft round is smaller. */
    public static final int APPLY_BATCH_ENTRIES_MAX_DEFAULT = 1024;
    public static final long APPLY_BATCH_BYTES_MAX_DEFAULT = 8L * 1024 * 1024;

    public MvccConfig {
        checkArgument(keyBytesMax > 0 && valueBytesMax >= 0, "key/value bounds are positive");
        checkArgument(txnOpsMax > 0 && txnDepthMax > 0, "txn bounds are positive");
        checkArgument(rangeKeysMax > 0 && rangeResponseBytesMax > 0 && deleteKeysMax > 0, "range bounds are positive");
        checkArgument(historyEventsMax > 0 && leaseCountMax > 0 && leaseTtlSecondsMax > 0, "bounds are positive");
        checkArgument(compactionBatchKeysMax > 0, "compactionBatchKeysMax is positive");
        checkArgument(applyBatchEntriesMax > 0 && applyBatchBytesMax > 0, "apply batch bounds are positive");
    }

    public static MvccConfig defaults() {
        return new MvccConfig(KEY_BYTES_MAX_DEFAULT, VALUE_BYTES_MAX_DEFAULT, TXN_OPS_MAX_DEFAULT, 16, 100_000,
                256L * 1024 * 1024, 100_000, 10_000, 1_000_000, 9_000_000_000L, 10_000, APPLY_BATCH_ENTRIES_MAX_DEFAULT,
                APPLY_BATCH_BYTES_MAX_DEFAULT);
    }

    public MvccConfig withTxnOpsMax(int max) {
        return new MvccConfig(keyBytesMax, valueBytesMax, max, txnDepthMax, rangeKeysMax, rangeResponseBytesMax,
                deleteKeysMax, historyEventsMax, leaseCountMax, leaseTtlSecondsMax, compactionBatchKeysMax,
                applyBatchEntriesMax, applyBatchBytesMax);
    }

    public MvccConfig withRangeKeysMax(int max) {
        return new MvccConfig(keyBytesMax, valueBytesMax, txnOpsMax, txnDepthMax, max, rangeResponseBytesMax,
                deleteKeysMax, historyEventsMax, leaseCountMax, leaseTtlSecondsMax, compactionBatchKeysMax,
                applyBatchEntriesMax, applyBatchBytesMax);
    }

    public MvccConfig withCompactionBatchKeysMax(int max) {
        return new MvccConfig(keyBytesMax, valueBytesMax, txnOpsMax, txnDepthMax, rangeKeysMax, rangeResponseBytesMax,
                deleteKeysMax, historyEventsMax, leaseCountMax, leaseTtlSecondsMax, max, applyBatchEntriesMax,
                applyBatchBytesMax);
    }

    public MvccConfig withApplyBatchEntriesMax(int max) {
        return new MvccConfig(keyBytesMax, valueBytesMax, txnOpsMax, txnDepthMax, rangeKeysMax, rangeResponseBytesMax,
                deleteKeysMax, historyEventsMax, leaseCountMax, leaseTtlSecondsMax, compactionBatchKeysMax, max,
                applyBatchBytesMax);
    }

    public MvccConfig withApplyBatchBytesMax(long max) {
        return new MvccConfig(keyBytesMax, valueBytesMax, txnOpsMax, txnDepthMax, rangeKeysMax, rangeResponseBytesMax,
                deleteKeysMax, historyEventsMax, leaseCountMax, leaseTtlSecondsMax, compactionBatchKeysMax,
                applyBatchEntriesMax, max);
    }
}
