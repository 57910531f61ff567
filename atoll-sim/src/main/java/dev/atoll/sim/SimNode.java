package dev.atoll.sim;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.ReplicatedLog;
import dev.atoll.sim.kv.KvStateMachine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One simulated machine: a protocol replica, its state machine, its disk and its process state. */
final class SimNode<M> {
    /**
     * A client write waiting to be applied at {@code index}; it succeeded iff the entry there has
     * {@code term}. {@code leader}: where it was forwarded, or null if proposed here.
     */
    record WriteWaiter(long term, int clientId, int opId, NodeId leader) {
    }

    /** A client write this node forwarded to its leader, waiting for the outcome that places it. */
    record ForwardWaiter(int clientId, int opId, NodeId leader) {
    }

    /** A client read waiting for its barrier, then for the state machine to catch up. */
    record ReadWaiter(int clientId, int opId, String key, NodeId leader) {
    }

    final NodeId id;
    final SimDisk disk;
    final long tickMicros;
    ReplicatedLog<M> replica;
    KvStateMachine stateMachine = new KvStateMachine();
    Membership appliedMembership;
    boolean crashed;
    boolean paused;
    int incarnation;
    int missedTicks;
    final List<Runnable> pausedInbox = new ArrayList<>();
    /**
     * The driver's failure detector: since when (simulated micros) each peer's link has looked
     * down, as the runtime's peer transport would see it (the peer's process is gone, or the
     * link from this node to it is cut).
     */
    final Map<NodeId, Long> unreachableSince = new HashMap<>();

    Ready<M> inflight;
    long inflightBatch;
    long compactedIndex;
    long ledTerm;
    /** Whether the replica was quiesced when last observed (for the transcript). */
    boolean quiesced;

    final TreeMap<Long, WriteWaiter> writeWaiters = new TreeMap<>();
    final Map<Long, ReadWaiter> readWaiters = new HashMap<>();
    final Map<Long, ForwardWaiter> forwardWaiters = new HashMap<>();
    final List<ReadState> readsReady = new ArrayList<>();

    SimNode(NodeId id, SimDisk disk, long tickMicros) {
        this.id = id;
        this.disk = disk;
        this.tickMicros = tickMicros;
    }

    boolean up() {
        return !crashed;
    }

    void forgetVolatileState() {
        inflight = null;
        writeWaiters.clear();
        readWaiters.clear();
        forwardWaiters.clear();
        readsReady.clear();
        pausedInbox.clear();
        unreachableSince.clear();
        quiesced = false;
        missedTicks = 0;
        paused = false;
    }
}
