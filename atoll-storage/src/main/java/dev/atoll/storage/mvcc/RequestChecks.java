package dev.atoll.storage.mvcc;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks of a request's shape, independent of the store's state (etcd's checkPutRequest,
 * checkTxnRequest and checkIntervals). Throws {@link Refusal}; runs before anything is written.
 */
final class RequestChecks {
    private RequestChecks() {
    }

    static void checkKey(byte[] key, byte[] rangeEnd, MvccConfig config) {
        if (key.length == 0) {
            throw new Refusal(MvccError.EMPTY_KEY, "key is empty");
        }
        if (key.length > config.keyBytesMax() || rangeEnd.length > config.keyBytesMax()) {
            throw new Refusal(MvccError.KEY_TOO_LARGE, "key over keyBytesMax=" + config.keyBytesMax());
        }
    }

    static void checkPut(PutRequest p, MvccConfig config) {
        checkKey(p.key(), new byte[0], config);
        if (p.value().length > config.valueBytesMax()) {
            throw new Refusal(MvccError.VALUE_TOO_LARGE, "value over valueBytesMax=" + config.valueBytesMax());
        }
        if (p.ignoreValue() && p.value().length != 0) {
            throw new Refusal(MvccError.VALUE_PROVIDED, "ignore_value with a value");
        }
        if (p.ignoreLease() && p.lease() != 0) {
            throw new Refusal(MvccError.LEASE_PROVIDED, "ignore_lease with a lease");
        }
    }

    static void checkTxn(TxnRequest t, MvccConfig config) {
        checkTxnShape(t, 1, config);
        checkIntervals(t.success());
        checkIntervals(t.failure());
    }

    private static void checkTxnShape(TxnRequest t, int depth, MvccConfig config) {
        if (depth > config.txnDepthMax()) {
            throw new Refusal(MvccError.TXN_TOO_DEEP, "txn nesting over txnDepthMax=" + config.txnDepthMax());
        }
        int max = config.txnOpsMax();
        if (t.compares().size() > max || t.success().size() > max || t.failure().size() > max) {
            throw new Refusal(MvccError.TOO_MANY_OPS, "more than txnOpsMax=" + max + " compares or ops");
        }
        for (Compare c : t.compares()) {
            if (c.key().length > config.keyBytesMax() || c.rangeEnd().length > config.keyBytesMax()) {
                throw new Refusal(MvccError.KEY_TOO_LARGE, "compare key over keyBytesMax=" + config.keyBytesMax());
            }
            if (c.value().length > config.valueBytesMax()) {
                throw new Refusal(MvccError.VALUE_TOO_LARGE, "compare value over valueBytesMax");
            }
        }
        for (List<RequestOp> ops : List.of(t.success(), t.failure())) {
            for (RequestOp op : ops) {
                switch (op) {
                    case RangeRequest r -> checkKey(r.key(), r.rangeEnd(), config);
                    case PutRequest p -> checkPut(p, config);
                    case DeleteRangeRequest d -> checkKey(d.key(), d.rangeEnd(), config);
                    case TxnRequest n -> checkTxnShape(n, depth + 1, config);
                }
            }
        }
    }

    private record Writes(Set<ByteBuffer> puts, List<DeleteRangeRequest> deletes) {
    }

    /**
     * etcd's checkIntervals: within one branch no key may be put twice or be both put and
     * deleted, counting nested txns; a nested txn's success and failure may put the same key
     * (only one of them runs).
     */
    private static Writes checkIntervals(List<RequestOp> ops) {
        List<DeleteRangeRequest> deletes = new ArrayList<>();
        for (RequestOp op : ops) {
            if (op instanceof DeleteRangeRequest d) {
                deletes.add(d);
            }
        }
        Set<ByteBuffer> puts = new HashSet<>();
        for (RequestOp op : ops) {
            if (op instanceof TxnRequest n) {
                Writes then = checkIntervals(n.success());
                Writes otherwise = checkIntervals(n.failure());
                for (ByteBuffer k : then.puts()) {
                    if (puts.contains(k) || deleted(deletes, k)) {
                        throw duplicate(k);
                    }
                    puts.add(k);
                }
                for (ByteBuffer k : otherwise.puts()) {
                    if ((puts.contains(k) && !then.puts().contains(k)) || deleted(deletes, k)) {
                        throw duplicate(k);
                    }
                    puts.add(k);
                }
                deletes.addAll(then.deletes());
                deletes.addAll(otherwise.deletes());
            }
        }
        for (RequestOp op : ops) {
            if (op instanceof PutRequest p) {
                ByteBuffer k = ByteBuffer.wrap(p.key());
                if (puts.contains(k) || deleted(deletes, k)) {
                    throw duplicate(k);
                }
                puts.add(k);
            }
        }
        return new Writes(puts, deletes);
    }

    private static boolean deleted(List<DeleteRangeRequest> deletes, ByteBuffer key) {
        byte[] k = key.array();
        for (DeleteRangeRequest d : deletes) {
            if (RangeScan.contains(d.key(), d.rangeEnd(), k)) {
                return true;
            }
        }
        return false;
    }

    private static Refusal duplicate(ByteBuffer key) {
        return new Refusal(MvccError.DUPLICATE_KEY, "key written twice in one txn (" + key.remaining() + " bytes)");
    }
}
