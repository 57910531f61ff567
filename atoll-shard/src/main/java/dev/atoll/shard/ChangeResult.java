package dev.atoll.shard;

import java.util.List;

/** What became of a {@link ShardChange}: applied, or refused with the reason as a value. */
public sealed interface ChangeResult {
    /**
     * The new map; the descriptors the change created or changed (new state), the shards it
     * removed, and the data that must now move between shards.
     */
    record Applied(ShardMap map, List<ShardDescriptor> changed, List<ShardId> removed, List<DataMove> moves)
            implements ChangeResult {
        public Applied {
            changed = List.copyOf(changed);
            removed = List.copyOf(removed);
            moves = List.copyOf(moves);
        }
    }

    /** The change was planned against an older epoch; {@code current} is the shard as it is now. */
    record StaleEpoch(ShardDescriptor current) implements ChangeResult {
    }

    record UnknownShard(ShardId shard) implements ChangeResult {
    }

    record UnknownKeyspace(String keyspace) implements ChangeResult {
    }

    /** The change makes no sense against the current map (split key outside the shard, ...). */
    record Rejected(String reason) implements ChangeResult {
    }
}
