package dev.atoll.sim.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A write to the simulator's key-value state machine, as it travels in a log entry.
 * {@code requestId} makes every command unique, so a checker can tell two equal writes apart.
 */
public record KvCommand(Type type, long requestId, String key, String value, String expected) {
    public enum Type { PUT, CAS }

    public static KvCommand put(long requestId, String key, String value) {
        return new KvCommand(Type.PUT, requestId, key, value, null);
    }

    public static KvCommand cas(long requestId, String key, String expected, String value) {
        return new KvCommand(Type.CAS, requestId, key, value, expected);
    }

    public byte[] encode() {
        byte[] k = bytes(key);
        byte[] v = bytes(value);
        byte[] e = bytes(expected);
        var buf = ByteBuffer.allocate(1 + 8 + 12 + len(k) + len(v) + len(e));
        buf.put((byte) type.ordinal()).putLong(requestId);
        putString(buf, k);
        putString(buf, v);
        putString(buf, e);
        return buf.array();
    }

    public static KvCommand decode(byte[] data) {
        var buf = ByteBuffer.wrap(data);
        Type type = Type.values()[buf.get()];
        long requestId = buf.getLong();
        String key = getString(buf);
        String value = getString(buf);
        String expected = getString(buf);
        return new KvCommand(type, requestId, key, value, expected);
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static int len(byte[] b) {
        return b == null ? 0 : b.length;
    }

    private static void putString(ByteBuffer buf, byte[] b) {
        if (b == null) {
            buf.putInt(-1);
        } else {
            buf.putInt(b.length).put(b);
        }
    }

    private static String getString(ByteBuffer buf) {
        int n = buf.getInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
