package dev.atoll.shard;

/**
 * The hash functions keys are routed by. Both are fixed forever: changing one moves every key.
 * <ul>
 *   <li>{@link #slot}: Redis Cluster's key slot, CRC16-XMODEM of the key, or of the part between
 *       the first '{' and the next '}' when that part is not empty, so "{user42}.cart" and
 *       "{user42}.orders" share a slot and a shard;</li>
 *   <li>{@link #jump}: Lamping and Veach's jump consistent hash, which spreads a 64-bit hash over
 *       n buckets and moves only 1/(n+1) of the keys when a bucket is added.</li>
 * </ul>
 */
public final class KeyHash {
    private static final int[] CRC16_TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            CRC16_TABLE[i] = crc & 0xFFFF;
        }
    }

    private KeyHash() {
    }

    /** CRC16-XMODEM (polynomial 0x1021, initial 0): "123456789" gives 0x31C3. */
    public static int crc16(byte[] bytes, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc = ((crc << 8) ^ CRC16_TABLE[((crc >>> 8) ^ bytes[i]) & 0xFF]) & 0xFFFF;
        }
        return crc;
    }

    /** The key's slot in a space of {@code slotCount} slots (a power of two up to 65536). */
    public static int slot(Key key, int slotCount) {
        byte[] b = key.bytesUnsafe();
        int from = 0;
        int to = b.length;
        int open = indexOf(b, (byte) '{', 0);
        if (open >= 0) {
            int close = indexOf(b, (byte) '}', open + 1);
            if (close > open + 1) {
                from = open + 1;
                to = close;
            }
        }
        return crc16(b, from, to) & (slotCount - 1);
    }

    /** A well-mixed 64-bit hash of the key's bytes (FNV-1a, then MurmurHash3's finalizer). */
    public static long hash64(Key key) {
        long h = 0xcbf29ce484222325L;
        for (byte x : key.bytesUnsafe()) {
            h = (h ^ (x & 0xFF)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** Jump consistent hash: a bucket in [0, buckets) for a 64-bit hash. */
    public static int jump(long hash, int buckets) {
        if (buckets <= 0) {
            throw new IllegalArgumentException("buckets must be positive: " + buckets);
        }
        long b = -1;
        long j = 0;
        long key = hash;
        while (j < buckets) {
            b = j;
            key = key * 2862933555777941757L + 1;
            j = (long) ((b + 1) * ((double) (1L << 31) / (double) ((key >>> 33) + 1)));
        }
        return (int) b;
    }

    private static int indexOf(byte[] b, byte x, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == x) {
                return i;
            }
        }
        return -1;
    }
}
