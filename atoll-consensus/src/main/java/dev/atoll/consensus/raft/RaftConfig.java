package dev.atoll.consensus.raft;

import java.util.EnumSet;
import java.util.Set;

import static dev.atoll.core.Check.checkArgument;

/**
 * Tuning and bounds of one Raft replica. Every queue and batch the core keeps is bounded by
 * one of these; all replicas of a group should use the same values.
 *
 * @param electionTimeoutTicks     minimum ticks without a leader before campaigning; the actual
 *                                 timeout is drawn uniformly from [this, 2 * this) (§5.2)
 * @param heartbeatIntervalTicks   ticks between a leader's heartbeat rounds
 * @param inflightAppendsMax       AppendEntries in flight to one follower in REPLICATE state
 * @param appendEntriesMax         entries in one AppendEntries
 * @param appendBytesMax           entry bytes in one AppendEntries (at least one entry is sent);
 *                                 also the largest command {@code propose} accepts
 * @param snapshotChunkBytesMax    bytes of snapshot data in one InstallSnapshot chunk
 * @param readMode                 how linearizable reads are confirmed
 * @param leaseClockDriftTicksMax  ticks subtracted from the lease for clock drift (LEASE mode)
 * @param checkQuorum              leader steps down without a quorum for an election timeout;
 *                                 followers that heard from a leader within the election
 *                                 timeout ignore vote requests (thesis §6.2, §4.2.3)
 * @param preVote                  ask whether an election could be won before bumping the term (§9.6)
 * @param readsPendingMax          reads a leader holds awaiting confirmation
 * @param uncommittedEntriesMax    entries a leader holds past its commit index before it drops proposals
 * @param proposalForwarding       a follower that knows its leader relays a proposed command to it
 *                                 ({@code ProposeResult.Forwarded}) instead of answering NotLeader
 * @param followerReads            a follower that knows its leader asks it for a read index
 *                                 (ReadIndexRequest) and serves the read locally once applied,
 *                                 instead of answering NotLeader (thesis §6.4, "reads from followers")
 * @param quiesceIdleTicks         ticks a leader's group must stay idle (nothing in flight, every
 *                                 member holding the whole log, committed) before the leader
 *                                 quiesces it: it tells its followers and stops heartbeating, and
 *                                 no replica of the group runs a timer until an input wakes it
 *                                 (CockroachDB's quiescence); 0 never quiesces
 * @param mutations                deliberate bugs for the simulator; empty in production
 */
