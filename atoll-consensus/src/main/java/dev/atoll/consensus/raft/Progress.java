package dev.atoll.consensus.raft;

import dev.atoll.core.InvariantViolation;

import java.util.ArrayDeque;

import static dev.atoll.core.Check.check;

/**
 * What a leader knows about one follower's log and how it sends to it (etcd-io/raft's
 * flow control): PROBE sends one append at a time until it finds where the logs match;
 * REPLICATE pipelines appends optimistically, at most {@code inflightAppendsMax} in flight;
 * SNAPSHOT sends the snapshot, chunk by chunk, and nothing else.
 */
final class Progress {
    enum State { PROBE, REPLICATE, SNAPSHOT }

    private final int inflightAppendsMax;
    /** Last index of each append in flight in REPLICATE state, oldest first. */
    private final ArrayDeque<Long> inflightLastIndexes = new ArrayDeque<>();

    State state = State.PROBE;
    /** Highest index known to match the leader's log (§5.3 matchIndex). */
    long matchIndex;
    /** Next index to send (§5.3 nextIndex). */
    long nextIndex;
    /** PROBE: an append is in flight; wait for its answer or a heartbeat response. */
    boolean probeSent;
    /** Heard from since the last CheckQuorum round. */
    boolean recentActive;
    /** The driver reported the peer unreachable and nothing has come from it since: the group is not idle. */
    boolean reportedUnreachable;
    /** SNAPSHOT: index of the snapshot being sent and the offset the follower expects next. */
    long snapshotIndex;
    long snapshotOffset;

    Progress(long nextIndex, int inflightAppendsMax) {
        this.nextIndex = nextIndex;
        this.inflightAppendsMax = inflightAppendsMax;
    }

    boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflightLastIndexes.size() >= inflightAppendsMax;
            case SNAPSHOT -> true;
        };
    }

    int inflightCount() {
        return inflightLastIndexes.size();
    }

    void becomeProbe() {
        // After a snapshot the follower has at least the snapshot's entries.
        nextIndex = state == State.SNAPSHOT ? Math.max(matchIndex + 1, snapshotIndex + 1) : matchIndex + 1;
        state = State.PROBE;
        probeSent = false;
        inflightLastIndexes.clear();
    }

    void becomeReplicate() {
        state = State.REPLICATE;
        nextIndex = matchIndex + 1;
        probeSent = false;
        inflightLastIndexes.clear();
    }

    void becomeSnapshot(long index) {
        state = State.SNAPSHOT;
        snapshotIndex = index;
        snapshotOffset = 0;
        probeSent = false;
        inflightLastIndexes.clear();
    }

    /** The follower matches up to {@code index}; returns whether that is news. */
    boolean maybeUpdate(long index) {
        boolean updated = index > matchIndex;
        if (updated) {
            matchIndex = index;
            probeSent = false;
        }
        nextIndex = Math.max(nextIndex, index + 1);
        return updated;
    }

    /**
     * The follower rejected the append after {@code rejected}; {@code matchHint} is the highest
     * index where the logs may match. Returns false for a stale rejection.
     */
    boolean maybeDecrTo(long rejected, long matchHint) {
        if (state == State.REPLICATE) {
            // Pipelined appends: a rejection at or below the match is a late answer.
            if (rejected <= matchIndex) {
                return false;
            }
            nextIndex = matchIndex + 1;
            return true;
        }
        if (nextIndex - 1 != rejected) {
            return false;
        }
        nextIndex = Math.max(Math.min(rejected, matchHint + 1), matchIndex + 1);
        probeSent = false;
        return true;
    }

    /** An append carrying entries up to {@code lastIndex} (or none) went out. */
    void sentAppend(long lastIndex, boolean hadEntries) {
        switch (state) {
            case REPLICATE -> {
                if (hadEntries) {
                    check(inflightLastIndexes.size() < inflightAppendsMax,
                            "inflight appends stay within inflightAppendsMax %d", inflightAppendsMax);
                    check(lastIndex >= nextIndex, "optimistic nextIndex only moves forward: %d < %d", lastIndex, nextIndex);
                    nextIndex = lastIndex + 1;
                    inflightLastIndexes.addLast(lastIndex);
                }
            }
            case PROBE -> probeSent = true;
            case SNAPSHOT -> throw new InvariantViolation("no appends in SNAPSHOT state");
        }
    }

    /** Appends up to {@code index} were answered. */
    void freeInflightsTo(long index) {
        while (!inflightLastIndexes.isEmpty() && inflightLastIndexes.peekFirst() <= index) {
            inflightLastIndexes.removeFirst();
        }
    }

    /** A heartbeat answer with the window full: the oldest append was probably lost. */
    void freeFirstInflight() {
        inflightLastIndexes.pollFirst();
    }

    @Override
    public String toString() {
        return state + " match=" + matchIndex + " next=" + nextIndex + " inflight=" + inflightLastIndexes.size();
    }
}
