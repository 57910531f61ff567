package dev.atoll.bench.load;

import java.util.random.RandomGenerator;

/**
 * Draws ranks in [0, itemCount) with P(rank r) proportional to 1 / (r + 1)^theta: rank 0 is
 * the most popular. The method of Gray et al., "Quickly Generating Billion-Record Synthetic
 * Databases" (SIGMOD 1994), as YCSB's ZipfianGenerator uses it: one O(itemCount) pass to
 * compute zeta at construction, then O(1) per draw. Immutable, so one instance serves every
 * client thread; each caller brings its own random source.
 */
public final class ZipfianGenerator {
    private final long itemCount;
    private final double theta;
    private final double zetaN;
    private final double alpha;
    private final double eta;
    private final double halfPowTheta;

    public ZipfianGenerator(long itemCount, double theta) {
        if (itemCount < 1) {
            throw new IllegalArgumentException("itemCount: at least 1, got " + itemCount);
        }
        if (!(theta > 0 && theta < 1)) {
            throw new IllegalArgumentException("theta: strictly between 0 and 1, got " + theta);
        }
        this.itemCount = itemCount;
        this.theta = theta;
        this.zetaN = zeta(itemCount, theta);
        this.alpha = 1.0 / (1.0 - theta);
        double zeta2 = zeta(2, theta);
        this.eta = (1 - Math.pow(2.0 / itemCount, 1 - theta)) / (1 - zeta2 / zetaN);
        this.halfPowTheta = 1 + Math.pow(0.5, theta);
    }

    /** The generalized harmonic number H(n, theta) = sum over i in 1..n of 1 / i^theta. */
    static double zeta(long n, double theta) {
        double sum = 0;
        for (long i = 1; i <= n; i++) {
            sum += 1 / Math.pow(i, theta);
        }
        return sum;
    }

    /** The probability this generator gives {@code rank}, for tests and reports. */
    public double probability(long rank) {
        return 1 / Math.pow(rank + 1, theta) / zetaN;
    }

    public long next(RandomGenerator random) {
        double u = random.nextDouble();
        double uz = u * zetaN;
        if (uz < 1) {
            return 0;
        }
        if (uz < halfPowTheta) {
            return Math.min(1, itemCount - 1);
        }
        long rank = (long) (itemCount * Math.pow(eta * u - eta + 1, alpha));
        return Math.min(Math.max(rank, 0), itemCount - 1);
    }
}
