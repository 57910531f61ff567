package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;
import dev.atoll.shard.ShardChange.AddLearner;
import dev.atoll.shard.ShardChange.Operation;
import dev.atoll.shard.ShardId;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One step of rebalancing: at most {@link RebalancerConfig#opsPerStepMax} operations, at most one
 * per shard, each naming the epoch it was planned against. Also what the rebalancer could not
 * fix: shards that lost quorum (no conf change can commit; an operator's job) and shards that
 * need a replica no node can take.
 *
 * <p>{@code replacing} names, for a learner added to move a replica (balance, or a better
 * placement), the voter it is meant to replace: a driver that moves replicas whole (learner,
 * promote, remove the source) reads it; a step-by-step driver may ignore it.
 */
public record Plan(List<Operation> operations, List<ShardId> quorumLost, List<ShardId> unplaceable,
                   Map<ShardId, NodeId> replacing) {
    public Plan {
        operations = List.copyOf(operations);
        quorumLost = List.copyOf(quorumLost);
        unplaceable = List.copyOf(unplaceable);
        replacing = Map.copyOf(replacing);
    }

    /** The voter {@code add}'s learner replaces, if it moves a replica rather than adding one. */
    public Optional<NodeId> replaced(AddLearner add) {
        return Optional.ofNullable(replacing.get(add.shard()));
    }

    public boolean isEmpty() {
        return operations.isEmpty();
    }
}
