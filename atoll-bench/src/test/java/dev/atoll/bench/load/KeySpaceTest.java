package dev.atoll.bench.load;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class KeySpaceTest {
    @Test
    void keysArePrefixAndZeroPaddedIndexOfTheGivenLength() {
        var keys = new KeySpace(LoadOptions.parse("put --key-count 100 --key-size 12 --prefix bench/".split(" ")));
        assertThat(keys.key(7).toString(StandardCharsets.UTF_8)).isEqualTo("bench/000007");
        assertThat(keys.key(0).toString(StandardCharsets.UTF_8)).isEqualTo("bench/000000");
        assertThat(keys.key(99).toString(StandardCharsets.UTF_8)).isEqualTo("bench/000099");
    }

    @Test
    void prefixEndIsThePrefixWithItsLastByteRaised() {
        var keys = new KeySpace(LoadOptions.parse("watch --prefix bench/".split(" ")));
        assertThat(keys.prefixEnd().toString(StandardCharsets.UTF_8)).isEqualTo("bench0");
    }
}
