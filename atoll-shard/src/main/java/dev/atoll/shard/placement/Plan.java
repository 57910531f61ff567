package dev.atoll.shard.placement;

import dev.atoll.shard.ShardChange.Operation;
import dev.atoll.shard.ShardId;

import java.util.List;

/**
 * One step of rebalancing: at most {@link RebalancerConfig#opsPerStepMax} operations, at most one
 * per shard, each naming the epoch it was planned against. Also what the rebalancer could not
 * fix: shards that lost quorum (no conf change can commit; an operator's job) and shards that
 * need a replica no node can take.
 */
public record Plan(List<Operation> operations, List<ShardId> quorumLost, List<ShardId> unplaceable) {
    public Plan {
        operations = List.copyOf(operations);
        quorumLost = List.copyOf(quorumLost);
        unplaceable = List.copyOf(unplaceable);
    }

    public boolean isEmpty() {
        return operations.isEmpty();
    }
}
