package dev.atoll.shard.placement;

import dev.atoll.shard.SplitPolicy;

import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * Bounds and thresholds of the rebalancer.
 *
 * @param opsPerStepMax          operations one {@link Rebalancer#plan} proposes at most
 * @param learnersPerNodeMax     learners (snapshots being received) one node holds at once
 * @param replicaOverheadBytes   what a replica weighs beyond its data, so that empty shards are
 *                               spread too: balance is by bytes + this per replica, relative to
 *                               capacity
 * @param balanceToleranceRatio  nodes within this fraction of the mean load are balanced enough
 * @param splitPolicy            when shards split and merge
 */
public record RebalancerConfig(int opsPerStepMax, int learnersPerNodeMax, long replicaOverheadBytes,
                               double balanceToleranceRatio, SplitPolicy splitPolicy) {
    public static final int OPS_PER_STEP_MAX = 16;
    public static final int LEARNERS_PER_NODE_MAX = 4;
    public static final long REPLICA_OVERHEAD_BYTES = 16L << 20;
    public static final double BALANCE_TOLERANCE_RATIO = 0.05;

    public RebalancerConfig {
        Objects.requireNonNull(splitPolicy, "splitPolicy");
        checkArgument(opsPerStepMax >= 1 && opsPerStepMax <= 1024, "opsPerStepMax in [1, 1024]: %d", opsPerStepMax);
        checkArgument(learnersPerNodeMax >= 1, "learnersPerNodeMax is positive: %d", learnersPerNodeMax);
        checkArgument(replicaOverheadBytes >= 1, "replicaOverheadBytes is positive: %d", replicaOverheadBytes);
        checkArgument(balanceToleranceRatio >= 0 && balanceToleranceRatio < 1,
                "balanceToleranceRatio in [0, 1): %s", balanceToleranceRatio);
    }

    public static RebalancerConfig defaults() {
        return new RebalancerConfig(OPS_PER_STEP_MAX, LEARNERS_PER_NODE_MAX, REPLICA_OVERHEAD_BYTES,
                BALANCE_TOLERANCE_RATIO, SplitPolicy.defaults());
    }

    public RebalancerConfig withOpsPerStepMax(int max) {
        return new RebalancerConfig(max, learnersPerNodeMax, replicaOverheadBytes, balanceToleranceRatio, splitPolicy);
    }

    public RebalancerConfig withSplitPolicy(SplitPolicy policy) {
        return new RebalancerConfig(opsPerStepMax, learnersPerNodeMax, replicaOverheadBytes, balanceToleranceRatio, policy);
    }
}
