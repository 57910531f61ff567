package dev.atoll.core.protocol;

/**
 * The state machine as of {@code index} (whose entry had {@code term}), with the membership
 * in force there. Index 0 is the bootstrap snapshot of a new cluster: empty data, the
 * initial membership.
 */
public record Snapshot(long index, long term, Membership membership, byte[] data) {
    public Snapshot {
        data = data == null ? new byte[0] : data;
    }

    public static Snapshot bootstrap(Membership membership) {
        return new Snapshot(0, 0, membership, new byte[0]);
    }

    @Override
    public String toString() {
        return "Snapshot{" + index + "@" + term + " " + membership + " " + data.length + "B}";
    }
}
