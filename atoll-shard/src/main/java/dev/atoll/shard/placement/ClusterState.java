package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardStats;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

import static dev.atoll.core.Check.checkArgument;

/**
 * What the rebalancer decides from: the nodes, the shard map, and each shard's latest
 * statistics (missing for shards that have not reported; those count as empty and idle).
 */
public record ClusterState(NavigableMap<NodeId, Node> nodes, ShardMap map, NavigableMap<ShardId, ShardStats> stats) {
    public static final int NODES_MAX = 4096;

    public ClusterState {
        Objects.requireNonNull(map, "map");
        nodes = Collections.unmodifiableNavigableMap(new TreeMap<>(nodes));
        stats = Collections.unmodifiableNavigableMap(new TreeMap<>(stats));
        checkArgument(nodes.size() <= NODES_MAX, "at most %d nodes", NODES_MAX);
        nodes.forEach((id, n) -> checkArgument(id.equals(n.id()), "node %s filed under %s", n.id(), id));
    }

    public static ClusterState of(List<Node> nodes, ShardMap map, Map<ShardId, ShardStats> stats) {
        var byId = new TreeMap<NodeId, Node>();
        for (Node n : nodes) {
            checkArgument(byId.put(n.id(), n) == null, "node %s listed twice", n.id());
        }
        return new ClusterState(byId, map, new TreeMap<>(stats));
    }

    public Optional<Node> node(NodeId id) {
        return Optional.ofNullable(nodes.get(id));
    }

    /** The shard's statistics if they exist (current or not). */
    public Optional<ShardStats> statsOf(ShardDescriptor shard) {
        return Optional.ofNullable(stats.get(shard.id()));
    }

    public long sizeBytesOf(ShardDescriptor shard) {
        return statsOf(shard).map(ShardStats::sizeBytes).orElse(0L);
    }
}
