package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeySample;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardChange.Operation;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardStats;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A cluster for rebalancer tests: nodes, a shard map, and a model dataset (key -> bytes and
 * qps) from which each shard's statistics are computed. {@link #step} asks the rebalancer for a
 * plan and applies it as the meta group would (learners catch up at once), then elects a leader
 * wherever there is none; after every operation it checks that no shard went below quorum and
 * that a voter was removed only from a shard with more voters than its replication factor.
 */
final class SimCluster {
    final Rebalancer rebalancer;
    final TreeMap<NodeId, Node> nodes = new TreeMap<>();
    ShardMap map = ShardMap.empty();
    /** Per keyspace: key -> {bytes, qps}. */
    final Map<String, TreeMap<Key, long[]>> data = new HashMap<>();
    /** Explicit sizes for shards of keyspaces without data. */
    final Map<ShardId, Long> sizeBytes = new HashMap<>();
    final List<Operation> history = new ArrayList<>();
    private final Map<ShardId, long[]> rangeSeen = new HashMap<>();
    long tick;

    SimCluster(RebalancerConfig config) {
        this.rebalancer = new Rebalancer(config);
    }

    SimCluster node(String id, String region, String zone) {
        return node(id, region, zone, 1L << 40);
    }

    SimCluster node(String id, String region, String zone, long capacityBytes) {
        nodes.put(NodeId.of(id), new Node(NodeId.of(id), region, zone, capacityBytes, Node.State.UP));
        return this;
    }

    SimCluster setState(String id, Node.State state) {
        nodes.put(NodeId.of(id), nodes.get(NodeId.of(id)).withState(state));
        return this;
    }

    SimCluster keyspace(KeyspaceSpec spec) {
        var placed = rebalancer.placeKeyspace(spec, state());
        if (!(placed instanceof Rebalancer.NewKeyspace.Placed p)) {
            throw new AssertionError("not placed: " + placed);
        }
        apply(p.change());
        electLeaders();
        return this;
    }

    ClusterState state() {
        return ClusterState.of(List.copyOf(nodes.values()), map, stats());
    }

    TreeMap<ShardId, ShardStats> stats() {
        var stats = new TreeMap<ShardId, ShardStats>();
        var perShard = new HashMap<ShardId, List<KeySample.SampledKey>>();
        for (var ks : data.entrySet()) {
            for (var e : ks.getValue().entrySet()) {
                ShardId s = map.lookup(ks.getKey(), e.getKey()).orElseThrow().id();
                perShard.computeIfAbsent(s, x -> new ArrayList<>())
                        .add(new KeySample.SampledKey(e.getKey(), e.getValue()[0], e.getValue()[1]));
            }
        }
        for (ShardDescriptor s : map.shards()) {
            long[] seen = rangeSeen.computeIfAbsent(s.id(), x -> new long[]{s.epoch().rangeVersion(), tick});
            if (seen[0] != s.epoch().rangeVersion()) {
                seen[0] = s.epoch().rangeVersion();
                seen[1] = tick;
            }
            List<KeySample.SampledKey> keys = perShard.getOrDefault(s.id(), List.of());
            keys = new ArrayList<>(keys);
            keys.sort((a, b) -> a.key().compareTo(b.key()));
            long bytes = sizeBytes.getOrDefault(s.id(), 0L) + keys.stream().mapToLong(KeySample.SampledKey::sizeBytes).sum();
            long qps = keys.stream().mapToLong(KeySample.SampledKey::loadQps).sum();
            stats.put(s.id(), new ShardStats(s.id(), s.epoch(), bytes, qps, tick - seen[1], List.of(), new KeySample(keys)));
        }
        return stats;
    }

    Plan step() {
        tick++;
        ClusterState before = state();
        Plan plan = rebalancer.plan(before);
        assertThat(plan.operations().size()).isLessThanOrEqualTo(rebalancer.config().opsPerStepMax());
        assertThat(rebalancer.plan(before)).as("the same state gives the same plan").isEqualTo(plan);
        for (Operation op : plan.operations()) {
            checkNeverBelowReplicationFactor(op);
            apply(op);
            history.add(op);
        }
        electLeaders();
        return plan;
    }

