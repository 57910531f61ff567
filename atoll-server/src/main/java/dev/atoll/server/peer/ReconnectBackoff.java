package dev.atoll.server.peer;

import java.util.SplittableRandom;

/**
 * Delays between attempts to reopen a stream: doubling from {@code millisMin} to
 * {@code millisMax}, each with up to half again of random jitter (capped at the max), so nodes
 * that lost the same peer do not all return at once. Seeded, so a run's delays can be replayed.
 * Not thread-safe: its link calls it under the link's lock.
 */
final class ReconnectBackoff {
    private final long millisMin;
    private final long millisMax;
    private final SplittableRandom random;
    private int failures;

    ReconnectBackoff(long millisMin, long millisMax, long seed) {
        if (millisMin <= 0 || millisMin > millisMax) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max: " + millisMin + ", " + millisMax);
        }
        this.millisMin = millisMin;
        this.millisMax = millisMax;
        this.random = new SplittableRandom(seed);
    }

    /** The delay before the next attempt, in [millisMin, millisMax]; counts one more failure. */
    long nextDelayMillis() {
        long base = millisMin;
        for (int i = 0; i < failures && base < millisMax; i++) {
            base = base > millisMax / 2 ? millisMax : base * 2;
        }
        failures++;
        long jitter = random.nextLong(base / 2 + 1);
        return Math.min(millisMax, base + jitter);
    }

    /** Failures since the last success. */
    int failures() {
        return failures;
    }

    void reset() {
        failures = 0;
    }
}
