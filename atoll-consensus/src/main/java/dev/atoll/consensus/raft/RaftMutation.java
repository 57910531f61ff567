package dev.atoll.consensus.raft;

/**
 * Deliberate bugs a broken Raft would have, switched on only by the simulator (through
 * {@link RaftConfig#mutations()}) to prove that its checkers catch them. Production configs
 * never set any. Each is one small, marked branch in {@link RaftNode} or {@link RaftLog}.
 */
public enum RaftMutation {
    /**
     * The leader commits any index that a quorum of voters has stored, even when the entry
     * there is from an earlier term: the Figure 8 bug that Raft §5.4.2 forbids. A committed
     * entry can then be overwritten by a later leader.
     */
    COMMIT_PRIOR_TERM_BY_COUNT,

    /**
     * A node grants its vote without the "candidate's log is at least as up-to-date as mine"
     * check of §5.4.1, so a leader can be elected without committed entries and overwrite them.
     */
    VOTE_WITHOUT_LOG_CHECK,

    /**
     * The leader answers a ReadIndex request at once with its commit index, without a heartbeat
     * round confirming it is still leader (§6.4 step 3) and without first committing an entry
     * of its own term (§6.4 step 1): a deposed leader serves stale reads.
     */
    READ_INDEX_WITHOUT_QUORUM,

    /**
     * The leader lease lasts 2 * electionTimeoutTicks and ignores clock drift, longer than the
     * followers' stickiness window (§6.4.1), so a new leader can commit writes that an old
     * leader's lease read does not see.
     */
    LEASE_IGNORES_DRIFT,

    /**
     * The follower treats "I already have an entry at this index" as "I already have this
     * entry", without comparing terms (§5.3, AppendEntries receiver step 3): a conflicting
     * suffix is never truncated, yet the follower acknowledges the leader's entries, so the
     * leader counts a replica that holds a different entry.
     */
    SKIP_TRUNCATE_ON_CONFLICT,

    /**
     * The leader answers a follower's ReadIndexRequest at once with its commit index, without a
     * heartbeat round and without first committing an entry of its term (§6.4 steps 1 and 3): a
     * follower of a deposed leader serves stale reads.
     */
    FOLLOWER_READ_WITHOUT_QUORUM,

    /**
     * A quiesced follower ignores the driver's report that its leader is unreachable: when the
     * leader of an idle group dies, no replica runs an election timer, so the group stays
     * leaderless until some client happens to write to it.
     */
    QUIESCED_FOLLOWER_IGNORES_UNREACHABLE,

    /**
     * A quiescing leader keeps its lease. Its clock stops while quiesced, so after waking it
     * still counts the lease from a round sent long ago in real time, while its followers,
     * woken by the driver, may have elected a new leader that took writes: a stale lease read.
     */
    QUIESCED_LEADER_KEEPS_LEASE
}
