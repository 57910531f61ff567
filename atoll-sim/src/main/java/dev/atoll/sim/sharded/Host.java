package dev.atoll.sim.sharded;

import dev.atoll.core.NodeId;
import dev.atoll.sim.SimDisk;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * One simulated machine hosting many Raft groups: the meta group's replica (if it is a meta
 * voter) and one replica per shard placed on it. What survives a crash: the disks of its groups
 * and the tombstones of the groups it destroyed (a destroyed replica never comes back, so a
 * stale message cannot resurrect it with an empty log).
 */
final class Host {
    final NodeId id;
    final long tickMicros;
    /** Durable: one disk per group this host holds. */
    final TreeMap<Long, SimDisk> disks = new TreeMap<>();
    /** Durable: groups this host destroyed. */
    final Set<Long> tombstones = new HashSet<>();
    /** Volatile: the running replicas, rebuilt from the disks on restart. */
    final TreeMap<Long, GroupReplica> groups = new TreeMap<>();
    final List<Runnable> pausedInbox = new ArrayList<>();
    boolean crashed;
    boolean paused;
    int incarnation;
    int missedTicks;

    Host(NodeId id, long tickMicros) {
        this.id = id;
        this.tickMicros = tickMicros;
    }

    boolean up() {
        return !crashed;
    }

    /** Up and not paused: able to act now. */
    boolean running() {
        return !crashed && !paused;
    }

    GroupReplica group(long group) {
        return crashed ? null : groups.get(group);
    }

    void forgetVolatileState() {
        groups.values().forEach(g -> g.stopped = true);
        groups.clear();
        pausedInbox.clear();
        missedTicks = 0;
        paused = false;
    }
}
