package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardId;

import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

import static dev.atoll.core.Check.checkArgument;

/**
 * Keys a data move carries from one shard to another, as a replica tests them: hash slots (a
 * hash keyspace's {@code MoveSlots}), a key range (a directory entry whose keys all go to one
 * shard), or a key range filtered by the directory's default rule (an entry removed: its keys go
 * to the default shard the jump hash picks, here {@code target}). Pure and immutable.
 */
public sealed interface MovedKeys {
    /** Whether {@code key} is one of these keys. */
    boolean contains(Key key);

    /** The key range to scan to find every stored row of these keys. */
    KeyRange scanRange();

    /** Slots of a hash keyspace of {@code slotCount} slots. */
    record Slots(HashSlots slots, int slotCount) implements MovedKeys {
        public Slots {
            Objects.requireNonNull(slots, "slots");
            checkArgument(!slots.isEmpty(), "a move carries at least one slot");
            checkArgument(slotCount >= 1 && Integer.bitCount(slotCount) == 1 && slots.ranges().getLast().end() <= slotCount,
                    "slots %s within a power-of-two slot count %d", slots, slotCount);
        }

        @Override
        public boolean contains(Key key) {
            return !key.isEnd() && slots.contains(KeyHash.slot(key, slotCount));
        }

        @Override
        public KeyRange scanRange() {
            return KeyRange.ALL;
        }
    }

    /** Every key of {@code range}. */
    record Range(KeyRange range) implements MovedKeys {
        public Range {
            Objects.requireNonNull(range, "range");
        }

        @Override
        public boolean contains(Key key) {
            return range.contains(key);
        }

        @Override
        public KeyRange scanRange() {
            return range;
        }
    }

    /**
     * The keys of {@code range} that a directory's default rule (jump hash over {@code over}, in
     * that order, as {@code Directory.byDefault}) routes to {@code target}.
     */
    record HashedRange(KeyRange range, List<ShardId> over, ShardId target) implements MovedKeys {
        public HashedRange {
            Objects.requireNonNull(range, "range");
            over = List.copyOf(over);
            Objects.requireNonNull(target, "target");
            checkArgument(over.contains(target), "the default rule %s routes to %s", over, target);
            checkArgument(new TreeSet<>(over).size() == over.size(), "distinct default shards: %s", over);
        }

        @Override
        public boolean contains(Key key) {
            return range.contains(key) && over.get(KeyHash.jump(KeyHash.hash64(key), over.size())).equals(target);
        }

        @Override
        public KeyRange scanRange() {
            return range;
        }
    }

    /** Whether any of {@code keys} holds {@code key}. */
    static boolean anyContains(List<MovedKeys> keys, Key key) {
        for (MovedKeys k : keys) {
            if (k.contains(key)) {
                return true;
            }
        }
        return false;
    }
}
