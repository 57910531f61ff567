package dev.atoll.sim.check;

import dev.atoll.sim.check.RegisterWorkload.Shape;

import java.util.Locale;

/**
 * A micro-measurement, not a test and not a benchmark gate: checks generated linearizable
 * histories (and the same histories with one stale read) and prints operations checked per
 * second. Run from the test classpath:
 * {@code java -cp atoll-sim/target/test-classes:atoll-sim/target/classes:atoll-core/target/classes
 * dev.atoll.sim.check.LinearizabilityThroughput}
 */
public final class LinearizabilityThroughput {
    private static final int WARMUP_ROUNDS = 3;
    private static final int MEASURED_ROUNDS = 5;

    private LinearizabilityThroughput() {
    }

    public static void main(String[] args) {
        measure("10 clients, 1 key, 5000 ops", Shape.of(10, 5_000));
        measure("20 clients, 1 key, 5000 ops", Shape.of(20, 5_000));
        measure("20 clients, 1 key, 5000 ops, 5% info, 2% fail, 1% pending",
                Shape.of(20, 5_000).withFaults(0.02, 0.05, 0.01));
        measure("20 clients, 10 keys, 20000 ops, faults", Shape.of(20, 20_000).withKeys(10).withFaults(0.02, 0.05, 0.01));
    }

    private static void measure(String name, Shape shape) {
        for (boolean stale : new boolean[] {false, true}) {
            long ops = 0;
            long nanos = 0;
            String verdicts = "";
            for (int round = 0; round < WARMUP_ROUNDS + MEASURED_ROUNDS; round++) {
                var workload = RegisterWorkload.generate(round, shape);
                History history = stale ? workload.withStaleRead(new dev.atoll.core.SeededRandom(round)) : workload.history();
                long start = System.nanoTime();
                var result = Linearizability.check(history);
                long elapsed = System.nanoTime() - start;
                if (round >= WARMUP_ROUNDS) {
                    ops += history.size();
                    nanos += elapsed;
                    verdicts += result.verdict().name().charAt(0);
                }
            }
            System.out.printf(Locale.ROOT, "%-60s %-6s %10.0f ops/s  (%d ops in %.1f ms; verdicts %s)%n",
                    name, stale ? "stale" : "clean", ops / (nanos / 1e9), ops, nanos / 1e6, verdicts);
        }
    }
}
