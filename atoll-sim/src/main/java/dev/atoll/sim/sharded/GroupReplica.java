package dev.atoll.sim.sharded;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.consensus.raft.RaftNode;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Ready;
import dev.atoll.shard.replica.MemoryShardStore;
import dev.atoll.shard.replica.ShardReplica;
import dev.atoll.sim.SimDisk;

import java.util.TreeMap;

/**
 * One group's replica on one host: its Raft core, its disk, and its state machine, which is
 * the {@link MetaState} for the meta group and a {@link ShardReplica} over its own store for a
 * shard group (null while the replica is uninitialised, waiting for its first snapshot).
 */
final class GroupReplica {
    static final long META = 0;

    /** A client command proposed here, waiting for its entry at (index, term) to apply. */
    record Waiter(long term, ShardRequest request) {
    }

    final long group;
    final Host host;
    final SimDisk disk;
    final RaftNode raft;
    final MemoryShardStore store = new MemoryShardStore();
    final TreeMap<Long, Waiter> waiters = new TreeMap<>();
    ShardReplica replica;
    MetaState meta;
    Membership appliedMembership;
    long appliedIndex;
    long compactedIndex;
    Ready<RaftMessage> inflight;
    long inflightBatch;
    /** The last term this replica was seen leading (for the transcript). */
    long ledTerm;
    /** Set when the host crashed or the replica was destroyed or replaced: its pending events are void. */
    boolean stopped;

    GroupReplica(long group, Host host, SimDisk disk, RaftNode raft) {
        this.group = group;
        this.host = host;
        this.disk = disk;
        this.raft = raft;
    }

    boolean isMeta() {
        return group == META;
    }

    /** A shard replica that has its bounds (from a bootstrap, split or installed snapshot). */
    boolean initialised() {
        return isMeta() || replica != null;
    }
}
