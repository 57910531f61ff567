package dev.atoll.storage.mvcc;

import java.util.Arrays;
import java.util.Objects;

/**
 * etcd's RangeRequest. {@code rangeEnd} as etcd: empty = the single key {@code key};
 * {@code {0}} = every key >= key; otherwise the keys in [key, rangeEnd). {@code revision}
 * <= 0 reads the current revision; {@code limit} <= 0 means no limit. Revision filters are
 * inclusive and 0 means unbounded.
 */
public record RangeRequest(byte[] key, byte[] rangeEnd, long revision, long limit, SortOrder sortOrder,
                           SortTarget sortTarget, boolean keysOnly, boolean countOnly, long minModRevision,
                           long maxModRevision, long minCreateRevision, long maxCreateRevision) implements RequestOp {

    public enum SortOrder { NONE, ASCEND, DESCEND }

    public enum SortTarget { KEY, VERSION, CREATE, MOD, VALUE }

    /** The range_end that means "every key from key on". */
    public static final byte[] FROM_KEY = {0};

    public RangeRequest {
        Objects.requireNonNull(key, "key");
        rangeEnd = rangeEnd == null ? new byte[0] : rangeEnd;
        sortOrder = sortOrder == null ? SortOrder.NONE : sortOrder;
        sortTarget = sortTarget == null ? SortTarget.KEY : sortTarget;
    }

    public static RangeRequest of(byte[] key) {
        return ofRange(key, null);
    }

    public static RangeRequest ofRange(byte[] key, byte[] rangeEnd) {
        return new RangeRequest(key, rangeEnd, 0, 0, SortOrder.NONE, SortTarget.KEY, false, false, 0, 0, 0, 0);
    }

    public static RangeRequest ofPrefix(byte[] prefix) {
        return ofRange(prefix, prefixEnd(prefix));
    }

    public static RangeRequest fromKey(byte[] key) {
        return ofRange(key, FROM_KEY);
    }

    /**
     * etcd's GetPrefixRangeEnd: the prefix with its last byte below 0xFF incremented and the
     * rest dropped; {@link #FROM_KEY} when every byte is 0xFF (no key bounds the prefix).
     */
    public static byte[] prefixEnd(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if ((prefix[i] & 0xFF) < 0xFF) {
                byte[] end = Arrays.copyOf(prefix, i + 1);
                end[i]++;
                return end;
            }
        }
        return FROM_KEY.clone();
    }

    public RangeRequest atRevision(long rev) {
        return new RangeRequest(key, rangeEnd, rev, limit, sortOrder, sortTarget, keysOnly, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest withLimit(long keysMax) {
        return new RangeRequest(key, rangeEnd, revision, keysMax, sortOrder, sortTarget, keysOnly, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest sortedBy(SortTarget target, SortOrder order) {
        return new RangeRequest(key, rangeEnd, revision, limit, order, target, keysOnly, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest withKeysOnly() {
        return new RangeRequest(key, rangeEnd, revision, limit, sortOrder, sortTarget, true, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest withCountOnly() {
        return new RangeRequest(key, rangeEnd, revision, limit, sortOrder, sortTarget, keysOnly, true,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest withModRevisionBetween(long min, long max) {
        return new RangeRequest(key, rangeEnd, revision, limit, sortOrder, sortTarget, keysOnly, countOnly,
                min, max, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest withCreateRevisionBetween(long min, long max) {
        return new RangeRequest(key, rangeEnd, revision, limit, sortOrder, sortTarget, keysOnly, countOnly,
                minModRevision, maxModRevision, min, max);
    }

    boolean hasRevisionFilters() {
        return minModRevision != 0 || maxModRevision != 0 || minCreateRevision != 0 || maxCreateRevision != 0;
    }
}
