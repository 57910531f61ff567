package dev.atoll.shard;

import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/** The keys k with start <= k < end; never empty. {@code end} may be {@link Key#END}. */
public record KeyRange(Key start, Key end) implements ShardSpan {
    /** Every key. */
    public static final KeyRange ALL = new KeyRange(Key.MIN, Key.END);

    public KeyRange {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        checkArgument(!start.isEnd(), "a range starts at a key, not END");
        checkArgument(start.compareTo(end) < 0, "a range is never empty: [%s, %s)", start, end);
    }

    /** Every key that starts with {@code prefix}. */
    public static KeyRange ofPrefix(Key prefix) {
        return new KeyRange(prefix, prefix.prefixEnd());
    }

    /** The range holding exactly one key. */
    public static KeyRange ofKey(Key key) {
        return new KeyRange(key, key.successor());
    }

    public boolean contains(Key key) {
        return !key.isEnd() && start.compareTo(key) <= 0 && key.compareTo(end) < 0;
    }

    public boolean contains(KeyRange other) {
        return start.compareTo(other.start) <= 0 && other.end.compareTo(end) <= 0;
    }

    public boolean overlaps(KeyRange other) {
        return start.compareTo(other.end) < 0 && other.start.compareTo(end) < 0;
    }

    @Override
    public String toString() {
        return "[" + start + ", " + end + ")";
    }
}
