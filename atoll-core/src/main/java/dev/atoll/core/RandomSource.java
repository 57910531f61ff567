package dev.atoll.core;

/**
 * Randomness handed to a pure core from outside. The simulator passes a seeded source so
 * that one seed replays one run; the node runtime passes one seeded from the OS.
 */
public interface RandomSource {
    long nextLong();

    /** Uniform in [0, bound). */
    default int nextInt(int bound) {
        Check.checkArgument(bound > 0, "bound must be positive: %d", bound);
        return (int) Long.remainderUnsigned(nextLong(), bound);
    }

    /** Uniform in [0, bound). */
    default long nextLong(long bound) {
        Check.checkArgument(bound > 0, "bound must be positive: %d", bound);
        return Long.remainderUnsigned(nextLong(), bound);
    }

    /** Uniform in [0, 1). */
    default double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    default boolean chance(double probability) {
        return probability > 0 && nextDouble() < probability;
    }

    /** An independent source derived from this one, for a component that needs its own stream. */
    default RandomSource fork() {
        return new SeededRandom(nextLong());
    }
}