    /** Steps until a plan is empty; fails if that takes more than {@code stepsMax}. Returns the steps taken. */
    int runUntilStable(int stepsMax) {
        return runUntilQuiet(stepsMax, 1);
    }

    /**
     * Steps until {@code quietSteps} plans in a row are empty (time passing, as for a merge
     * cooldown, can make work appear); fails after {@code stepsMax}. Returns the steps taken.
     */
    int runUntilQuiet(int stepsMax, int quietSteps) {
        int quiet = 0;
        for (int i = 1; i <= stepsMax; i++) {
            long versionBefore = map.version();
            quiet = step().isEmpty() && map.version() == versionBefore ? quiet + 1 : 0;
            if (quiet == quietSteps) {
                return i;
            }
        }
        return fail("no stable state after %d steps; last plan: %s", stepsMax, rebalancer.plan(state()));
    }

    private void checkNeverBelowReplicationFactor(Operation op) {
        if (op instanceof ShardChange.RemoveReplica r) {
            ShardDescriptor s = map.shard(r.shard()).orElseThrow();
            if (s.replicaOn(r.node()).orElseThrow().isVoter()) {
                int rf = map.keyspace(s.keyspace()).orElseThrow().replicationFactor();
                assertThat(s.voters().size()).as("remove a voter only above the replication factor: %s", s).isGreaterThan(rf);
            }
        }
    }

    void apply(ShardChange change) {
        var livesBefore = new HashMap<ShardId, Boolean>();
        map.shards().forEach(s -> livesBefore.put(s.id(), hasLiveQuorum(s)));
        ChangeResult r = map.apply(change);
        if (!(r instanceof ChangeResult.Applied a)) {
            throw new AssertionError(change + " was not applied: " + r);
        }
        map = a.map();
        for (ShardDescriptor s : a.changed()) {
            if (livesBefore.getOrDefault(s.id(), true)) {
                assertThat(hasLiveQuorum(s)).as("%s keeps a live quorum after %s", s, change).isTrue();
            }
        }
    }

    private boolean hasLiveQuorum(ShardDescriptor s) {
        long alive = s.voters().stream().filter(v -> nodes.containsKey(v) && nodes.get(v).isAlive()).count();
        return alive >= s.quorum();
    }

    /** Raft's part: a shard without a live leader but with a live quorum elects its first live voter. */
    void electLeaders() {
        for (ShardDescriptor s : List.copyOf(map.shards())) {
            NodeId leader = s.leaderHint();
            if ((leader != null && nodes.get(leader).isAlive()) || !hasLiveQuorum(s)) {
                continue;
            }
            s.voters().stream().filter(v -> nodes.get(v).isAlive()).findFirst()
                    .ifPresent(v -> apply(new ShardChange.LeaderObserved(s.id(), v)));
        }
    }

    /** Voter and learner replicas on each node (every node listed). */
    TreeMap<NodeId, Integer> replicasPerNode() {
        var counts = new TreeMap<NodeId, Integer>();
        nodes.keySet().forEach(n -> counts.put(n, 0));
        for (ShardDescriptor s : map.shards()) {
            for (Replica r : s.replicas()) {
                counts.merge(r.node(), 1, Integer::sum);
            }
        }
        return counts;
    }

    TreeMap<NodeId, Integer> leadersPerNode() {
        var counts = new TreeMap<NodeId, Integer>();
        nodes.keySet().forEach(n -> counts.put(n, 0));
        for (ShardDescriptor s : map.shards()) {
            if (s.leaderHint() != null) {
                counts.merge(s.leaderHint(), 1, Integer::sum);
            }
        }
        return counts;
    }

    TreeMap<NodeId, Long> bytesPerNode() {
        var bytes = new TreeMap<NodeId, Long>();
        nodes.keySet().forEach(n -> bytes.put(n, 0L));
        var stats = stats();
        for (ShardDescriptor s : map.shards()) {
            for (Replica r : s.replicas()) {
                bytes.merge(r.node(), stats.get(s.id()).sizeBytes(), Long::sum);
            }
        }
        return bytes;
    }

    String region(NodeId n) {
        return nodes.get(n).region();
    }

    String zone(NodeId n) {
        return nodes.get(n).zone();
    }
}
