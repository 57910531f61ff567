package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;
import dev.atoll.shard.KeyspaceSpec;

import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The placement constraints of one shard: which nodes may hold its replicas (UP, in an allowed
 * region, in the shard's own region for geo shards) and how good a set of replica nodes is.
 */
final class PlacementRules {
    /**
     * How well a set of replica nodes meets the constraints; lower is better, compared field by
     * field: replicas on nodes that may not hold them (down, draining, wrong region), listed
     * regions without a replica (when one per region is required), then replicas sharing a
     * region, then sharing a zone (CockroachDB's diversity, region before zone).
     */
    record Score(int misplaced, int missingRegions, int sharedRegions, int sharedZones) implements Comparable<Score> {
        @Override
        public int compareTo(Score o) {
            int c = Integer.compare(misplaced, o.misplaced);
            if (c == 0) {
                c = Integer.compare(missingRegions, o.missingRegions);
            }
            if (c == 0) {
                c = Integer.compare(sharedRegions, o.sharedRegions);
            }
            return c != 0 ? c : Integer.compare(sharedZones, o.sharedZones);
        }

        boolean betterThan(Score o) {
            return compareTo(o) < 0;
        }
    }

    private final KeyspaceSpec spec;
    /** The geo shard's region, or null. */
    private final String requiredRegion;
    private final Map<NodeId, Node> nodes;

    PlacementRules(KeyspaceSpec spec, String requiredRegion, Map<NodeId, Node> nodes) {
        this.spec = spec;
        this.requiredRegion = requiredRegion;
        this.nodes = nodes;
    }

    /** May hold a new replica of the shard, and keep one. */
    boolean good(NodeId id) {
        Node n = nodes.get(id);
        return n != null && n.state() == Node.State.UP && allowsRegion(n.region());
    }

    /** Running: counts towards the shard's quorum. */
    boolean alive(NodeId id) {
        Node n = nodes.get(id);
        return n != null && n.isAlive();
    }

    boolean allowsRegion(String region) {
        return requiredRegion != null ? requiredRegion.equals(region) : spec.placement().allows(region);
    }

    Score score(Collection<NodeId> replicaNodes) {
        int misplaced = 0;
        int good = 0;
        Set<String> regions = new HashSet<>();
        Set<String> zones = new HashSet<>();
        for (NodeId id : replicaNodes) {
            if (!good(id)) {
                misplaced++;
                continue;
            }
            Node n = nodes.get(id);
            good++;
            regions.add(n.region());
            zones.add(n.region() + "/" + n.zone());
        }
        int missingRegions = 0;
        if (spec.placement().replicaPerRegion()) {
            for (String r : spec.placement().regions()) {
                if (!regions.contains(r)) {
                    missingRegions++;
                }
            }
        }
        return new Score(misplaced, missingRegions, good - regions.size(), good - zones.size());
    }
}
