package dev.atoll.consensus.raft;

import dev.atoll.core.NodeId;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A leader's ReadIndex bookkeeping (thesis §6.4). Heartbeat rounds are numbered; a read
 * registered while round r was the last sent waits for round r + 1, and is released once a
 * quorum has answered a round >= r + 1: every read registered before a round shares it. Also
 * remembers when each recent round was sent, for the leader lease (§6.4.1). A read is the
 * leader's own or a follower's ({@link ReadRequest#requester()}); both wait the same way.
 */
final class ReadOnly {
    /**
     * A read to confirm: the leader's own ({@code requester} null) or one a follower asked for in
     * a ReadIndexRequest, answered to that follower's {@code incarnation}.
     */
    record ReadRequest(NodeId requester, long incarnation, long readId) {
        static ReadRequest own(long readId) {
            return new ReadRequest(null, 0, readId);
        }

        boolean isOwn() {
            return requester == null;
        }
    }

    /** A read whose index is known, released once a quorum confirmed a round >= {@code round}. */
    record PendingRead(ReadRequest request, long readIndex, long round) {
    }

    /** A confirmed read: serve it once {@code readIndex} is applied. */
    record ConfirmedRead(ReadRequest request, long readIndex) {
    }

    /** Rounds remembered for the lease; older rounds only make the lease more conservative. */
    private static final int ROUND_TICKS_MAX = 1024;

    private final ArrayDeque<PendingRead> pending = new ArrayDeque<>();
    /** Reads that arrived before the leader committed an entry of its term (§6.4 step 1). */
    private final ArrayDeque<ReadRequest> awaitingTermCommit = new ArrayDeque<>();
    private final Map<NodeId, Long> ackedRound = new HashMap<>();
    /** (round, tick sent) of rounds not yet acknowledged by a quorum, oldest first. */
    private final ArrayDeque<long[]> roundSentTicks = new ArrayDeque<>();
    private long roundSent;
    private long quorumAckedRound;
    private long leaseStartTick = Long.MIN_VALUE;

    int size() {
        return pending.size() + awaitingTermCommit.size();
    }

    long roundSent() {
        return roundSent;
    }

    /**
     * Reads are waiting for a round that has not been sent yet, and every round sent has been
     * acknowledged by a quorum: one round in flight at a time, as etcd's server keeps one read
     * index request in flight, so that under load every read registered while a round is out
     * shares the next one (rounds sent back to back would carry a few reads each). A round lost
     * on the way holds reads only until a heartbeat's round is acknowledged.
     */
    boolean roundNeeded() {
        return !pending.isEmpty() && pending.peekLast().round() > roundSent && quorumAckedRound >= roundSent;
    }

    void add(ReadRequest request, long readIndex) {
        pending.addLast(new PendingRead(request, readIndex, roundSent + 1));
    }

    void awaitTermCommit(ReadRequest request) {
        awaitingTermCommit.addLast(request);
    }

    List<ReadRequest> takeAwaitingTermCommit() {
        List<ReadRequest> out = new ArrayList<>(awaitingTermCommit);
        awaitingTermCommit.clear();
        return out;
    }

    /** Every read still waiting, in arrival order; the leader is stepping down and refuses them. */
    List<ReadRequest> takeAll() {
        List<ReadRequest> out = new ArrayList<>(size());
        for (PendingRead r : pending) {
            out.add(r.request());
        }
        out.addAll(awaitingTermCommit);
        pending.clear();
        awaitingTermCommit.clear();
        return out;
    }

    /** A heartbeat round goes out at {@code nowTicks}; returns its number. */
    long nextRound(long nowTicks) {
        roundSent++;
        if (roundSentTicks.size() >= ROUND_TICKS_MAX) {
            roundSentTicks.pollFirst();
        }
        roundSentTicks.addLast(new long[] {roundSent, nowTicks});
        return roundSent;
    }

    void ack(NodeId from, long round) {
        if (round <= roundSent) {
            ackedRound.merge(from, round, Math::max);
        }
    }

    /**
     * Releases the reads whose round a quorum of {@code voters} acknowledged ({@code self}, the
     * leader, has every round it sent) and moves the lease start to the send time of that round.
     */
    List<ConfirmedRead> release(Set<NodeId> voters, NodeId self, int quorum) {
        List<Long> rounds = new ArrayList<>(voters.size());
        for (NodeId v : voters) {
            rounds.add(v.equals(self) ? roundSent : ackedRound.getOrDefault(v, 0L));
        }
        if (rounds.size() < quorum || quorum <= 0) {
            return List.of();
        }
        rounds.sort((a, b) -> Long.compare(b, a));
        long acked = rounds.get(quorum - 1);
        if (acked > quorumAckedRound) {
            quorumAckedRound = acked;
            while (!roundSentTicks.isEmpty() && roundSentTicks.peekFirst()[0] <= acked) {
                leaseStartTick = Math.max(leaseStartTick, roundSentTicks.pollFirst()[1]);
            }
        }
        List<ConfirmedRead> released = new ArrayList<>();
        while (!pending.isEmpty() && pending.peekFirst().round() <= quorumAckedRound) {
            PendingRead r = pending.pollFirst();
            released.add(new ConfirmedRead(r.request(), r.readIndex()));
        }
        return released;
    }

    /**
     * Forgets the lease and the send times of the rounds sent so far, so that no acknowledgement
     * of them starts one: the leader is quiescing and its clock stops, while its followers' do
     * not stop for good (a follower's stickiness is counted from the round it last acknowledged).
     */
    void voidLease() {
        leaseStartTick = Long.MIN_VALUE;
        roundSentTicks.clear();
    }

    /** Tick at which the most recent quorum-acknowledged round was sent. */
    long leaseStartTick() {
        return leaseStartTick;
    }
}
