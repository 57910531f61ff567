package dev.atoll.sim;

import dev.atoll.core.NodeId;
import dev.atoll.core.RandomSource;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ReplicatedLog;

import java.util.List;

/**
 * How the simulator makes replicas of one replicated-log protocol. The simulator never sees a
 * protocol's own types: Raft, Multi-Paxos and PBFT plug in here and share every fault and
 * checker.
 */
public interface ProtocolFactory<M> {
    /** Short name used on the command line ("raft"). */
    String name();

    /** Names of the protocol's own mutations (deliberate bugs) the simulator may enable. */
    List<String> mutationNames();

    /** A replica starting (or restarting) from what its disk holds. */
    ReplicatedLog<M> start(NodeId id, PersistentState persisted, RandomSource random, RunSettings settings);

    /**
     * Per-run protocol settings the simulator draws from the seed. {@code forwarding}: replicas
     * that are not the leader relay writes and linearizable reads to it (ProposeResult.Forwarded)
     * instead of refusing them. {@code quiesceIdleTicks}: ticks an idle group waits before it
     * quiesces (no heartbeats, no timers), 0 for never; protocols without quiescence ignore it.
     */
    record RunSettings(
            int electionTimeoutTicks,
            boolean leaseReads,
            int clockDriftTicksMax,
            int appendEntriesMax,
            int inflightAppendsMax,
            boolean forwarding,
            String mutation,
            int quiesceIdleTicks) {

        /** Settings of a run without quiescence. */
        public RunSettings(int electionTimeoutTicks, boolean leaseReads, int clockDriftTicksMax, int appendEntriesMax,
                           int inflightAppendsMax, boolean forwarding, String mutation) {
            this(electionTimeoutTicks, leaseReads, clockDriftTicksMax, appendEntriesMax, inflightAppendsMax, forwarding,
                    mutation, 0);
        }
    }
}
