package dev.atoll.consensus.raft;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The role a Raft replica plays, with the state only that role has (as KRaft's
 * FollowerState / CandidateState / LeaderState). A replica moves between them through the named
 * transitions of {@link RaftNode}; leaving a role drops its state (a deposed leader's pending
 * reads, a candidate's votes, a follower's half-received snapshot).
 */
sealed interface RaftRole {

    /** Follows the leader of its term, if it knows one. */
    final class Follower implements RaftRole {
        /** The snapshot being received chunk by chunk, or null. */
        SnapshotReceiver incomingSnapshot;
    }

    /** Asking whether it could win an election in the next term, without moving to it (§9.6). */
    final class PreCandidate implements RaftRole {
        final VoteTally votes = new VoteTally();
    }

    /** Campaigning in its current term (§5.2). */
    final class Candidate implements RaftRole {
        final VoteTally votes = new VoteTally();
    }

    /** Leader of its term: replicates, commits, confirms reads. */
    final class Leader implements RaftRole {
        /** Every member but the leader itself, sorted for deterministic iteration. */
        final TreeMap<NodeId, Progress> progress = new TreeMap<>();
        final ReadOnly readOnly = new ReadOnly();
        int heartbeatElapsedTicks;
        /** Consecutive ticks the group has been idle, toward {@code quiesceIdleTicks}. */
        int idleTicks;
        /** Target of a leadership transfer in progress, or null (thesis §3.10). */
        NodeId transferTarget;
        int transferElapsedTicks;
        /**
         * Whether this leader sent TimeoutNow in its term: the target's election ignores the
         * voters' stickiness, so the lease can no longer be trusted (§6.4.1).
         */
        boolean leaseForfeited;
        /** Whether an entry of this term has been committed (§5.4.2, §6.4 step 1). */
        boolean committedInTerm;
        /** Forwarded proposals taken in this term (kept by the node beyond this role: see RaftNode). */
        final ForwardedProposals forwarded;

        Leader(ForwardedProposals forwarded) {
            this.forwarded = forwarded;
        }
    }

    /** Votes received in one election, from voters only. */
    final class VoteTally {
        private final Map<NodeId, Boolean> votes = new HashMap<>();

        void record(NodeId voter, boolean granted) {
            votes.putIfAbsent(voter, granted);
        }

        enum Result { WON, LOST, PENDING }

        Result result(Set<NodeId> voters, int quorum) {
            int granted = 0;
            int rejected = 0;
            for (NodeId v : voters) {
                Boolean g = votes.get(v);
                if (g == null) {
                    continue;
                }
                if (g) {
                    granted++;
                } else {
                    rejected++;
                }
            }
            if (granted >= quorum) {
                return Result.WON;
            }
            return voters.size() - rejected < quorum ? Result.LOST : Result.PENDING;
        }
    }

    /** Assembles a snapshot from chunks that arrive in order by offset. */
    final class SnapshotReceiver {
        final long index;
        final long term;
        final Membership membership;
        final byte[] data;
        int nextOffset;

        SnapshotReceiver(long index, long term, Membership membership, int bytes) {
            this.index = index;
            this.term = term;
            this.membership = membership;
            this.data = new byte[bytes];
        }

        boolean isFor(long index, long term, long bytes) {
            return this.index == index && this.term == term && data.length == bytes;
        }

        void accept(byte[] chunk) {
            System.arraycopy(chunk, 0, data, nextOffset, chunk.length);
            nextOffset += chunk.length;
        }

        boolean complete() {
            return nextOffset == data.length;
        }
    }
}
