package dev.atoll.consensus.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * A follower's reads waiting for its leader to confirm a read index (thesis §6.4, reads from
 * followers), sent in batches as etcd's server batches its linearizable reads: one
 * ReadIndexRequest stands for every read registered before it was sent, and at most one is in
 * flight; reads that arrive meanwhile wait for the next. The leader confirms the index after the
 * request reached it, so after every read of the batch began, and that one index serves them all.
 * Request ids are this replica's own (1, 2, 3, ...): an answer to any but the request in flight
 * (a duplicate, or one given up on) is ignored.
 */
final class ForwardedReads {
    /** The driver's read ids not sent yet, in arrival order. */
    private final List<Long> waiting = new ArrayList<>();
    /** The read ids of the request in flight, or empty. */
    private List<Long> inFlight = List.of();
    private long inFlightRequestId;
    private long inFlightSentTick;
    private long lastRequestId;

    /** Reads held here, waiting or in flight. */
    int size() {
        return waiting.size() + inFlight.size();
    }

    void add(long readId) {
        waiting.add(readId);
    }

    /** Reads wait and no request is in flight: the next Ready sends one. */
    boolean readyToSend() {
        return !waiting.isEmpty() && inFlight.isEmpty();
    }

    /** Puts the waiting reads in flight as one request sent at {@code nowTicks}; returns its id. */
    long send(long nowTicks) {
        inFlight = List.copyOf(waiting);
        waiting.clear();
        inFlightRequestId = ++lastRequestId;
        inFlightSentTick = nowTicks;
        return inFlightRequestId;
    }

    /** The reads the answer to {@code requestId} serves: those in flight when it is theirs, else none. */
    List<Long> answered(long requestId) {
        if (inFlight.isEmpty() || requestId != inFlightRequestId) {
            return List.of();
        }
        List<Long> out = inFlight;
        inFlight = List.of();
        return out;
    }

    /**
     * A request unanswered for {@code retryTicks} is taken as lost: its reads are sent again (a
     * read index confirmed later serves them as well as the lost one would have).
     */
    void retryIfLost(long nowTicks, long retryTicks) {
        if (!inFlight.isEmpty() && nowTicks - inFlightSentTick >= retryTicks) {
            requeue();
        }
    }

    /** The reads in flight go back to the front of the waiting ones, to be sent again. */
    void requeue() {
        if (inFlight.isEmpty()) {
            return;
        }
        waiting.addAll(0, inFlight);
        inFlight = List.of();
    }

    /** Every read held, in flight first; nothing is held afterwards. */
    List<Long> takeAll() {
        List<Long> out = new ArrayList<>(size());
        out.addAll(inFlight);
        out.addAll(waiting);
        inFlight = List.of();
        waiting.clear();
        return out;
    }
}
