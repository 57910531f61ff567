package dev.atoll.storage.wal;

import dev.atoll.core.protocol.PersistentState;

import java.util.Map;

/**
 * What {@link Wal#open} found: the writer, positioned after the last valid record, and each
 * group's persisted state (snapshots carry no data: the log keeps only their metadata).
 *
 * @param wal           the writer, ready for appends
 * @param groups        each group's hard state, snapshot metadata and entries after the snapshot,
 *                      by group id in ascending order
 * @param droppedBytes  bytes of a torn tail (written but never completed by a crash) that were
 *                      dropped and zeroed; 0 after a clean shutdown
 * @param segmentCount  segments kept
 * @param recordCount   valid records replayed
 */
public record WalRecovery(Wal wal, Map<Long, PersistentState> groups, long droppedBytes, int segmentCount,
                          long recordCount) {
}
