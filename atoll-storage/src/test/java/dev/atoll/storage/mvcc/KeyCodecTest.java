package dev.atoll.storage.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/** The kv key encoding: round trip, and byte order = user key order, then revision newest first. */
class KeyCodecTest {
    @Property(tries = 300)
    void aVersionKeyGivesBackItsUserKeyAndRevision(@ForAll @Size(max = 6) byte[] key, @ForAll long revision) {
        long rev = revision == Long.MIN_VALUE ? 0 : Math.abs(revision);
        byte[] encoded = KeyCodec.versionKey(key, rev);
        assertThat(KeyCodec.userKey(encoded)).isEqualTo(key);
        assertThat(KeyCodec.revision(encoded)).isEqualTo(rev);
        assertThat(KeyCodec.isVersionOf(encoded, KeyCodec.keyStart(key))).isTrue();
        assertThat(encoded).isEqualTo(KeyCodec.versionKeyFromStart(KeyCodec.keyStart(key), rev));
    }

    @Property(tries = 300)
    void encodedOrderIsKeyOrderThenNewestFirst(@ForAll @Size(max = 4) byte[] a, @ForAll @Size(max = 4) byte[] b) {
        int keyOrder = Integer.signum(Arrays.compareUnsigned(a, b));
        int encodedOrder = Integer.signum(Arrays.compareUnsigned(KeyCodec.versionKey(a, 5), KeyCodec.versionKey(b, 5)));
        assertThat(encodedOrder).isEqualTo(keyOrder);
        if (keyOrder != 0) {
            // every version of the smaller key sorts before every version of the larger one
            byte[] small = keyOrder < 0 ? a : b;
            byte[] large = keyOrder < 0 ? b : a;
            assertThat(Arrays.compareUnsigned(KeyCodec.versionKey(small, 0), KeyCodec.versionKey(large, 1_000)))
                    .isNegative();
        }
        assertThat(Arrays.compareUnsigned(KeyCodec.versionKey(a, 7), KeyCodec.versionKey(a, 6))).isNegative();
    }
}
