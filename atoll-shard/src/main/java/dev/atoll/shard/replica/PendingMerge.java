package dev.atoll.shard.replica;

import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;

import java.util.Objects;

/**
 * A shard frozen by {@link ShardCommand.PrepareMerge}: it will be merged into {@code target},
 * which the meta group recorded at {@code targetEpoch}; from then on it changes nothing.
 */
public record PendingMerge(ShardId target, ShardEpoch targetEpoch) {
    public PendingMerge {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(targetEpoch, "targetEpoch");
    }
}
