package dev.atoll.sim.check;

import dev.atoll.core.Check;

/**
 * The search's memo: a set of 128-bit fingerprints of (linearized operations, register value)
 * configurations, in one open-addressed array. Two independent 64-bit Zobrist hashes make a
 * false "already seen" about 2^-128 per pair of configurations; a false hit could only prune a
 * branch (never turn a violation into LINEARIZABLE). Grows with the search, which its step
 * budget bounds: one insert per step at most.
 */
final class FingerprintSet {
    private static final int CAPACITY_INITIAL = 1 << 10;
    private static final int CAPACITY_MAX = 1 << 29;

    private long[] slots = new long[2 * CAPACITY_INITIAL];
    private int capacity = CAPACITY_INITIAL;
    private int size;
    private boolean containsZero;

    /** Adds the fingerprint; returns false if it was already present. */
    boolean add(long high, long low) {
        if (high == 0 && low == 0) {
            boolean added = !containsZero;
            containsZero = true;
            return added;
        }
        if (2 * (size + 1) > capacity) {
            grow();
        }
        int mask = capacity - 1;
        for (int slot = (int) high & mask; ; slot = (slot + 1) & mask) {
            long slotHigh = slots[2 * slot];
            long slotLow = slots[2 * slot + 1];
            if (slotHigh == 0 && slotLow == 0) {
                slots[2 * slot] = high;
                slots[2 * slot + 1] = low;
                size++;
                return true;
            }
            if (slotHigh == high && slotLow == low) {
                return false;
            }
        }
    }

    int size() {
        return size + (containsZero ? 1 : 0);
    }

    private void grow() {
        Check.check(capacity < CAPACITY_MAX, "memo stays under %d fingerprints", CAPACITY_MAX);
        long[] old = slots;
        capacity *= 2;
        slots = new long[2 * capacity];
        int mask = capacity - 1;
        for (int i = 0; i < old.length; i += 2) {
            long high = old[i];
            long low = old[i + 1];
            if (high == 0 && low == 0) {
                continue;
            }
            int slot = (int) high & mask;
            while (slots[2 * slot] != 0 || slots[2 * slot + 1] != 0) {
                slot = (slot + 1) & mask;
            }
            slots[2 * slot] = high;
            slots[2 * slot + 1] = low;
        }
    }
}
