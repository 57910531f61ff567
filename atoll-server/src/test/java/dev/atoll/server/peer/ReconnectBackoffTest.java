package dev.atoll.server.peer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReconnectBackoffTest {
    @Test
    void delaysGrowFromMinToMaxWithJitterInsideTheBounds() {
        var b = new ReconnectBackoff(50, 5_000, 1);
        long previousBase = 0;
        for (int i = 0; i < 40; i++) {
            long d = b.nextDelayMillis();
            assertThat(d).isBetween(50L, 5_000L);
            long base = Math.min(5_000, 50L << Math.min(i, 20));
            assertThat(d).isBetween(base, Math.min(5_000, base + base / 2));
            assertThat(base).isGreaterThanOrEqualTo(previousBase);
            previousBase = base;
        }
        assertThat(b.failures()).isEqualTo(40);
    }

    @Test
    void aSuccessStartsOverFromTheMinimum() {
        var b = new ReconnectBackoff(100, 10_000, 2);
        for (int i = 0; i < 10; i++) {
            b.nextDelayMillis();
        }
        b.reset();
        assertThat(b.nextDelayMillis()).isBetween(100L, 150L);
    }

    @Test
    void theSameSeedGivesTheSameDelays() {
        assertThat(delays(42)).isEqualTo(delays(42)).isNotEqualTo(delays(43));
    }

    private static List<Long> delays(long seed) {
        var b = new ReconnectBackoff(10, 1_000_000, seed);
        var out = new ArrayList<Long>();
        for (int i = 0; i < 12; i++) {
            out.add(b.nextDelayMillis());
        }
        return out;
    }
}
