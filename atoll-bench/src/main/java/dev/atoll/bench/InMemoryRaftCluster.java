package dev.atoll.bench;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.consensus.raft.RaftNode;
import dev.atoll.core.NodeId;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Role;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Raft cores alone, wired to each other in memory: messages delivered at once, persistence free.
 * Measures what the protocol logic costs, with no disk or network in the way.
 */
public final class InMemoryRaftCluster {
    private final Map<NodeId, RaftNode> nodes = new LinkedHashMap<>();
    private final ArrayDeque<Envelope<RaftMessage>> inFlight = new ArrayDeque<>();
    private long committedCount;

    public InMemoryRaftCluster(int size, long seed) {
        var ids = new TreeSet<NodeId>();
        for (int i = 1; i <= size; i++) {
            ids.add(NodeId.of("n" + i));
        }
        var random = new SeededRandom(seed);
        RaftConfig config = RaftConfig.defaults().withFlowControl(256, 256, 4 << 20);
        for (NodeId id : ids) {
            nodes.put(id, new RaftNode(id, config, PersistentState.bootstrap(Membership.ofVoters(ids)), random.fork()));
        }
        for (int i = 0; i < 1_000 && leader() == null; i++) {
            nodes.values().forEach(RaftNode::tick);
            settle();
        }
        if (leader() == null) {
            throw new IllegalStateException("no leader elected");
        }
    }

    public RaftNode leader() {
        for (RaftNode n : nodes.values()) {
            if (n.status().role() == Role.LEADER) {
                return n;
            }
        }
        return null;
    }

    /** Proposes {@code count} commands at the leader and runs the cluster until it applied them all. */
    public void commit(int count, byte[] command) {
        RaftNode leader = leader();
        long target = committedCount + count;
        for (int i = 0; i < count; i++) {
            if (!(leader.propose(command) instanceof ProposeResult.Accepted)) {
                throw new IllegalStateException("proposal refused");
            }
        }
        while (committedCount < target) {
            if (!settle()) {
                nodes.values().forEach(RaftNode::tick);
            }
        }
        // keep the in-memory logs bounded, as a real node compacts behind its snapshots
        for (RaftNode n : nodes.values()) {
            long applied = n.status().appliedIndex();
            if (applied - n.log().snapshotIndex() > COMPACT_EVERY_ENTRIES) {
                n.compact(applied, new byte[0]);
            }
        }
    }

    private static final long COMPACT_EVERY_ENTRIES = 10_000;

    /** Runs every Ready and delivers every message until the cluster is quiet; false if nothing ran. */
    private boolean settle() {
        boolean progressed = false;
        boolean busy = true;
        while (busy) {
            busy = false;
            for (RaftNode n : nodes.values()) {
                if (n.hasReady()) {
                    Ready<RaftMessage> r = n.ready();
                    inFlight.addAll(r.messages());
                    if (n.status().role() == Role.LEADER) {
                        committedCount += r.committed().size();
                    }
                    n.advance(r);
                    busy = true;
                }
            }
            while (!inFlight.isEmpty()) {
                Envelope<RaftMessage> e = inFlight.poll();
                nodes.get(e.to()).step(e);
                busy = true;
            }
            progressed |= busy;
        }
        return progressed;
    }
}
