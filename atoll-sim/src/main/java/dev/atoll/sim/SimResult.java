package dev.atoll.sim;

/**
 * The outcome of one seed: the violation found (null when none), how many client operations
 * were checked, and a digest of the whole run (equal digests = identical runs).
 */
public record SimResult(
        long seed,
        Violation violation,
        int operationCount,
        long eventCount,
        long digest,
        String summary) {

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
