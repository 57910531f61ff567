package dev.atoll.shard;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.stream.Collectors;

import static dev.atoll.core.Check.checkArgument;

/**
 * A set of hash slots, kept canonical: sorted, disjoint, non-adjacent ranges, so that two
 * equal sets are equal records. May be empty (a hash shard that has been given no slots yet).
 */
public record HashSlots(List<SlotRange> ranges) implements ShardSpan {
    public static final HashSlots NONE = new HashSlots(List.of());

    public HashSlots {
        ranges = List.copyOf(ranges);
        for (int i = 1; i < ranges.size(); i++) {
            checkArgument(ranges.get(i - 1).end() < ranges.get(i).start(),
                    "slot ranges are sorted, disjoint and not adjacent: %s", ranges);
        }
    }

    public static HashSlots of(SlotRange range) {
        return new HashSlots(List.of(range));
    }

    public static HashSlots of(BitSet slots) {
        var ranges = new ArrayList<SlotRange>();
        for (int start = slots.nextSetBit(0); start >= 0; ) {
            int end = slots.nextClearBit(start);
            ranges.add(new SlotRange(start, end));
            start = slots.nextSetBit(end);
        }
        return new HashSlots(ranges);
    }

    public BitSet toBitSet() {
        var bits = new BitSet();
        for (SlotRange r : ranges) {
            bits.set(r.start(), r.end());
        }
        return bits;
    }

    public int slotCount() {
        int n = 0;
        for (SlotRange r : ranges) {
            n += r.slotCount();
        }
        return n;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public boolean contains(int slot) {
        // Binary search: a shard may own thousands of scattered slots after rebalancing.
        int lo = 0;
        int hi = ranges.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            SlotRange r = ranges.get(mid);
            if (slot < r.start()) {
                hi = mid - 1;
            } else if (slot >= r.end()) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    public boolean containsAll(HashSlots other) {
        BitSet missing = other.toBitSet();
        missing.andNot(toBitSet());
        return missing.isEmpty();
    }

    public HashSlots plus(HashSlots other) {
        BitSet bits = toBitSet();
        bits.or(other.toBitSet());
        return of(bits);
    }

    public HashSlots minus(HashSlots other) {
        BitSet bits = toBitSet();
        bits.andNot(other.toBitSet());
        return of(bits);
    }

    /** The slots below {@code slot} and those at or above it. */
    public HashSlots below(int slot) {
        BitSet bits = toBitSet();
        bits.clear(Math.max(slot, 0), Math.max(bits.length(), slot));
        return of(bits);
    }

    public HashSlots atOrAbove(int slot) {
        BitSet bits = toBitSet();
        bits.clear(0, Math.max(slot, 0));
        return of(bits);
    }

    @Override
    public String toString() {
        return ranges.stream().map(SlotRange::toString).collect(Collectors.joining(",", "slots{", "}"));
    }
}
