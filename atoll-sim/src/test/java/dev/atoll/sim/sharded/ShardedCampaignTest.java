package dev.atoll.sim.sharded;

import dev.atoll.sim.Campaign;
import dev.atoll.sim.FaultProfile;
import dev.atoll.sim.SimOptions;
import dev.atoll.sim.SimResult;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI campaign of the sharded simulator (longer ones run from {@code ./atoll sim sharded}):
 * every seed must keep every group's Raft invariants, converge after healing, leave each key in
 * exactly the shard the map names with its last acknowledged value, and produce a linearizable
 * history, while the placement driver splits, merges and moves shards, moves hash slots and edits
 * the directory (moving their keys' data between shards) under faults, and clients scan every
 * keyspace across its shards.
 */
class ShardedCampaignTest {
    private static int threads() {
        return Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    private static Campaign.Summary campaign(int nodes, FaultProfile.Set faults, long firstSeed, int seeds) {
        var options = SimOptions.of(nodes, faults);
        return Campaign.run(seed -> new ShardedSimulation(seed, options).run(), firstSeed, seeds, threads(), r -> { });
    }

    @Test
    void fiveNodesUnderEveryFault() {
        var summary = campaign(5, FaultProfile.Set.ALL, 1, 100);
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
        assertThat(summary.operationCount()).isGreaterThan(100 * 100L);
    }

    @Test
    void threeNodesUnderNetworkFaults() {
        var summary = campaign(3, FaultProfile.Set.NET, 30_000, 15);
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
    }

    @Test
    void withoutFaultsEveryKindOfOperationCompletes() {
        int splits = 0;
        int merges = 0;
        int moves = 0;
        int relocations = 0;
        int addShards = 0;
        var scans = new java.util.TreeMap<String, Long>();
        for (long seed = 1; seed <= 5; seed++) {
            var sim = new ShardedSimulation(seed, SimOptions.of(5, FaultProfile.Set.NONE));
            SimResult r = sim.run();
            assertThat(r.ok()).as("%s\n%s", r.violation(), r.summary()).isTrue();
            splits += sim.placement.splitsDone;
            merges += sim.placement.mergesDone;
            moves += sim.placement.movesDone;
            relocations += sim.placement.relocationsDone;
            addShards += sim.placement.addShards;
            r.counts().forEach((name, count) -> scans.merge(name, count, Long::sum));
        }
        assertThat(splits).isGreaterThan(5);
        assertThat(merges).isGreaterThan(2);
        assertThat(moves).isGreaterThan(5);
        assertThat(relocations).as("slot moves and directory edits carried out").isGreaterThan(10);
        assertThat(addShards).isGreaterThan(2);
        for (String keyspace : java.util.List.of(ShardedSimulation.RANGE_KEYSPACE, ShardedSimulation.HASH_KEYSPACE,
                ShardedSimulation.DIRECTORY_KEYSPACE)) {
            assertThat(scans.getOrDefault("scansAnswered." + keyspace, 0L)).as("scans of %s answered", keyspace)
                    .isGreaterThan(20);
        }
        assertThat(scans.get("scansCut")).as("scans cut by their limit").isGreaterThan(20);
        assertThat(scans.get("scanRows")).isGreaterThan(200);
    }

    private static String describe(Campaign.Summary s) {
        var sb = new StringBuilder(s.line());
        for (SimResult r : s.failures()) {
            sb.append('\n').append(r.seed()).append(": ").append(r.violation()).append("\n  ").append(r.summary());
        }
        return sb.toString();
    }
}