public record RaftConfig(
        int electionTimeoutTicks,
        int heartbeatIntervalTicks,
        int inflightAppendsMax,
        int appendEntriesMax,
        int appendBytesMax,
        int snapshotChunkBytesMax,
        ReadMode readMode,
        int leaseClockDriftTicksMax,
        boolean checkQuorum,
        boolean preVote,
        int readsPendingMax,
        int uncommittedEntriesMax,
        boolean proposalForwarding,
        boolean followerReads,
        int quiesceIdleTicks,
        Set<RaftMutation> mutations) {

    public static final int ELECTION_TIMEOUT_TICKS = 10;
    public static final int HEARTBEAT_INTERVAL_TICKS = 1;
    public static final int INFLIGHT_APPENDS_MAX = 64;
    public static final int APPEND_ENTRIES_MAX = 64;
    public static final int APPEND_BYTES_MAX = 1 << 20;
    public static final int SNAPSHOT_CHUNK_BYTES_MAX = 64 << 10;
    public static final int LEASE_CLOCK_DRIFT_TICKS_MAX = 2;
    public static final int READS_PENDING_MAX = 4096;
    public static final int UNCOMMITTED_ENTRIES_MAX = 16384;
    /** A suggested {@link #quiesceIdleTicks}: one minimum election timeout; off in {@link #defaults()}. */
    public static final int QUIESCE_IDLE_TICKS = ELECTION_TIMEOUT_TICKS;

    public RaftConfig {
        checkArgument(electionTimeoutTicks >= 2, "electionTimeoutTicks must be >= 2: %d", electionTimeoutTicks);
        checkArgument(heartbeatIntervalTicks >= 1 && heartbeatIntervalTicks < electionTimeoutTicks,
                "heartbeatIntervalTicks must be in [1, electionTimeoutTicks): %d", heartbeatIntervalTicks);
        checkArgument(inflightAppendsMax >= 1, "inflightAppendsMax must be >= 1: %d", inflightAppendsMax);
        checkArgument(appendEntriesMax >= 1, "appendEntriesMax must be >= 1: %d", appendEntriesMax);
        checkArgument(appendBytesMax >= 64, "appendBytesMax must be >= 64: %d", appendBytesMax);
        checkArgument(snapshotChunkBytesMax >= 1, "snapshotChunkBytesMax must be >= 1: %d", snapshotChunkBytesMax);
        checkArgument(readMode != null, "readMode is required");
        checkArgument(leaseClockDriftTicksMax >= 0 && leaseClockDriftTicksMax < electionTimeoutTicks,
                "leaseClockDriftTicksMax must be in [0, electionTimeoutTicks): %d", leaseClockDriftTicksMax);
        // §6.4.1: a lease is only as good as the followers' promise not to elect anyone else.
        checkArgument(readMode != ReadMode.LEASE || checkQuorum, "LEASE reads require checkQuorum");
        checkArgument(readsPendingMax >= 1, "readsPendingMax must be >= 1: %d", readsPendingMax);
        checkArgument(uncommittedEntriesMax >= 1, "uncommittedEntriesMax must be >= 1: %d", uncommittedEntriesMax);
        checkArgument(quiesceIdleTicks >= 0, "quiesceIdleTicks must be >= 0: %d", quiesceIdleTicks);
        mutations = mutations == null || mutations.isEmpty()
                ? Set.of() : Set.copyOf(EnumSet.copyOf(mutations));
    }

    /** The configuration without quiescence (the record as it was before quiescence existed). */
    public RaftConfig(int electionTimeoutTicks, int heartbeatIntervalTicks, int inflightAppendsMax,
                      int appendEntriesMax, int appendBytesMax, int snapshotChunkBytesMax, ReadMode readMode,
                      int leaseClockDriftTicksMax, boolean checkQuorum, boolean preVote, int readsPendingMax,
                      int uncommittedEntriesMax, boolean proposalForwarding, boolean followerReads,
                      Set<RaftMutation> mutations) {
        this(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax, appendBytesMax,
                snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote, readsPendingMax,
                uncommittedEntriesMax, proposalForwarding, followerReads, 0, mutations);
    }

    public static RaftConfig defaults() {
        return new RaftConfig(ELECTION_TIMEOUT_TICKS, HEARTBEAT_INTERVAL_TICKS, INFLIGHT_APPENDS_MAX,
                APPEND_ENTRIES_MAX, APPEND_BYTES_MAX, SNAPSHOT_CHUNK_BYTES_MAX, ReadMode.READ_INDEX,
                LEASE_CLOCK_DRIFT_TICKS_MAX, true, true, READS_PENDING_MAX, UNCOMMITTED_ENTRIES_MAX, true, true, 0, Set.of());
    }

    public boolean has(RaftMutation mutation) {
        return mutations.contains(mutation);
    }

    public RaftConfig withElectionTimeoutTicks(int ticks) {
        return new RaftConfig(ticks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax, appendBytesMax,
                snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote, readsPendingMax,
                uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withHeartbeatIntervalTicks(int ticks) {
        return new RaftConfig(electionTimeoutTicks, ticks, inflightAppendsMax, appendEntriesMax, appendBytesMax,
                snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote, readsPendingMax,
                uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withFlowControl(int inflightAppendsMax, int appendEntriesMax, int appendBytesMax) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withSnapshotChunkBytesMax(int bytes) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, bytes, readMode, leaseClockDriftTicksMax, checkQuorum, preVote, readsPendingMax,
                uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withReadMode(ReadMode mode, int leaseClockDriftTicksMax) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, mode, leaseClockDriftTicksMax, checkQuorum, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withCheckQuorum(boolean enabled) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, enabled, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withPreVote(boolean enabled) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, enabled,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withLimits(int readsPendingMax, int uncommittedEntriesMax) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    public RaftConfig withMutations(Set<RaftMutation> enabled) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, enabled);
    }

    /** Switches follower proposal forwarding and follower ReadIndex reads on or off. */
    public RaftConfig withForwarding(boolean proposalForwarding, boolean followerReads) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, quiesceIdleTicks, mutations);
    }

    /** Quiesces an idle group after {@code ticks} idle ticks (see {@link #quiesceIdleTicks}); 0 switches it off. */
    public RaftConfig withQuiesceIdleTicks(int ticks) {
        return new RaftConfig(electionTimeoutTicks, heartbeatIntervalTicks, inflightAppendsMax, appendEntriesMax,
                appendBytesMax, snapshotChunkBytesMax, readMode, leaseClockDriftTicksMax, checkQuorum, preVote,
                readsPendingMax, uncommittedEntriesMax, proposalForwarding, followerReads, ticks, mutations);
    }

    public boolean quiesces() {
        return quiesceIdleTicks > 0;
    }
}
