package dev.atoll.core.protocol;

/**
 * Read-only view of a replica's in-memory log, including entries not yet persisted.
 * Indexes at or below the snapshot index are compacted: only the snapshot's own term is known.
 */
public interface LogView {
    /** Index of the snapshot the log starts after (0 for a new log). */
    long snapshotIndex();

    long lastIndex();

    /** Term of the entry at {@code index}, for snapshotIndex() <= index <= lastIndex(); else -1. */
    long term(long index);

    /** The entry at {@code index}, for snapshotIndex() < index <= lastIndex(); else null. */
    Entry entry(long index);
}
