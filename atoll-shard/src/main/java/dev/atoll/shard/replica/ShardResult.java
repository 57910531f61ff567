package dev.atoll.shard.replica;

import dev.atoll.shard.Key;
import dev.atoll.shard.ShardId;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What applying one {@link ShardCommand} did: a value, or why it changed nothing. Every replica
 * of a group computes the same result at the same index, so any of them may answer the client.
 */
public sealed interface ShardResult {
    /** A put or delete took effect. */
    record Written() implements ShardResult {
    }

    /** A get's answer: the value, or null when the key is absent. */
    record Value(byte[] value) implements ShardResult {
        @Override
        public boolean equals(Object o) {
            return o instanceof Value v && Arrays.equals(value, v.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return value == null ? "Value[absent]" : "Value[" + value.length + "B]";
        }
    }

    /**
     * A scan's rows in key order, and where the caller resumes: the key after the last row when
     * the limit cut the scan short, the next shard's first key when the range runs past this
     * (range) shard, or null when the scan covered all of its range that is this shard's.
     */
    record Rows(List<KeyValue> rows, Key resumeAt) implements ShardResult {
        public Rows {
            rows = List.copyOf(rows);
        }
    }

    /**
     * Refused, nothing changed: the key is not this shard's, or the shard is frozen for a merge
     * ({@code successor} is then the shard taking over its keys; otherwise null). {@code current}
     * is what this replica holds now, for the client's routing cache.
     */
    record ShardMoved(ShardBounds current, ShardId successor) implements ShardResult {
        public ShardMoved {
            Objects.requireNonNull(current, "current");
        }
    }

    /**
     * Refused, nothing changed: the command was routed or planned with another range version than
     * this replica's ({@code current}); a retried split or merge that already took effect also
     * ends here.
     */
    record StaleEpoch(ShardBounds current) implements ShardResult {
        public StaleEpoch {
            Objects.requireNonNull(current, "current");
        }
    }

    /** The split took effect: this replica now holds {@code parent}; the new shard starts from {@code child}. */
    record Split(ShardBounds parent, ShardSnapshot child) implements ShardResult {
    }

    /** The shard is frozen for a merge into {@code merge.target()}. */
    record MergePrepared(PendingMerge merge) implements ShardResult {
    }

    /** The merge took effect: this replica now holds {@code bounds}, the source's keys included. */
    record Merged(ShardBounds bounds) implements ShardResult {
    }

    /**
     * A step of a data move took effect (HandOff, Receive, a TakeOver chunk, Release): this replica
     * now holds {@code bounds}; {@code pending} says whether this relocation still has keys in flight
     * here (a handoff not released, or an intake whose rows have not all arrived).
     */
    record Relocated(ShardBounds bounds, boolean pending) implements ShardResult {
    }

    /** The command makes no sense against this replica; nothing changed. {@code code} is stable. */
    record Rejected(Code code, String reason) implements ShardResult {
        public Rejected {
            Objects.requireNonNull(code, "code");
        }
    }

    /** Stable codes of {@link Rejected}. */
    enum Code {
        /** The entry does not decode as a shard command. */
        MALFORMED_COMMAND,
        /** The split point is not strictly inside the shard, or of the wrong kind. */
        BAD_SPLIT,
        /** The merge source is not frozen for this shard, or its span does not join this one. */
        BAD_MERGE,
        /** The shard is frozen for a merge and takes no further admin command. */
        FROZEN,
        /** A data move step that does not fit this replica's state (no such intake, a chunk out of order, keys of the wrong kind). */
        BAD_MOVE,
        /** Keys of the shard are moving to or from another shard: no split, merge or other data move until that is done. */
        MOVING
    }
}
