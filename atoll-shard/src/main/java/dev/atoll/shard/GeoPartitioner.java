package dev.atoll.shard;

import java.util.List;

import static dev.atoll.core.Check.check;

/**
 * Range partitioning whose boundaries include every region boundary: each shard's keys belong
 * to one region (a key's leading component, see {@link Sharding.Geo}), and placement keeps the
 * shard's replicas in that region.
 */
public final class GeoPartitioner implements Partitioner {
    private final GeoRegions regions;
    private final RangePartitioner ranges;

    private GeoPartitioner(GeoRegions regions, RangePartitioner ranges) {
        this.regions = regions;
        this.ranges = ranges;
    }

    public static GeoPartitioner of(GeoRegions regions, List<ShardDescriptor> shards) {
        for (ShardDescriptor s : shards) {
            check(regions.regionOf(s.keyRange()).isPresent(), "a geo shard holds one region's keys: %s", s);
        }
        return new GeoPartitioner(regions, RangePartitioner.of(shards));
    }

    @Override
    public ShardId shardFor(Key key) {
        return ranges.shardFor(key);
    }

    public String regionOf(Key key) {
        return regions.regionOf(key);
    }

    /** The region whose nodes alone may hold the shard's replicas. */
    public String regionOf(ShardDescriptor shard) {
        return regions.regionOf(shard.keyRange()).orElseThrow();
    }

    public GeoRegions regions() {
        return regions;
    }

    public RangePartitioner ranges() {
        return ranges;
    }
}
