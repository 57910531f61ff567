package dev.atoll.bench.load;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ZipfianGeneratorTest {
    private static final int ITEMS = 1_000;
    private static final int DRAWS = 400_000;

    private static long[] histogram(ZipfianGenerator zipf, long seed) {
        var random = new SplittableRandom(seed);
        long[] counts = new long[ITEMS];
        for (int i = 0; i < DRAWS; i++) {
            counts[(int) zipf.next(random)]++;
        }
        return counts;
    }

    @Test
    void hottestRanksAreDrawnWithTheirZipfProbability() {
        var zipf = new ZipfianGenerator(ITEMS, 0.99);
        long[] counts = histogram(zipf, 7);
        // ranks 0 and 1 are exact in Gray's method; further ranks are approximated by a
        // continuous inverse, which YCSB accepts as within a few percent at the head
        for (int rank = 0; rank < 2; rank++) {
            assertThat(counts[rank] / (double) DRAWS).as("share of rank %d", rank)
                    .isCloseTo(zipf.probability(rank), within(0.01));
        }
        double topTen = 0;
        double expectedTopTen = 0;
        for (int rank = 0; rank < 10; rank++) {
            topTen += counts[rank] / (double) DRAWS;
            expectedTopTen += zipf.probability(rank);
        }
        assertThat(topTen).as("share of the ten hottest ranks").isCloseTo(expectedTopTen, within(0.05));
        assertThat(zipf.probability(0)).as("theta 0.99 over 1000 items puts about 13%% on rank 0")
                .isBetween(0.12, 0.14);
    }

    @Test
    void sharesFallWithRankAndEveryDrawIsInRange() {
        long[] counts = histogram(new ZipfianGenerator(ITEMS, 0.99), 11);
        assertThat(counts[0]).isGreaterThan(counts[1]);
        assertThat(counts[1]).isGreaterThan(counts[2]);
        assertThat(counts[2]).isGreaterThan(counts[10]);
        assertThat(counts[10]).isGreaterThan(counts[500]);
        long sum = 0;
        for (long c : counts) {
            sum += c;
        }
        assertThat(sum).as("no draw fell outside [0, items)").isEqualTo(DRAWS);
        long tail = 0;
        for (int rank = ITEMS / 2; rank < ITEMS; rank++) {
            tail += counts[rank];
        }
        assertThat(tail).as("the cold half is still drawn").isPositive();
    }

    @Test
    void lowerThetaIsFlatter() {
        long[] skewed = histogram(new ZipfianGenerator(ITEMS, 0.99), 3);
        long[] mild = histogram(new ZipfianGenerator(ITEMS, 0.5), 3);
        assertThat(mild[0]).isLessThan(skewed[0] / 3);
    }

    @Test
    void sameSeedSameSequence() {
        var zipf = new ZipfianGenerator(ITEMS, 0.99);
        var a = new SplittableRandom(42);
        var b = new SplittableRandom(42);
        for (int i = 0; i < 1_000; i++) {
            assertThat(zipf.next(a)).isEqualTo(zipf.next(b));
        }
    }

    @Test
    void oneItemIsAlwaysRankZeroAndBadParametersAreRefused() {
        var one = new ZipfianGenerator(1, 0.99);
        var random = new SplittableRandom(1);
        for (int i = 0; i < 100; i++) {
            assertThat(one.next(random)).isZero();
        }
        assertThatThrownBy(() -> new ZipfianGenerator(0, 0.99)).hasMessageContaining("itemCount");
        assertThatThrownBy(() -> new ZipfianGenerator(10, 1.0)).hasMessageContaining("theta");
    }
}
