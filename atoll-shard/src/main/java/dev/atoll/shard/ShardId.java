package dev.atoll.shard;

import static dev.atoll.core.Check.checkArgument;

/** A shard's id: allocated by the shard map, never reused, positive. */
public record ShardId(long value) implements Comparable<ShardId> {
    public ShardId {
        checkArgument(value > 0, "a shard id is positive: %d", value);
    }

    public static ShardId of(long value) {
        return new ShardId(value);
    }

    @Override
    public int compareTo(ShardId other) {
        return Long.compare(value, other.value);
    }

    @Override
    public String toString() {
        return "s" + value;
    }
}
