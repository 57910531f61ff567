package dev.atoll.shard.replica;

import dev.atoll.shard.ShardId;

import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * Keys a source replica has handed off to {@code target} in data move {@code relocation}: from
 * {@link ShardCommand.HandOff} on it refuses them ("shard moved" naming the target) and keeps
 * their rows, frozen, until {@link ShardCommand.Release} deletes them once the target holds them.
 */
public record Handoff(long relocation, ShardId target, List<MovedKeys> keys) {
    public Handoff {
        checkArgument(relocation >= 1, "a relocation id is positive: %d", relocation);
        Objects.requireNonNull(target, "target");
        keys = List.copyOf(keys);
        checkArgument(!keys.isEmpty(), "a handoff names keys");
    }

    public boolean contains(dev.atoll.shard.Key key) {
        return MovedKeys.anyContains(keys, key);
    }
}
