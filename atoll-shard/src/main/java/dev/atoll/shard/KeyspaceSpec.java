package dev.atoll.shard;

import java.util.Objects;
import java.util.regex.Pattern;

import static dev.atoll.core.Check.checkArgument;

/**
 * A keyspace as a user configures it: how keys map to shards, how many voters each shard has,
 * how many shards it starts with and where their replicas may live.
 */
public record KeyspaceSpec(String name, Sharding sharding, int replicationFactor, int initialShardCount,
                           Placement placement) {
    public static final int REPLICATION_FACTOR_MAX = 7;
    public static final int INITIAL_SHARDS_MAX = 256;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    public KeyspaceSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sharding, "sharding");
        Objects.requireNonNull(placement, "placement");
        checkArgument(NAME.matcher(name).matches(), "a keyspace name is 1-64 of [a-z0-9_-]: %s", name);
        checkArgument(replicationFactor >= 1 && replicationFactor <= REPLICATION_FACTOR_MAX,
                "replicationFactor in [1, %d]: %d", REPLICATION_FACTOR_MAX, replicationFactor);
        checkArgument(initialShardCount >= 1 && initialShardCount <= INITIAL_SHARDS_MAX,
                "initialShardCount in [1, %d]: %d", INITIAL_SHARDS_MAX, initialShardCount);
        checkArgument(!placement.replicaPerRegion() || replicationFactor >= placement.regions().size(),
                "one replica per region needs replicationFactor >= %d regions: %d",
                placement.regions().size(), replicationFactor);
        if (sharding instanceof Sharding.Hash h) {
            checkArgument(initialShardCount <= h.slotCount(), "no more shards (%d) than slots (%d)",
                    initialShardCount, h.slotCount());
        }
        if (sharding instanceof Sharding.Geo) {
            checkArgument(placement.regions().isEmpty() && !placement.replicaPerRegion(),
                    "a geo keyspace places each shard in its own region; leave placement empty");
            checkArgument(initialShardCount == 1, "a geo keyspace starts with one shard per region: %d",
                    initialShardCount);
        }
    }

    public static KeyspaceSpec range(String name, int replicationFactor) {
        return new KeyspaceSpec(name, new Sharding.Range(), replicationFactor, 1, Placement.ANYWHERE);
    }

    public static KeyspaceSpec hash(String name, int replicationFactor, int initialShardCount) {
        return new KeyspaceSpec(name, new Sharding.Hash(Sharding.Hash.SLOT_COUNT_DEFAULT), replicationFactor,
                initialShardCount, Placement.ANYWHERE);
    }

    public KeyspaceSpec withPlacement(Placement newPlacement) {
        return new KeyspaceSpec(name, sharding, replicationFactor, initialShardCount, newPlacement);
    }

    public KeyspaceSpec withInitialShardCount(int count) {
        return new KeyspaceSpec(name, sharding, replicationFactor, count, placement);
    }
}
