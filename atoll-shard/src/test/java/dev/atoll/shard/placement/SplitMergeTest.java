package dev.atoll.shard.placement;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardChange.Merge;
import dev.atoll.shard.ShardChange.Split;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardStats;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.SplitPolicy;
import org.junit.jupiter.api.Test;

import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The rebalancer splits and merges shards from their data, and does not flap. */
class SplitMergeTest {
    /** Split at 1000 bytes or 1000 qps; merge under 400 bytes and 100 qps, 5 ticks after a range change. */
    private static final SplitPolicy POLICY = new SplitPolicy(1000, 1000, 400, 100, 5);

    private static SimCluster cluster(int nodes) {
        var c = new SimCluster(RebalancerConfig.defaults().withSplitPolicy(POLICY));
        for (int i = 1; i <= nodes; i++) {
            c.node("n" + i, "r1", "z" + i);
        }
        return c;
    }

    private static void put(SimCluster c, String keyspace, String key, long bytes, long qps) {
        c.data.computeIfAbsent(keyspace, k -> new TreeMap<>()).put(Key.utf8(key), new long[]{bytes, qps});
    }

    @Test
    void aGrowingRangeSplitsAtKeysFromItsDataUntilEveryShardIsUnderTheThreshold() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.range("users", 3));
        // Skewed: 80 keys of 50 bytes under "a", 20 of 10 bytes spread over the rest.
        for (int i = 0; i < 80; i++) {
            put(c, "users", String.format("a%03d", i), 50, 0);
        }
        for (int i = 0; i < 20; i++) {
            put(c, "users", (char) ('b' + i) + "x", 10, 0);
        }
        c.runUntilQuiet(80, (int) POLICY.mergeRangeAgeTicksMin() + 1);

        var stats = c.stats();
        for (ShardDescriptor s : c.map.shards("users")) {
            assertThat(stats.get(s.id()).sizeBytes()).as("%s", s).isLessThan(POLICY.splitSizeBytes());
            Key start = s.keyRange().start();
            assertThat(start.equals(Key.MIN) || c.data.get("users").containsKey(start))
                    .as("%s starts at a key from the data, not a computed midpoint", s).isTrue();
        }
        long underA = c.map.shards("users").stream().filter(s -> s.keyRange().end().compareTo(Key.utf8("b")) <= 0).count();
        assertThat(underA).as("the bytes are under a, so are most shards").isGreaterThanOrEqualTo(3);
        assertThat(c.history).filteredOn(op -> op instanceof Merge).as("halves of a split do not merge back").isEmpty();
    }

    @Test
    void aHotRangeSplitsByLoadEvenWhenSmall() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.range("users", 3));
        for (int i = 0; i < 40; i++) {
            put(c, "users", String.format("k%02d", i), 1, i < 10 ? 200 : 1);
        }
        c.runUntilQuiet(80, (int) POLICY.mergeRangeAgeTicksMin() + 1);
        var stats = c.stats();
        assertThat(c.map.shards("users")).hasSizeGreaterThan(1);
        assertThat(c.map.shards("users")).allMatch(s -> stats.get(s.id()).loadQps() < POLICY.splitLoadQps()
                || stats.get(s.id()).sample().keys().size() == 1);
    }

    @Test
    void oneHugeKeyIsNeverSplit() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.range("users", 3));
        put(c, "users", "blob", 50_000, 0);
        c.runUntilStable(10);
        assertThat(c.map.shards("users")).hasSize(1);
    }

    @Test
    void smallColdNeighboursMergeOnceSettledAndStayMerged() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.range("users", 3));
        for (int i = 0; i < 100; i++) {
            put(c, "users", String.format("u%03d", i), 40, 0);
        }
        c.runUntilQuiet(60, (int) POLICY.mergeRangeAgeTicksMin() + 1);
        int split = c.map.shards("users").size();
        assertThat(split).isGreaterThanOrEqualTo(4);

        // Most data is deleted: the shards shrink, and after the cooldown merge back.
        c.data.get("users").keySet().removeIf(k -> !k.equals(Key.utf8("u050")));
        c.history.clear();
        c.runUntilQuiet(120, (int) POLICY.mergeRangeAgeTicksMin() + 1);

        assertThat(c.map.shards("users")).hasSize(1);
        assertThat(c.map.shards("users").getFirst().keyRange()).isEqualTo(KeyRange.ALL);
        assertThat(c.history).filteredOn(op -> op instanceof Split).isEmpty();
        for (int i = 0; i < 20; i++) {
            assertThat(c.step().isEmpty()).as("a merged shard stays merged").isTrue();
        }
    }

    @Test
    void mergingShardsOnDifferentNodesFirstMovesTheRightOneOntoTheLeftOnesNodes() {
        // Six nodes, one shard split in four: the rebalancer spreads the four over the nodes.
        SimCluster c = cluster(6).keyspace(KeyspaceSpec.range("users", 3));
        for (String at : new String[] {"m", "g", "t"}) {
            ShardDescriptor s = c.map.lookup("users", Key.utf8(at)).orElseThrow();
            c.apply(new Split(s.id(), s.epoch(), new SplitPoint.AtKey(Key.utf8(at))));
        }
        boolean spread = false;
        for (int step = 0; step < 160 && c.map.shards("users").size() > 1; step++) {
            c.step();
            spread |= c.map.shards("users").stream().map(ShardDescriptor::voters).distinct().count() > 1;
        }
        assertThat(spread).as("the parts were spread over different nodes").isTrue();
        assertThat(c.map.shards("users")).hasSize(1);
        assertThat(c.history).filteredOn(op -> op instanceof Merge).hasSize(3);
        assertThat(c.history).filteredOn(op -> op instanceof ShardChange.AddLearner).isNotEmpty();
    }

    @Test
    void aKeyspaceIsNeverMergedBelowTheShardsItWasCreatedWith() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(4))
                .keyspace(KeyspaceSpec.hash("carts", 3, 3));
        ShardDescriptor first = c.map.shards("users").stream()
                .min((a, b) -> a.keyRange().start().compareTo(b.keyRange().start())).orElseThrow();
        c.apply(new Split(first.id(), first.epoch(), new SplitPoint.AtKey(Key.utf8("\u0001"))));
        assertThat(c.map.shards("users")).hasSize(5);
        c.runUntilQuiet(120, (int) POLICY.mergeRangeAgeTicksMin() + 1);
        assertThat(c.map.shards("users")).as("the split merged back, the initial four stay").hasSize(4);
        assertThat(c.map.shards("carts")).hasSize(3);
        assertThat(c.history).filteredOn(op -> op instanceof Merge).hasSize(1);
    }

    @Test
    void aHotHashShardSplitsAtASlot() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.hash("sessions", 3, 1));
        for (int i = 0; i < 200; i++) {
            put(c, "sessions", "session-" + i, 1, 20);
        }
        c.runUntilQuiet(80, (int) POLICY.mergeRangeAgeTicksMin() + 1);
        var stats = c.stats();
        assertThat(c.map.shards("sessions")).hasSizeGreaterThanOrEqualTo(4);
        assertThat(c.map.shards("sessions")).extracting(s -> stats.get(s.id()).loadQps())
                .allMatch(q -> q < POLICY.splitLoadQps());
        assertThat(c.history).filteredOn(op -> op instanceof Split).extracting(op -> ((Split) op).at())
                .allMatch(at -> at instanceof SplitPoint.AtSlot);
    }

    @Test
    void statisticsFromAnOlderRangeNeverSplitAShard() {
        SimCluster c = cluster(3).keyspace(KeyspaceSpec.range("users", 3));
        ShardDescriptor s = c.map.shards().iterator().next();
        var stale = new ShardStats(s.id(), s.epoch().nextRange(), 1_000_000, 0, 0, java.util.List.of(),
                new dev.atoll.shard.KeySample(java.util.List.of(
                        new dev.atoll.shard.KeySample.SampledKey(Key.utf8("a"), 500_000, 0),
                        new dev.atoll.shard.KeySample.SampledKey(Key.utf8("b"), 500_000, 0))));
        var stats = new TreeMap<>(c.stats());
        stats.put(s.id(), stale);
        Plan plan = c.rebalancer.plan(ClusterState.of(java.util.List.copyOf(c.nodes.values()), c.map, stats));
        assertThat(plan.operations()).noneMatch(op -> op instanceof Split);
    }
}
