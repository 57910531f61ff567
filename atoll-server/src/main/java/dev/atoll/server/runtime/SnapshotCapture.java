package dev.atoll.server.runtime;

/**
 * A state machine's state frozen at one applied index, taken on the runtime's loop thread by
 * {@link StateMachine#captureSnapshot}. Turning it into snapshot bytes ({@link #materialize}) is
 * the expensive part, and the runtime does it off the loop thread, while later entries apply;
 * so the capture must not change with them (a copy, an immutable value, a RocksDB checkpoint).
 *
 * <p>The runtime calls {@link #materialize} at most once, from one background thread, and
 * {@link #close} exactly once, after it or instead of it (a snapshot abandoned at shutdown).
 */
public interface SnapshotCapture extends AutoCloseable {
    /** The applied index whose state the capture holds: the snapshot's index. */
    long index();

    /**
     * The snapshot data for {@link #index()}, as {@link StateMachine#snapshotData()} would have
     * answered then. Runs off the loop thread, concurrently with apply and install; may take long.
     */
    byte[] materialize();

    /** Frees what the capture holds (a checkpoint directory); idempotent. */
    @Override
    void close();

    /** A capture of data taken eagerly: for state machines whose whole state is cheap to copy. */
    static SnapshotCapture of(long index, byte[] data) {
        return new Eager(index, data);
    }

    /** The data, already in hand. */
    record Eager(long index, byte[] data) implements SnapshotCapture {
        @Override
        public byte[] materialize() {
            return data;
        }

        @Override
        public void close() {
        }
    }
}
