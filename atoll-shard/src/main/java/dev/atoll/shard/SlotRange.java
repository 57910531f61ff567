package dev.atoll.shard;

import static dev.atoll.core.Check.checkArgument;

/** The hash slots s with start <= s < end; never empty. */
public record SlotRange(int start, int end) {
    public SlotRange {
        checkArgument(start >= 0 && start < end, "a slot range is never empty and starts at 0 or later: [%d, %d)",
                start, end);
    }

    public int slotCount() {
        return end - start;
    }

    public boolean contains(int slot) {
        return start <= slot && slot < end;
    }

    @Override
    public String toString() {
        return end - start == 1 ? Integer.toString(start) : start + ".." + (end - 1);
    }
}
