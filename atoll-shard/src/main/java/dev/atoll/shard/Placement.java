package dev.atoll.shard;

import java.util.List;
import java.util.TreeSet;

import static dev.atoll.core.Check.checkArgument;

/**
 * Where a keyspace's replicas may live. {@code regions}: the regions allowed (empty: any).
 * {@code replicaPerRegion}: every listed region holds at least one replica of every shard.
 * Replicas are always spread over as many regions, then zones, as the allowed nodes offer.
 * Geo keyspaces place each shard in its own region and leave this empty.
 */
public record Placement(List<String> regions, boolean replicaPerRegion) {
    public static final Placement ANYWHERE = new Placement(List.of(), false);

    public Placement {
        var sorted = new TreeSet<>(regions);
        checkArgument(sorted.size() == regions.size(), "distinct regions: %s", regions);
        checkArgument(!replicaPerRegion || !sorted.isEmpty(), "replicaPerRegion needs the regions listed");
        regions = List.copyOf(sorted);
    }

    public static Placement inRegions(List<String> regions) {
        return new Placement(regions, false);
    }

    public static Placement replicaPerRegion(List<String> regions) {
        return new Placement(regions, true);
    }

    public boolean allows(String region) {
        return regions.isEmpty() || regions.contains(region);
    }
}
