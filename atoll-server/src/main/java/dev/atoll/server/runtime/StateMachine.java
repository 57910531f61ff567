package dev.atoll.server.runtime;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;

import java.util.ArrayList;
import java.util.List;

/**
 * What a replica group's committed log is applied to. Called only from the runtime's loop
 * thread, in log order (except {@link #prepareSnapshot} and {@link SnapshotCapture#materialize},
 * which run on the runtime's snapshot thread); reads from other threads are the implementation's
 * business.
 */
public interface StateMachine extends AutoCloseable {
    /**
     * Applies one committed entry (every kind: NOOP and MEMBERSHIP entries only advance the
     * applied index) and returns the result handed to the proposer's waiter, if any. Applying
     * an entry at or below {@link #appliedIndex()} again must change nothing (restart replay).
     */
    Object apply(Entry entry);

    /**
     * Applies a round's committed entries in log order, exactly as {@link #apply} one after the
     * other would, and returns their results in the same order: one per entry, an element may
     * be null. An implementation may write the round to its storage at once; it must still
     * never leave part of an entry applied. The default applies one entry at a time.
     */
    default List<Object> applyAll(List<Entry> entries) {
        List<Object> results = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            results.add(apply(entry));
        }
        return results;
    }

    /** Index of the last entry applied. */
    long appliedIndex();

    /** The whole state as of {@link #appliedIndex()}, for a Raft snapshot. */
    byte[] snapshotData();

    /**
     * Work that makes the next {@link #captureSnapshot} cheaper, done on the runtime's snapshot
     * thread just before it while entries go on applying on the loop thread (the etcd state
     * machine flushes its memtables, so that the checkpoint the capture takes flushes only the
     * writes since). May run concurrently with {@link #apply} and {@link #install}: the
     * implementation excludes what it must; never concurrently with {@link #close}. The default
     * does nothing.
     */
    default void prepareSnapshot() {
    }

    /**
     * The state as of {@link #appliedIndex()}, frozen cheaply on the loop thread; the runtime
     * materializes its bytes on a background thread while later entries apply. The default copies
     * {@link #snapshotData()} now, which suits a state machine whose state is small (the meta
     * group); one with a large state overrides it (the etcd state machine keeps a RocksDB
     * checkpoint and packs it only when materialized).
     */
    default SnapshotCapture captureSnapshot() {
        return SnapshotCapture.of(appliedIndex(), snapshotData());
    }

    /** Replaces the whole state with a snapshot received from the leader. */
    void install(Snapshot snapshot);

    @Override
    void close();
}
