package dev.atoll.shard;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * A key, or a boundary between keys: bytes ordered unsigned-lexicographically, as RocksDB and
 * etcd order them, plus {@link #END}, the boundary after every key. {@link #MIN} (no bytes) is
 * the first key. Immutable: the bytes are copied in and out.
 */
public final class Key implements Comparable<Key> {
    /** The smallest key: no bytes. */
    public static final Key MIN = new Key(new byte[0], false);
    /** Not a key but the boundary after every key: the exclusive end of the last range. */
    public static final Key END = new Key(new byte[0], true);

    private final byte[] bytes;
    private final boolean end;

    private Key(byte[] bytes, boolean end) {
        this.bytes = bytes;
        this.end = end;
    }

    public static Key of(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        return bytes.length == 0 ? MIN : new Key(bytes.clone(), false);
    }

    public static Key utf8(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] toBytes() {
        checkArgument(!end, "END has no bytes");
        return bytes.clone();
    }

    public int lengthBytes() {
        return bytes.length;
    }

    public boolean isEnd() {
        return end;
    }

    /** True if this key's bytes begin with {@code prefix}'s bytes (every key starts with MIN). */
    public boolean startsWith(Key prefix) {
        checkArgument(!prefix.end, "END is not a prefix");
        return !end && bytes.length >= prefix.bytes.length
                && Arrays.equals(bytes, 0, prefix.bytes.length, prefix.bytes, 0, prefix.bytes.length);
    }

    /** The first {@code lengthBytes} bytes of this key. */
    public Key prefix(int lengthBytes) {
        checkArgument(!end && lengthBytes >= 0 && lengthBytes <= bytes.length,
                "prefix length %d of a %d-byte key", lengthBytes, bytes.length);
        return lengthBytes == bytes.length ? this : of(Arrays.copyOf(bytes, lengthBytes));
    }

    /**
     * The boundary after every key that starts with this prefix: the last byte that is not 0xFF
     * incremented and what follows it dropped, or END when there is none ("a/" gives "a0").
     */
    public Key prefixEnd() {
        checkArgument(!end, "END is not a prefix");
        for (int i = bytes.length - 1; i >= 0; i--) {
            if (bytes[i] != (byte) 0xFF) {
                byte[] next = Arrays.copyOf(bytes, i + 1);
                next[i]++;
                return new Key(next, false);
            }
        }
        return END;
    }

    /** The smallest key greater than this one: this key followed by a zero byte. */
    public Key successor() {
        checkArgument(!end, "nothing follows END");
        return new Key(Arrays.copyOf(bytes, bytes.length + 1), false);
    }

    @Override
    public int compareTo(Key other) {
        if (end || other.end) {
            return Boolean.compare(end, other.end);
        }
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Key k && end == k.end && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return end ? -1 : Arrays.hashCode(bytes);
    }

    /** Printable ASCII as is, other bytes as \xNN; END as "END". */
    @Override
    public String toString() {
        if (end) {
            return "END";
        }
        var sb = new StringBuilder(bytes.length + 2).append('"');
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.append('"').toString();
    }

    /** The bytes without a copy, for hashing inside this package. */
    byte[] bytesUnsafe() {
        return bytes;
    }
}
