package dev.atoll.core.protocol;

import java.util.Arrays;

/**
 * One log entry. {@code term} is the protocol's epoch: Raft's term, Paxos's ballot, PBFT's
 * view. A {@link Kind#MEMBERSHIP} entry's data is an encoded {@link MembershipChange}.
 */
public record Entry(long index, long term, Kind kind, byte[] data) {
    public enum Kind { COMMAND, NOOP, MEMBERSHIP }

    public Entry {
        if (index <= 0) {
            throw new IllegalArgumentException("entry index starts at 1: " + index);
        }
        if (term <= 0) {
            throw new IllegalArgumentException("entry term starts at 1: " + term);
        }
        data = data == null ? new byte[0] : data;
    }

    /** Bytes this entry costs in a batch: payload plus a fixed header. */
    public int sizeBytes() {
        return data.length + 24;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.index == index && e.term == term && e.kind == kind
                && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + Long.hashCode(term) * 17 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Entry{" + index + "@" + term + " " + kind + " " + data.length + "B}";
    }
}
