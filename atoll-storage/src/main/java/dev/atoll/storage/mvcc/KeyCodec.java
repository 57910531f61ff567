package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;

import java.util.Arrays;

/**
 * Encodings of RocksDB keys.
 *
 * <p>kv column family: {@code escape(userKey) 0x00 0x01 be64(Long.MAX_VALUE - revision)}.
 * escape turns 0x00 into 0x00 0xFF, so escape(k) 0x00 0x01 is prefix-free and bytewise
 * order of encoded keys is the unsigned order of user keys, then revision descending. A seek
 * to (k, R) lands on k's newest version <= R, which is what a range at revision R needs
 * without an in-memory index.
 *
 * <p>history column family: {@code be64(revision) be64(subRevision)}, so iteration is in
 * revision order. lease_key column family: {@code be64(leaseId) userKey}.
 */
final class KeyCodec {
    static final int REVISION_BYTES = 8;
    private static final int TERMINATOR_BYTES = 2;

    private KeyCodec() {
    }

    /** escape(userKey) + terminator: sorts before every version of userKey and after every smaller key. */
    static byte[] keyStart(byte[] userKey) {
        return escaped(userKey, 0);
    }

    /** escape(userKey) + terminator, with {@code spareBytes} zero bytes after it. */
    private static byte[] escaped(byte[] userKey, int spareBytes) {
        int zeros = 0;
        for (byte b : userKey) {
            if (b == 0) {
                zeros++;
            }
        }
        byte[] out = new byte[userKey.length + zeros + TERMINATOR_BYTES + spareBytes];
        if (zeros == 0) {
            System.arraycopy(userKey, 0, out, 0, userKey.length);
        } else {
            int at = 0;
            for (byte b : userKey) {
                out[at++] = b;
                if (b == 0) {
                    out[at++] = (byte) 0xFF;
                }
            }
        }
        int end = userKey.length + zeros;
        out[end] = 0x00;
        out[end + 1] = 0x01;
        return out;
    }

    static byte[] versionKey(byte[] userKey, long revision) {
        check(revision >= 0, "revisions are not negative");
        byte[] out = escaped(userKey, REVISION_BYTES);
        putLong(out, out.length - REVISION_BYTES, Long.MAX_VALUE - revision);
        return out;
    }

    static byte[] versionKeyFromStart(byte[] keyStart, long revision) {
        check(revision >= 0, "revisions are not negative: %d", revision);
        byte[] out = Arrays.copyOf(keyStart, keyStart.length + REVISION_BYTES);
        putLong(out, keyStart.length, Long.MAX_VALUE - revision);
        return out;
    }

    /** Sorts after every version of userKey and before the next user key. */
    static byte[] afterAllVersions(byte[] keyStart) {
        byte[] out = Arrays.copyOf(keyStart, keyStart.length + 1);
        out[keyStart.length] = (byte) 0xFF;
        return out;
    }

    static boolean isVersionOf(byte[] encoded, byte[] keyStart) {
        return encoded.length == keyStart.length + REVISION_BYTES
                && Arrays.equals(encoded, 0, keyStart.length, keyStart, 0, keyStart.length);
    }

    static long revision(byte[] encoded) {
        return Long.MAX_VALUE - getLong(encoded, encoded.length - REVISION_BYTES);
    }

    static byte[] userKey(byte[] encoded) {
        int escapedEnd = encoded.length - REVISION_BYTES - TERMINATOR_BYTES;
        check(escapedEnd >= 0 && encoded[escapedEnd] == 0 && encoded[escapedEnd + 1] == 1,
                "a kv key ends with the terminator and a revision");
        int zeros = 0;
        for (int i = 0; i < escapedEnd; i++) {
            if (encoded[i] == 0) {
                check(encoded[i + 1] == (byte) 0xFF, "a 0x00 inside a user key is escaped");
                zeros++;
                i++;
            }
        }
        if (zeros == 0) {
            return Arrays.copyOf(encoded, escapedEnd);
        }
        byte[] out = new byte[escapedEnd - zeros];
        int at = 0;
        for (int i = 0; i < escapedEnd; i++) {
            out[at++] = encoded[i];
            if (encoded[i] == 0) {
                i++; // skip the escape byte
            }
        }
        return out;
    }

    static byte[] historyKey(long revision, long subRevision) {
        byte[] out = new byte[16];
        putLong(out, 0, revision);
        putLong(out, 8, subRevision);
        return out;
    }

    static byte[] leaseId(long id) {
        byte[] out = new byte[8];
        putLong(out, 0, id);
        return out;
    }

    static byte[] leaseKey(long id, byte[] userKey) {
        byte[] out = new byte[8 + userKey.length];
        putLong(out, 0, id);
        System.arraycopy(userKey, 0, out, 8, userKey.length);
        return out;
    }

    static void putLong(byte[] out, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            out[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    static long getLong(byte[] in, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (in[at + i] & 0xFF);
        }
        return v;
    }

    static byte[] longBytes(long v) {
        byte[] out = new byte[8];
        putLong(out, 0, v);
        return out;
    }
}
