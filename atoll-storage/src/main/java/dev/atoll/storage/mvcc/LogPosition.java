package dev.atoll.storage.mvcc;

import static dev.atoll.core.Check.checkArgument;

/** The Raft log entry a mutation comes from; written atomically with the mutation's data. */
public record LogPosition(long index, long term) {
    public static final LogPosition ZERO = new LogPosition(0, 0);

    public LogPosition {
        checkArgument(index >= 0 && term >= 0, "log index and term are not negative: %d/%d", index, term);
    }
}
