package dev.atoll.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Runs many seeds of one protocol and collects what failed. Seeds are independent, so they run
 * on several threads; each seed's run is still single-threaded and deterministic.
 */
public final class Campaign {
    private Campaign() {
    }

    /** What a campaign found: {@code failures} in seed order; {@code counts} summed over every seed. */
    public record Summary(int seedCount, List<SimResult> failures, long operationCount, long eventCount,
                          double seconds, SortedMap<String, Long> counts) {
        public Summary {
            counts = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(counts));
        }

        public int violationCount() {
            return failures.size();
        }

        /** The one-line summary every campaign ends with; a simulation's own counts follow, sorted by name. */
        public String line() {
            var line = new StringBuilder(String.format("seeds=%d violations=%d ops=%d seconds=%.1f", seedCount,
                    failures.size(), operationCount, seconds));
            counts.forEach((name, count) -> line.append(' ').append(name).append('=').append(count));
            return line.toString();
        }
    }

    /** Runs one seed to its end: the simulation of one protocol, or of a sharded cluster. */
    @FunctionalInterface
    public interface SeedRunner {
        SimResult run(long seed);
    }

    public static Summary run(ProtocolFactory<?> factory, SimOptions options, long firstSeed, int seedCount,
                              int threads, Consumer<SimResult> onFailure) {
        return run(seed -> runOne(factory, options, seed), firstSeed, seedCount, threads, onFailure);
    }

    public static Summary run(SeedRunner runner, long firstSeed, int seedCount, int threads,
                              Consumer<SimResult> onFailure) {
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "sim");
            t.setDaemon(true);
            return t;
        });
        try {
            var futures = new ArrayList<Future<SimResult>>(seedCount);
            for (int i = 0; i < seedCount; i++) {
                long seed = firstSeed + i;
                futures.add(pool.submit(() -> runner.run(seed)));
            }
            var failures = new ArrayList<SimResult>();
            long ops = 0;
            long events = 0;
            var counts = new TreeMap<String, Long>();
            for (Future<SimResult> f : futures) {
                SimResult r = f.get();
                ops += r.operationCount();
                events += r.eventCount();
                r.counts().forEach((name, count) -> counts.merge(name, count, Long::sum));
                if (!r.ok()) {
                    failures.add(r);
                    onFailure.accept(r);
                }
            }
            return new Summary(seedCount, failures, ops, events, (System.nanoTime() - started) / 1e9, counts);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("campaign interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a seed failed outside the simulation", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Runs seeds in order until one finds a violation; returns the lowest such seed's result,
     * or null if none of {@code seedCountMax} seeds did. Used to prove a deliberate bug is caught.
     */
    public static SimResult firstViolation(ProtocolFactory<?> factory, SimOptions options, long firstSeed,
                                           int seedCountMax, int threads) {
        return firstViolation(seed -> runOne(factory, options, seed), firstSeed, seedCountMax, threads);
    }

    public static SimResult firstViolation(SeedRunner runner, long firstSeed, int seedCountMax, int threads) {
        int batch = Math.max(1, threads) * 8;
        for (int done = 0; done < seedCountMax; done += batch) {
            int count = Math.min(batch, seedCountMax - done);
            var summary = run(runner, firstSeed + done, count, threads, r -> { });
            if (!summary.failures().isEmpty()) {
                return summary.failures().get(0);
            }
        }
        return null;
    }

    public static <M> SimResult runOne(ProtocolFactory<M> factory, SimOptions options, long seed) {
        return new Simulation<>(seed, options, factory).run();
    }
}
