package dev.atoll.shard.replica;

import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * A replica's whole state at {@code appliedIndex} of its shard group's log: its bounds, whether
 * it is frozen for a merge, the data moves in flight through it (keys handed off, whose rows it
 * still keeps, and keys being taken over) and its rows in key order (every one inside the bounds
 * or handed off). What a learner installs, what a split hands the new shard and what a merge
 * carries to its target.
 */
public record ShardSnapshot(ShardBounds bounds, long appliedIndex, PendingMerge pendingMerge, List<Handoff> handoffs,
                            List<Intake> intakes, List<KeyValue> rows) {
    public ShardSnapshot {
        Objects.requireNonNull(bounds, "bounds");
        checkArgument(appliedIndex >= 0, "an applied index is not negative: %d", appliedIndex);
        handoffs = List.copyOf(handoffs);
        intakes = List.copyOf(intakes);
        rows = List.copyOf(rows);
        for (int i = 0; i < rows.size(); i++) {
            checkArgument(holds(bounds, handoffs, rows.get(i).key()), "row %s is outside %s", rows.get(i).key(),
                    bounds);
            checkArgument(i == 0 || rows.get(i - 1).key().compareTo(rows.get(i).key()) < 0,
                    "snapshot rows are in strictly ascending key order at %s", rows.get(i).key());
        }
    }

    /** A snapshot with no data move in flight. */
    public ShardSnapshot(ShardBounds bounds, long appliedIndex, PendingMerge pendingMerge, List<KeyValue> rows) {
        this(bounds, appliedIndex, pendingMerge, List.of(), List.of(), rows);
    }

    /** Whether a replica with {@code bounds} and {@code handoffs} keeps a row of {@code key}. */
    static boolean holds(ShardBounds bounds, List<Handoff> handoffs, dev.atoll.shard.Key key) {
        if (bounds.contains(key)) {
            return true;
        }
        for (Handoff h : handoffs) {
            if (h.contains(key)) {
                return true;
            }
        }
        return false;
    }

    /** Bytes of keys and values, for bounding what a merge carries in one log entry. */
    public long dataBytes() {
        long n = 0;
        for (KeyValue kv : rows) {
            n += kv.key().lengthBytes() + kv.value().length;
        }
        return n;
    }
}
