package dev.atoll.shard;

import java.util.List;

/**
 * Maps every key of a keyspace to exactly one of its shards. Built by the {@link ShardMap} from
 * the keyspace's descriptors, which it checks tile the keyspace (no gap, no overlap), so
 * {@link #shardFor} is total. Immutable.
 */
public sealed interface Partitioner permits RangePartitioner, HashPartitioner, DirectoryPartitioner, GeoPartitioner {
    /** The shard holding {@code key}. */
    ShardId shardFor(Key key);

    /**
     * The partitioner for a keyspace's shards; throws {@link dev.atoll.core.InvariantViolation} if
     * they do not tile it. {@code directory} is required for directory keyspaces, else null.
     */
    static Partitioner of(KeyspaceSpec spec, List<ShardDescriptor> shards, Directory directory) {
        return switch (spec.sharding()) {
            case Sharding.Range r -> RangePartitioner.of(shards);
            case Sharding.Hash h -> HashPartitioner.of(h.slotCount(), shards);
            case Sharding.Directory d -> DirectoryPartitioner.of(directory, shards);
            case Sharding.Geo g -> GeoPartitioner.of(new GeoRegions(g), shards);
        };
    }
}
