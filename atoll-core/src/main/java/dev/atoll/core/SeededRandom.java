package dev.atoll.core;

/**
 * SplitMix64: a tiny, fast generator whose whole state is one long, so the same seed gives
 * the same sequence on every JVM. Not for cryptography.
 */
public final class SeededRandom implements RandomSource {
    private long state;

    public SeededRandom(long seed) {
        this.state = seed;
    }

    @Override
    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
