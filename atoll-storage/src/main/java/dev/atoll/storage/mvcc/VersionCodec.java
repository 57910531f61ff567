package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.check;

import java.util.Arrays;

/**
 * Values of the kv column family: a tombstone is the single byte {@code 2}; a put is
 * {@code 1 be64(createRevision) be64(version) be64(lease) value}. History values are
 * {@code type userKey}, the version itself being read from the kv column family.
 */
final class VersionCodec {
    static final byte PUT = 1;
    static final byte TOMBSTONE = 2;
    private static final int HEADER_BYTES = 1 + 3 * 8;
    static final byte[] TOMBSTONE_VALUE = {TOMBSTONE};

    private VersionCodec() {
    }

    static byte[] encode(long createRevision, long version, long lease, byte[] value) {
        byte[] out = new byte[HEADER_BYTES + value.length];
        out[0] = PUT;
        KeyCodec.putLong(out, 1, createRevision);
        KeyCodec.putLong(out, 9, version);
        KeyCodec.putLong(out, 17, lease);
        System.arraycopy(value, 0, out, HEADER_BYTES, value.length);
        return out;
    }

    static boolean isTombstone(byte[] stored) {
        check(stored.length > 0 && (stored[0] == PUT || stored[0] == TOMBSTONE), "a kv value starts with its kind");
        return stored[0] == TOMBSTONE;
    }

    static KeyValue decode(byte[] userKey, long modRevision, byte[] stored, boolean keysOnly) {
        check(stored[0] == PUT && stored.length >= HEADER_BYTES, "only a put decodes to a key-value");
        byte[] value = keysOnly ? new byte[0] : Arrays.copyOfRange(stored, HEADER_BYTES, stored.length);
        return new KeyValue(userKey, KeyCodec.getLong(stored, 1), modRevision, KeyCodec.getLong(stored, 9), value,
                KeyCodec.getLong(stored, 17));
    }

    static int valueBytes(byte[] stored) {
        return stored.length - HEADER_BYTES;
    }

    static byte[] historyValue(Event.Type type, byte[] userKey) {
        byte[] out = new byte[1 + userKey.length];
        out[0] = (byte) (type == Event.Type.PUT ? PUT : TOMBSTONE);
        System.arraycopy(userKey, 0, out, 1, userKey.length);
        return out;
    }
}
