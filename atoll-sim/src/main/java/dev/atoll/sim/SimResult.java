package dev.atoll.sim;

import java.util.Map;

/**
 * The outcome of one seed: the violation found (null when none), how many client operations
 * were checked, and a digest of the whole run (equal digests = identical runs); {@code counts}
 * are what a simulation counts besides (the sharded one: scans), added up by a campaign.
 */
public record SimResult(
        long seed,
        Violation violation,
        int operationCount,
        long eventCount,
        long digest,
        String summary,
        Map<String, Long> counts) {

    public SimResult {
        counts = Map.copyOf(counts);
    }

    public SimResult(long seed, Violation violation, int operationCount, long eventCount, long digest, String summary) {
        this(seed, violation, operationCount, eventCount, digest, summary, Map.of());
    }

    /** What went wrong, where and when. {@code kind} is stable: invariant, linearizability, liveness, crash. */
    public record Violation(String kind, String detail, long timeMicros) {
        @Override
        public String toString() {
            return kind + " at t=" + timeMicros + "us: " + detail;
        }
    }

    public boolean ok() {
        return violation == null;
    }
}
