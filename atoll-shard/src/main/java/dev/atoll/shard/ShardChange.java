package dev.atoll.shard;

import dev.atoll.core.NodeId;

import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * A change to the {@link ShardMap}, as the meta group's log carries it. Changes to one shard
 * name the epoch they were planned against and are refused ({@link ChangeResult.StaleEpoch}) if
 * the shard has changed since.
 */
public sealed interface ShardChange {

    /**
     * What the rebalancer proposes: one step of a replica move, a leader transfer, a split or a
     * merge. {@link #shard()} is the shard the operation runs on (for a merge, the one that stays).
     */
    sealed interface Operation extends ShardChange {
        ShardId shard();

        ShardEpoch epoch();
    }

    /** Creates a keyspace with its initial shards (see {@link ShardMap#initialSpans}), one voter list per shard. */
    record CreateKeyspace(KeyspaceSpec spec, List<List<NodeId>> voters) implements ShardChange {
        public CreateKeyspace {
            Objects.requireNonNull(spec, "spec");
            voters = voters.stream().map(List::copyOf).toList();
        }
    }

    /** Adds a non-voting replica on {@code node}; the driver catches it up by snapshot. */
    record AddLearner(ShardId shard, ShardEpoch epoch, NodeId node) implements Operation {
        public AddLearner {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(epoch, "epoch");
            Objects.requireNonNull(node, "node");
        }
    }

    /** Makes the caught-up learner on {@code node} a voter. */
    record PromoteLearner(ShardId shard, ShardEpoch epoch, NodeId node) implements Operation {
        public PromoteLearner {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(epoch, "epoch");
            Objects.requireNonNull(node, "node");
        }
    }

    /** Removes the replica on {@code node}. */
    record RemoveReplica(ShardId shard, ShardEpoch epoch, NodeId node) implements Operation {
        public RemoveReplica {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(epoch, "epoch");
            Objects.requireNonNull(node, "node");
        }
    }

    /** Moves leadership to the voter on {@code node}; the epoch does not change. */
    record TransferLeader(ShardId shard, ShardEpoch epoch, NodeId node) implements Operation {
        public TransferLeader {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(epoch, "epoch");
            Objects.requireNonNull(node, "node");
        }
    }

    /** Splits {@code shard} at {@code at}; the upper part becomes a new shard on the same replicas. */
    record Split(ShardId shard, ShardEpoch epoch, SplitPoint at) implements Operation {
        public Split {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(epoch, "epoch");
            Objects.requireNonNull(at, "at");
        }
    }

    /**
     * Merges {@code right} into {@code shard}; their replicas must be on the same nodes. For range
     * shards {@code right} is the shard just after {@code shard}.
     */
    record Merge(ShardId shard, ShardEpoch epoch, ShardId right, ShardEpoch rightEpoch) implements Operation {
        public Merge {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(epoch, "epoch");
            Objects.requireNonNull(right, "right");
            Objects.requireNonNull(rightEpoch, "rightEpoch");
            checkArgument(!shard.equals(right), "a shard does not merge with itself: %s", shard);
        }
    }

    /** The driver saw {@code leader} lead {@code shard}; only the leader hint changes. */
    record LeaderObserved(ShardId shard, NodeId leader) implements ShardChange {
        public LeaderObserved {
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(leader, "leader");
        }
    }

    /**
     * Adds an empty shard to a hash keyspace (no slots yet; see {@link MoveSlots}) or a directory
     * keyspace (no entries yet). Range and geo keyspaces grow by splitting.
     */
    record AddShard(String keyspace, List<NodeId> voters) implements ShardChange {
        public AddShard {
            Objects.requireNonNull(keyspace, "keyspace");
            voters = List.copyOf(voters);
        }
    }

    /** Moves hash slots between two shards of a hash keyspace. */
    record MoveSlots(ShardId from, ShardEpoch fromEpoch, ShardId to, ShardEpoch toEpoch, HashSlots slots)
            implements ShardChange {
        public MoveSlots {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(fromEpoch, "fromEpoch");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(toEpoch, "toEpoch");
            Objects.requireNonNull(slots, "slots");
        }
    }

    /** Routes {@code match}'s keys in a directory keyspace to {@code target}. */
    record PutDirectoryEntry(String keyspace, Directory.Match match, ShardId target) implements ShardChange {
        public PutDirectoryEntry {
            Objects.requireNonNull(keyspace, "keyspace");
            Objects.requireNonNull(match, "match");
            Objects.requireNonNull(target, "target");
        }
    }

    /** Drops a directory entry; its keys fall back to a shorter prefix or the default rule. */
    record RemoveDirectoryEntry(String keyspace, Directory.Match match) implements ShardChange {
        public RemoveDirectoryEntry {
            Objects.requireNonNull(keyspace, "keyspace");
            Objects.requireNonNull(match, "match");
        }
    }
}
