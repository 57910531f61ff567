package dev.atoll.shard;

import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * Data that must move between shards after a routing change: the keys of {@code span} stored
 * on {@code source} that now route to {@code target}. The driver copies them to the target and
 * then deletes them from the source.
 */
public record DataMove(ShardSpan span, ShardId source, ShardId target) {
    public DataMove {
        Objects.requireNonNull(span, "span");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        checkArgument(!source.equals(target), "a move goes somewhere else: %s", source);
    }

    @Override
    public String toString() {
        return span + " " + source + "->" + target;
    }
}
