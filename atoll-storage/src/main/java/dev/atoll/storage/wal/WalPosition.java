package dev.atoll.storage.wal;

/** A byte position in the log: a segment's sequence number and an offset inside that segment. */
public record WalPosition(long segmentSequence, long offset) implements Comparable<WalPosition> {
    @Override
    public int compareTo(WalPosition other) {
        int bySegment = Long.compare(segmentSequence, other.segmentSequence);
        return bySegment != 0 ? bySegment : Long.compare(offset, other.offset);
    }

    /** True when everything written up to {@code other} is also written up to this position. */
    public boolean covers(WalPosition other) {
        return compareTo(other) >= 0;
    }

    @Override
    public String toString() {
        return String.format("%016x:%d", segmentSequence, offset);
    }
}
