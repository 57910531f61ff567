package dev.atoll.consensus.raft;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.ProposeResult;

import java.util.List;

/**
 * What Raft replicas say to each other (Raft paper Figure 2, plus PreVote, heartbeats with a
 * ReadIndex context, chunked snapshots and leadership transfer from the thesis). Sender and
 * addressee travel in the {@link dev.atoll.core.protocol.Envelope}. Every message carries the
 * sender's term; a receiver treats any of them as possibly late, duplicated or reordered.
 */
public sealed interface RaftMessage {
    long term();

    /**
     * Leader to follower: store {@code entries} after ({@code prevIndex}, {@code prevTerm}); the
     * leader has committed up to {@code commitIndex} (§5.3). Empty {@code entries} is a probe.
     */
    record AppendEntries(long term, long prevIndex, long prevTerm, List<Entry> entries, long commitIndex)
            implements RaftMessage {
        public AppendEntries {
            entries = List.copyOf(entries);
        }
    }

    /**
     * Follower to leader. Accepted: the follower's log matches the leader's up to {@code index}.
     * Rejected: the append at prevIndex {@code index} did not match; the follower's log has
     * {@code conflictTerm} at {@code conflictIndex}, the last index at or below both its last
     * index and the rejected prevIndex whose term is at most the rejected prevTerm (the fast
     * backtracking hint of §5.3, in etcd's form).
     */
    record AppendResponse(long term, long index, boolean reject, long conflictIndex, long conflictTerm)
            implements RaftMessage {
    }

    /**
     * Candidate to voter (§5.2). With {@code preVote} the term is the one the sender would
     * campaign in and no one changes term (§9.6). {@code leaderTransfer} marks a campaign started
     * by TimeoutNow, which voters honour even while they still hear from a leader (§3.10).
     */
    record RequestVote(long term, long lastIndex, long lastTerm, boolean preVote, boolean leaderTransfer)
            implements RaftMessage {
    }

    /** Voter to candidate. A granted PreVote carries the term asked about. */
    record VoteResponse(long term, boolean granted, boolean preVote) implements RaftMessage {
    }

    /**
     * Leader to follower, every heartbeat interval. {@code commitIndex} is at most the follower's
     * known match, so it never points past what the follower has. {@code readContext} numbers the
     * heartbeat round for ReadIndex (§6.4).
     */
    record Heartbeat(long term, long commitIndex, long readContext) implements RaftMessage {
    }

    /** Follower to leader: the heartbeat round {@code readContext} reached it in {@code term}. */
    record HeartbeatResponse(long term, long readContext) implements RaftMessage {
    }

    /**
     * Leader to every member when its group is idle (CockroachDB's quiescence): each of them has
     * acknowledged the leader's whole log, which is committed up to {@code commitIndex}, its last
     * index; the leader stops heartbeating. A follower that has then committed exactly
     * {@code commitIndex} stops its election timer until some input wakes it; one that has not
     * answers with a HeartbeatResponse, which wakes the leader.
     */
    record Quiesce(long term, long commitIndex) implements RaftMessage {
    }

    /**
     * Leader to follower: bytes [{@code offset}, offset + chunk.length) of the snapshot at
     * ({@code snapshotIndex}, {@code snapshotTerm}) with {@code membership}, {@code snapshotBytes}
     * long in total; {@code done} on the last chunk (§7, thesis §5.3).
     */
    record InstallSnapshot(long term, long snapshotIndex, long snapshotTerm, Membership membership,
                           long snapshotBytes, long offset, byte[] chunk, boolean done) implements RaftMessage {
        public InstallSnapshot {
            chunk = chunk == null ? new byte[0] : chunk;
        }
    }

    /**
     * Follower to leader: for the snapshot at {@code snapshotIndex}, the follower expects the chunk
     * at {@code nextOffset} next; {@code installed} once it holds the whole snapshot (or already
     * had everything up to it committed).
     */
    record SnapshotResponse(long term, long snapshotIndex, long nextOffset, boolean installed)
            implements RaftMessage {
    }

    /** Leader to the target of a leadership transfer: campaign now (thesis §3.10). */
    record TimeoutNow(long term) implements RaftMessage {
    }

    /**
     * Follower to the leader it knows: append {@code data} as a command on behalf of the
     * follower's proposal {@code proposalId}. {@code incarnation} is a random stamp the follower
     * drew when it started; answers carry it back, so a restarted follower never takes an answer
     * meant for its previous life. A leader appends each (sender, incarnation, proposalId) at most
     * once, so a duplicated message does not append the command twice.
     */
    record Propose(long term, long incarnation, long proposalId, byte[] data) implements RaftMessage {
        public Propose {
            data = data == null ? new byte[0] : data;
        }
    }

    /**
     * Answer to a {@link Propose}: {@link ProposeResult.Accepted} with the (index, term) the leader
     * appended the command at, or {@link ProposeResult.NotLeader} / {@link ProposeResult.Dropped}
     * when it did not append it and never will.
     */
    record ProposeOutcome(long term, long incarnation, long proposalId, ProposeResult result) implements RaftMessage {
        public ProposeOutcome {
            if (result == null || result instanceof ProposeResult.Forwarded) {
                throw new IllegalArgumentException("an outcome is Accepted, NotLeader or Dropped: " + result);
            }
        }
    }

    /**
     * Follower to the leader it knows: confirm leadership as for a read of your own and tell me
     * the read index for my read {@code readId} (thesis §6.4, "reads from followers").
     */
    record ReadIndexRequest(long term, long incarnation, long readId) implements RaftMessage {
    }

    /**
     * Answer to a {@link ReadIndexRequest}: {@link ProposeResult.Accepted} with the confirmed read
     * index (and the leader's term), or a refusal ({@link ProposeResult.NotLeader},
     * {@link ProposeResult.Dropped}).
     */
    record ReadIndexResponse(long term, long incarnation, long readId, ProposeResult result) implements RaftMessage {
        public ReadIndexResponse {
            if (result == null || result instanceof ProposeResult.Forwarded) {
                throw new IllegalArgumentException("a read answer is Accepted, NotLeader or Dropped: " + result);
            }
        }
    }
}
