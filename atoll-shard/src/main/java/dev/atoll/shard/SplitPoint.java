package dev.atoll.shard;

import java.util.Objects;

/** Where a shard splits: the new shard takes the keys from {@code key}, or the slots from {@code slot}, up. */
public sealed interface SplitPoint {
    record AtKey(Key key) implements SplitPoint {
        public AtKey {
            Objects.requireNonNull(key, "key");
        }
    }

    record AtSlot(int slot) implements SplitPoint {
    }
}
