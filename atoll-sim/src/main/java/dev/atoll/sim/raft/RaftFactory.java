package dev.atoll.sim.raft;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.consensus.raft.RaftMutation;
import dev.atoll.consensus.raft.RaftNode;
import dev.atoll.consensus.raft.ReadMode;
import dev.atoll.core.NodeId;
import dev.atoll.core.RandomSource;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ReplicatedLog;
import dev.atoll.sim.ProtocolFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Raft replicas for the simulator; the only place a Raft mutation can be switched on. */
public final class RaftFactory implements ProtocolFactory<RaftMessage> {
    private static final int SNAPSHOT_CHUNK_BYTES = 48;

    @Override
    public String name() {
        return "raft";
    }

    @Override
    public List<String> mutationNames() {
        var names = new ArrayList<String>();
        for (RaftMutation m : RaftMutation.values()) {
            names.add(m.name());
        }
        return names;
    }

    @Override
    public ReplicatedLog<RaftMessage> start(NodeId id, PersistentState persisted, RandomSource random,
                                            RunSettings settings) {
        Set<RaftMutation> mutations = settings.mutation() == null
                ? Set.of() : Set.of(RaftMutation.valueOf(settings.mutation()));
        RaftConfig config = RaftConfig.defaults()
                .withElectionTimeoutTicks(settings.electionTimeoutTicks())
                .withReadMode(settings.leaseReads() ? ReadMode.LEASE : ReadMode.READ_INDEX,
                        settings.clockDriftTicksMax())
                // small chunks and batches, so that a few keys already exercise chunked
                // snapshots and flow control
                .withSnapshotChunkBytesMax(SNAPSHOT_CHUNK_BYTES)
                .withFlowControl(settings.inflightAppendsMax(), settings.appendEntriesMax(), 4096)
                .withForwarding(settings.forwarding(), settings.forwarding())
                .withQuiesceIdleTicks(settings.quiesceIdleTicks())
                .withMutations(mutations);
        return new RaftNode(id, config, persisted, random);
    }
}
