package dev.atoll.sim.sharded;

import dev.atoll.sim.Campaign;
import dev.atoll.sim.FaultProfile;
import dev.atoll.sim.SimOptions;
import dev.atoll.sim.SimResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sharded simulator must find real bugs in the shard replica: with each deliberate bug on, a
 * campaign reports a violation within a bounded number of seeds. Runs are deterministic, so the
 * first catching seed is stable; each bound sits a little above it. First catching seeds today
 * (from seed 1; the clients' scans of every keyspace moved them): IGNORE_EPOCH at 1 without faults
 * and at 2 under every fault (a replica serves a request routed by a map from before a split or
 * move: two shards answer the same key to one scan, or a scan reads a value overwritten before it
 * began); MERGE_WITHOUT_FREEZE at 16 without faults: a write the source takes after the freeze
 * misses the merge, and a later read of the target is stale. The scan stitch's (ScanCheck catches them):
 * SCAN_SKIPS_BOUNDARY_KEY at 1 without faults and at 14 under every fault (a scan of the range
 * keyspace never asks for the first key of a shard, split off at it, and reads it as absent
 * although it was acknowledged-written before the scan); SCAN_DROPS_A_SHARD at 1 without faults and
 * under every fault (a scan of the directory keyspace leaves one shard's answer out and reads one of
 * its keys as absent).
 */
class ShardedMutationsAreCaughtTest {
    @ParameterizedTest(name = "{0} with --faults {1}: caught within {2} seeds")
    @CsvSource({
            "IGNORE_EPOCH,         none, 20",
            "IGNORE_EPOCH,         all,  20",
            "MERGE_WITHOUT_FREEZE, none, 40",
            "SCAN_SKIPS_BOUNDARY_KEY, none, 8",
            "SCAN_SKIPS_BOUNDARY_KEY, all,  20",
            "SCAN_DROPS_A_SHARD,      none, 8",
            "SCAN_DROPS_A_SHARD,      all,  8",
    })
    void campaignReportsAViolation(String mutation, String faults, int seedsMax) {
        var options = SimOptions.of(5, FaultProfile.Set.parse(faults)).withMutation(mutation);
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        SimResult found = Campaign.firstViolation(seed -> new ShardedSimulation(seed, options).run(), 1, seedsMax,
                threads);
        assertThat(found).as("a violation within %d seeds with %s", seedsMax, mutation).isNotNull();
        System.out.printf("mutation %s (--faults %s) caught at seed %d: %s%n", mutation, faults, found.seed(),
                found.violation());
    }
}
