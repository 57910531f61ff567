package dev.atoll.consensus.raft;

/** How a Raft leader confirms it is still leader before serving a linearizable read (thesis §6.4). */
public enum ReadMode {
    /** A heartbeat round acknowledged by a quorum after the read arrived (§6.4). */
    READ_INDEX,
    /**
     * A lease from the last quorum-acknowledged heartbeat round (§6.4.1); falls back to
     * READ_INDEX when the lease has expired. Safe only with CheckQuorum stickiness and clocks
     * whose drift over an election timeout stays under {@link RaftConfig#leaseClockDriftTicksMax()}.
     */
    LEASE
}
