package dev.atoll.bench.load;

import org.HdrHistogram.Histogram;

/**
 * The percentiles a report shows, in microseconds, read from an HdrHistogram of microsecond
 * values (3 significant digits, so each figure is within 0.1% of the recorded value).
 */
public record Latency(long count, long microsP50, long microsP90, long microsP99, long microsP999,
                      long microsMax, double microsMean) {

    public static final Latency NONE = new Latency(0, 0, 0, 0, 0, 0, 0);

    public static Latency of(Histogram histogram) {
        if (histogram.getTotalCount() == 0) {
            return NONE;
        }
        return new Latency(histogram.getTotalCount(),
                histogram.getValueAtPercentile(50),
                histogram.getValueAtPercentile(90),
                histogram.getValueAtPercentile(99),
                histogram.getValueAtPercentile(99.9),
                histogram.getMaxValue(),
                histogram.getMean());
    }

    /** Milliseconds with three decimals, the unit people read latencies in. */
    static String millis(long micros) {
        return String.format(java.util.Locale.ROOT, "%.3f", micros / 1000.0);
    }
}
