package dev.atoll.storage.mvcc;

import java.util.Objects;

/**
 * etcd's Compare: {@code target} of every key in [key, rangeEnd) (single key when rangeEnd is
 * empty) against {@code number} (version, revisions, lease) or {@code value}. A missing key
 * compares as version/revisions/lease 0, and fails every VALUE compare, as in etcd.
 */
public record Compare(byte[] key, byte[] rangeEnd, Target target, Result result, long number, byte[] value) {
    public enum Target { VERSION, CREATE_REVISION, MOD_REVISION, VALUE, LEASE }

    public enum Result { EQUAL, NOT_EQUAL, GREATER, LESS }

    public Compare {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(result, "result");
        rangeEnd = rangeEnd == null ? new byte[0] : rangeEnd;
        value = value == null ? new byte[0] : value;
    }

    public static Compare version(byte[] key, Result result, long version) {
        return new Compare(key, null, Target.VERSION, result, version, null);
    }

    public static Compare createRevision(byte[] key, Result result, long revision) {
        return new Compare(key, null, Target.CREATE_REVISION, result, revision, null);
    }

    public static Compare modRevision(byte[] key, Result result, long revision) {
        return new Compare(key, null, Target.MOD_REVISION, result, revision, null);
    }

    public static Compare lease(byte[] key, Result result, long leaseId) {
        return new Compare(key, null, Target.LEASE, result, leaseId, null);
    }

    public static Compare value(byte[] key, Result result, byte[] value) {
        return new Compare(key, null, Target.VALUE, result, 0, value);
    }

    public Compare overRange(byte[] end) {
        return new Compare(key, end, target, result, number, value);
    }
}
