package dev.atoll.shard;

import org.junit.jupiter.api.Test;

import static dev.atoll.shard.Keys.k;
import static org.assertj.core.api.Assertions.assertThat;

class KeyTest {
    @Test
    void keysOrderAsUnsignedBytesWithEndAfterEverything() {
        Key high = Key.of(new byte[]{(byte) 0xFF});
        assertThat(k("a")).isLessThan(k("a\0")).isLessThan(k("b"));
        assertThat(k("b")).isLessThan(high);
        assertThat(high).isLessThan(Key.END);
        assertThat(Key.MIN).isLessThan(k("\0"));
    }

    @Test
    void prefixEndIsTheFirstKeyAfterEveryKeyWithThePrefix() {
        assertThat(k("eu/").prefixEnd()).isEqualTo(k("eu0"));
        assertThat(Key.of(new byte[]{'a', (byte) 0xFF}).prefixEnd()).isEqualTo(k("b"));
        assertThat(Key.of(new byte[]{(byte) 0xFF, (byte) 0xFF}).prefixEnd()).isEqualTo(Key.END);
        assertThat(KeyRange.ofPrefix(k("eu/")).contains(k("eu/zzz"))).isTrue();
        assertThat(KeyRange.ofPrefix(k("eu/")).contains(k("eu0"))).isFalse();
    }

    @Test
    void redisKeySlotsMatchTheClusterSpec() {
        // Redis Cluster spec: CRC16-XMODEM of "123456789" is 0x31C3.
        assertThat(KeyHash.crc16("123456789".getBytes(), 0, 9)).isEqualTo(0x31C3);
        assertThat(KeyHash.slot(k("123456789"), 16384)).isEqualTo(0x31C3 & 16383);
        // Hash tags: only the part between the first { and the next } is hashed, if not empty.
        assertThat(KeyHash.slot(k("{user1000}.following"), 16384)).isEqualTo(KeyHash.slot(k("user1000"), 16384));
        assertThat(KeyHash.slot(k("{user1000}.followers"), 16384)).isEqualTo(KeyHash.slot(k("user1000"), 16384));
        assertThat(KeyHash.slot(k("foo{}{bar}"), 16384)).isEqualTo(KeyHash.slot(k("foo{}{bar}"), 16384));
        assertThat(KeyHash.slot(k("foo{{bar}}zap"), 16384)).isEqualTo(KeyHash.slot(k("{bar"), 16384));
    }

    @Test
    void jumpHashMovesKeysOnlyToTheNewBucket() {
        int moved = 0;
        for (int i = 0; i < 10_000; i++) {
            long h = KeyHash.hash64(k("key-" + i));
            int before = KeyHash.jump(h, 5);
            int after = KeyHash.jump(h, 6);
            if (before != after) {
                assertThat(after).isEqualTo(5);
                moved++;
            }
        }
        assertThat(moved / 10_000.0).isCloseTo(1 / 6.0, org.assertj.core.data.Offset.offset(0.02));
    }
}
