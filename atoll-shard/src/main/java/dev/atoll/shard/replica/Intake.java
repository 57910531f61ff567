package dev.atoll.shard.replica;

import dev.atoll.shard.Key;
import dev.atoll.shard.ShardId;

import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * Keys a target replica is taking over from {@code source} in data move {@code relocation}: from
 * {@link ShardCommand.Receive} on they are this shard's, but it refuses them until the last
 * {@link ShardCommand.TakeOver} chunk brought their rows. {@code resumeAt} is where the next chunk
 * starts (rows below it arrived); {@link Key#MIN} before the first.
 */
public record Intake(long relocation, ShardId source, List<MovedKeys> keys, Key resumeAt) {
    public Intake {
        checkArgument(relocation >= 1, "a relocation id is positive: %d", relocation);
        Objects.requireNonNull(source, "source");
        keys = List.copyOf(keys);
        checkArgument(!keys.isEmpty(), "an intake names keys");
        Objects.requireNonNull(resumeAt, "resumeAt");
        checkArgument(!resumeAt.isEnd(), "an intake still pending resumes at a key");
    }

    public boolean contains(Key key) {
        return MovedKeys.anyContains(keys, key);
    }

    Intake resumingAt(Key next) {
        return new Intake(relocation, source, keys, next);
    }
}
