package dev.atoll.bench.load;

import com.google.protobuf.ByteString;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The keys a run touches: {@code prefix} followed by a zero-padded decimal index in
 * [0, keyCount), every key exactly {@code keyBytes} long (so key 7 of 100 with prefix
 * {@code bench/} and 12 bytes is {@code bench/000007}). Also draws the index of each request.
 */
final class KeySpace {
    private final byte[] prefix;
    private final int keyBytes;
    private final int keyCount;
    private final ZipfianGenerator zipfian;

    KeySpace(LoadOptions options) {
        this.prefix = options.prefix().getBytes(StandardCharsets.UTF_8);
        this.keyBytes = options.keyBytes();
        this.keyCount = options.keyCount();
        this.zipfian = options.keyDistribution() == LoadOptions.KeyDistribution.ZIPFIAN
                ? new ZipfianGenerator(keyCount, options.zipfTheta()) : null;
        if (keyBytes < prefix.length + LoadOptions.digits(keyCount - 1)) {
            throw new IllegalArgumentException("key-size: too small for the prefix and the index");
        }
    }

    int keyCount() {
        return keyCount;
    }

    /** The index of the next request's key. */
    int nextIndex(RandomGenerator random) {
        return zipfian != null ? (int) zipfian.next(random) : random.nextInt(keyCount);
    }

    ByteString key(int index) {
        byte[] key = new byte[keyBytes];
        System.arraycopy(prefix, 0, key, 0, prefix.length);
        Arrays.fill(key, prefix.length, keyBytes, (byte) '0');
        int at = keyBytes;
        for (int n = index; n > 0; n /= 10) {
            key[--at] = (byte) ('0' + n % 10);
        }
        return ByteString.copyFrom(key);
    }

    ByteString prefix() {
        return ByteString.copyFrom(prefix);
    }

    /** etcd's range end for "every key with this prefix": the prefix with its last byte plus one. */
    ByteString prefixEnd() {
        byte[] end = prefix.clone();
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteString.copyFrom(end, 0, i + 1);
            }
        }
        return ByteString.copyFrom(new byte[] {0}); // all 0xff: etcd's "to the end of the keyspace"
    }
}
