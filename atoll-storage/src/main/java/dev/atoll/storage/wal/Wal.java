package dev.atoll.storage.wal;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.PersistentState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node's write-ahead log, shared by every replica group on the node: {@link #append} encodes
 * and buffers the writes of any number of groups, {@link #sync} makes all of them durable with
 * one fdatasync (group commit). Segments rotate at {@link WalOptions#segmentBytesMax()}; each new
 * segment starts with a checkpoint of every group's hard state and snapshot metadata, so a
 * segment is deleted once every group's entries in it are covered by a durable snapshot or were
 * discarded by a durable snapshot installed from the leader.
 *
 * <p>Not thread-safe: one thread (the node runtime's persist loop) owns it. After an I/O error
 * in a write or fsync the log is failed and refuses further calls: after a failed fsync the page
 * cache may have dropped the data, so retrying could acknowledge lost writes (PostgreSQL's
 * "fsyncgate"). The node restarts and recovers instead.
 */
public final class Wal implements AutoCloseable {
    /** What one {@link #append} wrote. {@code end} is the position {@link #sync()} must reach for it to be durable. */
    public record Appended(int recordCount, long bytes, WalPosition end) {
    }

    /** What one {@link #sync()} did. */
    public record Synced(WalPosition position, boolean forced, int segmentsDeleted) {
    }

    /** A segment that no longer takes writes, and the highest entry index each group has in it. */
    private record SealedSegment(long sequence, Path path, Map<Long, Long> maxEntryIndexByGroup) {
    }

    /** One record ready to write, and its effect on its group once written. */
    private record PendingRecord(ByteBuffer framed, long groupId, SnapshotMeta snapshot, boolean replacesLog,
                                 long lastEntryIndex, HardState hardState) {
    }

    private final Path dir;
    private final WalOptions options;
    private final ArrayDeque<SealedSegment> sealed = new ArrayDeque<>();
    private final Map<Long, GroupState> groups = new HashMap<>();
    private final Set<Long> groupsWithUnsyncedSnapshot = new HashSet<>();
    private final ByteBuffer writeBuffer;
    private long checkpointPayloadBytes = WalCodec.CHECKPOINT_FIXED_BYTES;

    private long activeSequence;
    private Path activePath;
    private FileChannel channel;
    private Map<Long, Long> activeMaxEntryIndexByGroup = new HashMap<>();
    /** End of what append has written, buffered or not. */
    private long appendOffset;
    /** End of what has been handed to the kernel; the buffer holds {@code [flushedOffset, appendOffset)}. */
    private long flushedOffset;
    /** End of what an fsync has made durable. */
    private long syncedOffset;
    /** The highest synced offset already vouched for by a synced-through record in this segment. */
    private long claimedOffset;
    private long checkpointEndOffset;

    private IOException failure;
    private boolean closed;

    private long fsyncCount;
    private long directorySyncCount;
    private long appendedBytes;
    private long appendedRecordCount;
    private long segmentsCreatedCount;
    private long segmentsDeletedCount;

    private Wal(Path dir, WalOptions options) {
        this.dir = dir;
        this.options = options;
        this.writeBuffer = ByteBuffer.allocate(options.writeBufferBytes());
    }

    /**
     * Opens the log in {@code dir} (created if absent), replays it and returns the writer
     * positioned after the last valid record, with each group's state. A torn tail in the last
     * segment (a crash in the middle of unsynced writes) is dropped, zeroed and fsynced before
     * this returns. Throws {@link WalCorruptedException} for damage a crash cannot explain.
     */
    public static WalRecovery open(Path dir, WalOptions options) throws IOException {
        Files.createDirectories(dir);
        WalReplay.Outcome outcome = WalReplay.replay(dir);
        Wal wal = new Wal(dir, options);
        try {
            wal.resume(outcome);
        } catch (IOException | RuntimeException e) {
            wal.closeChannelQuietly(e);
            throw e;
        }
        Map<Long, PersistentState> states = new TreeMap<>();
        outcome.groups().forEach((id, g) -> states.put(id, g.toPersistentState()));
        return new WalRecovery(wal, Collections.unmodifiableMap(states), outcome.droppedBytes(), wal.segmentCount(),
                outcome.recordCount());
    }

    private void resume(WalReplay.Outcome outcome) throws IOException {
        if (outcome.discardedSegment() != null) {
            Files.delete(outcome.discardedSegment());
            syncDirectory();
        }
        outcome.groups().forEach((id, g) -> {
            GroupState s = new GroupState();
            s.applyHardState(g.hardState);
            s.applySnapshot(g.snapshot);
            s.applyEntries(g.lastIndex());
            s.durableSnapshotIndex = g.snapshot.index();
            s.installSegment = g.installSegment;
            s.durableInstallSegment = g.installSegment;
            groups.put(id, s);
            checkpointPayloadBytes += s.checkpointBytes;
        });
        List<WalReplay.ScannedSegment> segments = outcome.segments();
        if (segments.isEmpty()) {
            createSegment(outcome.discardedSegment() != null ? outcome.discardedSequence() : 0);
            return;
        }
        for (int i = 0; i < segments.size() - 1; i++) {
            var s = segments.get(i);
            sealed.addLast(new SealedSegment(s.sequence(), s.path(), s.maxEntryIndexByGroup()));
        }
        var last = segments.get(segments.size() - 1);
        activeSequence = last.sequence();
        activePath = last.path();
        activeMaxEntryIndexByGroup = new HashMap<>(last.maxEntryIndexByGroup());
        checkpointEndOffset = last.checkpointEndOffset();
        appendOffset = last.validEndOffset();
        channel = FileChannel.open(activePath, StandardOpenOption.READ, StandardOpenOption.WRITE);
        // Zero the torn tail: left in place, a valid-looking stale record beyond our next appends
        // would be replayed after them by the next recovery.
        long zeroEnd = last.tailNonZeroEndOffset();
        for (long offset = appendOffset; offset < zeroEnd; ) {
            int n = (int) Math.min(writeBuffer.capacity(), zeroEnd - offset);
            writeFully(ByteBuffer.allocate(n), offset);
            offset += n;
        }
        if (last.fileBytes() < options.segmentBytesMax()) {
            preallocate(channel, options.segmentBytesMax());
        }
        // What we replayed may still sit only in the page cache (the process died, not the
        // machine): make it durable before anyone acknowledges a write that depends on it.
        channel.force(false);
        fsyncCount++;
        flushedOffset = appendOffset;
        syncedOffset = appendOffset;
        claimedOffset = 0;
    }

    /**
     * Encodes and writes the records of {@code writes} in order, without fsync: durable only after
     * a later {@link #sync()} returns. Validates everything first, so a refused call writes
     * nothing: {@link WalRecordTooLargeException} for a record above {@code recordBytesMax},
     * IllegalArgumentException for entries at or below the group's snapshot, entries that would
     * leave a gap after the group's last index, or a snapshot older than the group's. An installed
     * snapshot ({@link GroupWrite#replacesLog()}) discards the group's entries, so entries after it
     * in the same call must start right after it.
     */
    public Appended append(List<GroupWrite> writes) throws IOException {
        ensureUsable();
        List<PendingRecord> pending = new ArrayList<>();
        Map<Long, GroupState> projected = new HashMap<>();
        for (GroupWrite w : writes) {
            long groupId = w.groupId();
            GroupState g = projected.computeIfAbsent(groupId, id -> {
                GroupState current = groups.get(id);
                return current == null ? new GroupState() : current.copy();
            });
            WalCodec.checkNodeIds(groupId, w.hardState(), w.snapshot());
            SnapshotMeta s = w.snapshot();
            if (s != null) {
                checkArgument(s.index() >= g.snapshot.index(), "group %d: a snapshot never goes back: %d after %d",
                        groupId, s.index(), g.snapshot.index());
                long payloadBytes = WalCodec.snapshotPayloadBytes(s);
                boolean replacesLog = w.replacesLog();
                checkRecordBytes(groupId, replacesLog ? "installed snapshot" : "snapshot", payloadBytes);
                byte type = replacesLog ? WalCodec.TYPE_SNAPSHOT_INSTALL : WalCodec.TYPE_SNAPSHOT;
                pending.add(new PendingRecord(WalCodec.frame(type, (int) payloadBytes,
                        b -> WalCodec.putSnapshotRecord(b, groupId, s)), groupId, s, replacesLog, -1, null));
                if (replacesLog) {
                    g.applyInstalledSnapshot(s);
                } else {
                    g.applySnapshot(s);
                }
            }
            List<Entry> entries = w.entries();
            if (!entries.isEmpty()) {
                long first = entries.get(0).index();
                long last = entries.get(entries.size() - 1).index();
                checkArgument(first > g.snapshot.index(),
                        "group %d: entries at or below snapshot %d are obsolete, batch starts at %d",
                        groupId, g.snapshot.index(), first);
                checkArgument(first <= g.lastIndex + 1, "group %d: batch starting at %d leaves a gap after last index %d",
                        groupId, first, g.lastIndex);
                long payloadBytes = WalCodec.entriesPayloadBytes(entries);
                checkRecordBytes(groupId, "entries", payloadBytes);
                pending.add(new PendingRecord(WalCodec.frame(WalCodec.TYPE_ENTRIES, (int) payloadBytes,
                        b -> WalCodec.putEntries(b, groupId, entries)), groupId, null, false, last, null));
                g.applyEntries(last);
            }
            HardState hs = w.hardState();
            if (hs != null) {
                long payloadBytes = WalCodec.hardStatePayloadBytes(hs);
                checkRecordBytes(groupId, "hard state", payloadBytes);
                pending.add(new PendingRecord(WalCodec.frame(WalCodec.TYPE_HARD_STATE, (int) payloadBytes,
                        b -> WalCodec.putHardStateRecord(b, groupId, hs)), groupId, null, false, -1, hs));
                g.applyHardState(hs);
            }
        }
        long projectedCheckpointBytes = checkpointPayloadBytes;
        for (var e : projected.entrySet()) {
            GroupState current = groups.get(e.getKey());
            projectedCheckpointBytes += e.getValue().checkpointBytes - (current == null ? 0 : current.checkpointBytes);
        }
        if (WalCodec.FRAME_HEADER_BYTES + projectedCheckpointBytes > options.recordBytesMax()) {
            // every rotation must be able to write the checkpoint; refuse now rather than fail then
            throw new WalRecordTooLargeException(WalRecordTooLargeException.GROUP_CHECKPOINT, "checkpoint",
                    WalCodec.FRAME_HEADER_BYTES + projectedCheckpointBytes, options.recordBytesMax());
        }

        long bytesBefore = appendedBytes;
        long recordsBefore = appendedRecordCount;
        try {
            for (PendingRecord p : pending) {
                writeRecord(p.framed());
                GroupState g = groups.get(p.groupId());
                if (g == null) {
                    g = new GroupState();
                    groups.put(p.groupId(), g);
                    checkpointPayloadBytes += g.checkpointBytes;
                }
                checkpointPayloadBytes -= g.checkpointBytes;
                if (p.replacesLog()) {
                    g.applyInstalledSnapshot(p.snapshot());
                    // writeRecord may have rotated: the record sits in the active segment now.
                    // The group's entries before it there are discarded and no longer pin it;
                    // the segment is fsynced when sealed, before any deletion could consider it.
                    g.installSegment = activeSequence;
                    activeMaxEntryIndexByGroup.remove(p.groupId());
                    groupsWithUnsyncedSnapshot.add(p.groupId());
                } else if (p.snapshot() != null) {
                    g.applySnapshot(p.snapshot());
                    groupsWithUnsyncedSnapshot.add(p.groupId());
                } else if (p.hardState() != null) {
                    g.applyHardState(p.hardState());
                } else {
                    g.applyEntries(p.lastEntryIndex());
                    activeMaxEntryIndexByGroup.merge(p.groupId(), p.lastEntryIndex(), Math::max);
                }
                checkpointPayloadBytes += g.checkpointBytes;
            }
        } catch (IOException e) {
            throw fail(e);
        }
        check(checkpointPayloadBytes == projectedCheckpointBytes, "checkpoint size is tracked exactly: %d != %d",
                checkpointPayloadBytes, projectedCheckpointBytes);
        return new Appended((int) (appendedRecordCount - recordsBefore), appendedBytes - bytesBefore, appendedPosition());
    }

    /**
     * Makes everything appended so far durable: flushes the buffer and calls fdatasync
     * ({@code FileChannel.force(false)}; metadata that reading the data needs, like the file size,
     * is included). Skips the fsync when nothing new was written. Then deletes the leading
     * segments that durable snapshots have made obsolete.
     */
    public Synced sync() throws IOException {
        ensureUsable();
        boolean forced = false;
        try {
            flushBuffer();
            if (flushedOffset > syncedOffset) {
                channel.force(false);
                fsyncCount++;
                syncedOffset = flushedOffset;
                forced = true;
            }
        } catch (IOException e) {
            throw fail(e);
        }
        int deleted = 0;
        if (!groupsWithUnsyncedSnapshot.isEmpty()) {
            for (long groupId : groupsWithUnsyncedSnapshot) {
                GroupState g = groups.get(groupId);
                g.durableSnapshotIndex = g.snapshot.index();
                g.durableInstallSegment = g.installSegment;
            }
            groupsWithUnsyncedSnapshot.clear();
            deleted = deleteObsoleteSegments();
        }
        return new Synced(syncedPosition(), forced, deleted);
    }

    /**
     * The group no longer needs its entries at or below {@code snapshotIndex}: deletes every
     * leading segment whose entries are all covered by their groups' durable snapshots, and
     * returns how many. {@link #sync()} does the same after each durable snapshot record, so this
     * is needed only to retry a deletion that failed. {@code snapshotIndex} may not exceed the
     * group's durable snapshot: entries the log holds no snapshot for cannot go, or recovery
     * would find a gap.
     */
    public int release(long groupId, long snapshotIndex) throws IOException {
        ensureUsable();
        GroupState g = groups.get(groupId);
        checkArgument(g != null, "group %d has written nothing to this log", groupId);
        checkArgument(snapshotIndex <= g.durableSnapshotIndex,
                "group %d: can release only entries its durable snapshot covers: %d > %d",
                groupId, snapshotIndex, g.durableSnapshotIndex);
        return deleteObsoleteSegments();
    }

    /**
     * Syncs what was appended, then closes the file. Idempotent; a failed log just closes. A
     * clean close also vouches for the last synced bytes with a synced-through record, so that
     * damage to them is reported as corruption rather than taken for a torn tail.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (failure == null) {
                sync();
                if (syncedOffset > claimedOffset) {
                    put(WalCodec.syncedThroughRecord(syncedOffset));
                    claimedOffset = syncedOffset;
                    sync();
                }
            }
        } finally {
            closed = true;
            channel.close();
        }
    }

    /** Hands buffered bytes to the kernel without fsync: what a process crash (not a power loss) keeps. */
    void flush() throws IOException {
        ensureUsable();
        try {
            flushBuffer();
        } catch (IOException e) {
            throw fail(e);
        }
    }

    // ---- positions and metrics ---------------------------------------------------------------

    public WalPosition appendedPosition() {
        return new WalPosition(activeSequence, appendOffset);
    }

    public WalPosition syncedPosition() {
        return new WalPosition(activeSequence, syncedOffset);
    }

    /** Data fsyncs (fdatasync) since open, including the ones of rotations and recovery. */
    public long fsyncCount() {
        return fsyncCount;
    }

    /** Directory fsyncs since open: one per segment created or batch of segments deleted. */
    public long directorySyncCount() {
        return directorySyncCount;
    }

    /** Bytes appended since open, framing, checkpoints and synced-through records included. */
    public long appendedBytes() {
        return appendedBytes;
    }

    public long appendedRecordCount() {
        return appendedRecordCount;
    }

    /** Segments on disk: the sealed ones and the active one. */
    public int segmentCount() {
        return sealed.size() + 1;
    }

    public long segmentsCreatedCount() {
        return segmentsCreatedCount;
    }

    public long segmentsDeletedCount() {
        return segmentsDeletedCount;
    }

    public Path directory() {
        return dir;
    }

    public WalOptions options() {
        return options;
    }

    // ---- writing -----------------------------------------------------------------------------

    private void checkRecordBytes(long groupId, String kind, long payloadBytes) {
        long recordBytes = WalCodec.FRAME_HEADER_BYTES + payloadBytes;
        if (recordBytes > options.recordBytesMax()) {
            throw new WalRecordTooLargeException(groupId, kind, recordBytes, options.recordBytesMax());
        }
    }

    private void writeRecord(ByteBuffer framed) throws IOException {
        int bytes = framed.remaining();
        boolean claim = syncedOffset > claimedOffset;
        long needed = bytes + (claim ? WalCodec.SYNCED_THROUGH_RECORD_BYTES : 0);
        // A fresh segment takes any record, growing past its preallocation if it must; rotating
        // again would loop forever on a record bigger than a segment.
        if (appendOffset + needed > options.segmentBytesMax() && appendOffset > checkpointEndOffset) {
            rotate();
            claim = syncedOffset > claimedOffset;
        }
        if (claim) {
            // vouch for what is durable, so that recovery can tell damage to it from a torn tail
            put(WalCodec.syncedThroughRecord(syncedOffset));
            claimedOffset = syncedOffset;
        }
        put(framed);
    }

    private void put(ByteBuffer framed) throws IOException {
        int bytes = framed.remaining();
        if (bytes > writeBuffer.remaining()) {
            flushBuffer();
        }
        if (bytes > writeBuffer.capacity()) {
            writeFully(framed, appendOffset);
            flushedOffset = appendOffset + bytes;
        } else {
            writeBuffer.put(framed);
        }
        appendOffset += bytes;
        appendedBytes += bytes;
        appendedRecordCount++;
    }

    private void flushBuffer() throws IOException {
        if (writeBuffer.position() == 0) {
            return;
        }
        writeBuffer.flip();
        int bytes = writeBuffer.remaining();
        writeFully(writeBuffer, flushedOffset);
        writeBuffer.clear();
        flushedOffset += bytes;
        check(flushedOffset == appendOffset, "a flush hands every appended byte to the kernel: %d != %d",
                flushedOffset, appendOffset);
    }

    private void writeFully(ByteBuffer b, long offset) throws IOException {
        while (b.hasRemaining()) {
            offset += channel.write(b, offset);
        }
    }

    /**
     * Seals the active segment and starts the next one. The old segment is fsynced first, and the
     * new one's header and checkpoint are fsynced (with the directory) before any record follows
     * them: recovery relies on sealed segments being wholly durable and on a checkpoint being
     * durable before the segments it replaces are deleted.
     */
    private void rotate() throws IOException {
        flushBuffer();
        if (flushedOffset > syncedOffset) {
            channel.force(false);
            fsyncCount++;
            syncedOffset = flushedOffset;
        }
        channel.close();
        sealed.addLast(new SealedSegment(activeSequence, activePath, activeMaxEntryIndexByGroup));
        createSegment(activeSequence + 1);
    }

    private void createSegment(long sequence) throws IOException {
        Path path = dir.resolve(WalReplay.segmentFileName(sequence));
        FileChannel created = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        channel = created;
        activeSequence = sequence;
        activePath = path;
        activeMaxEntryIndexByGroup = new HashMap<>();
        // Fixing the size up front means an fdatasync after an append need not also log a size
        // change. Java has no fallocate, so the file is sparse: blocks are still allocated on write.
        preallocate(created, options.segmentBytesMax());
        Map<Long, WalRecord.GroupCheckpoint> checkpoint = new TreeMap<>();
        groups.forEach((id, g) -> checkpoint.put(id, g.checkpoint()));
        ByteBuffer framed = WalCodec.frame(WalCodec.TYPE_CHECKPOINT, (int) checkpointPayloadBytes,
                b -> WalCodec.putCheckpoint(b, checkpoint));
        ByteBuffer header = WalCodec.segmentHeader(sequence);
        writeFully(header, 0);
        writeFully(framed, WalCodec.SEGMENT_HEADER_BYTES);
        long end = WalCodec.SEGMENT_HEADER_BYTES + (long) framed.capacity();
        created.force(false);
        fsyncCount++;
        syncDirectory();
        segmentsCreatedCount++;
        appendedBytes += end;
        appendedRecordCount++;
        appendOffset = end;
        flushedOffset = end;
        syncedOffset = end;
        claimedOffset = 0;
        checkpointEndOffset = end;
    }

    private static void preallocate(FileChannel c, long bytes) throws IOException {
        ByteBuffer zero = ByteBuffer.allocate(1);
        while (zero.hasRemaining()) {
            c.write(zero, bytes - 1);
        }
    }

    private int deleteObsoleteSegments() throws IOException {
        int deleted = 0;
        // only a prefix: the oldest kept segment's checkpoint stands for all deleted ones
        while (!sealed.isEmpty() && isObsolete(sealed.peekFirst())) {
            Files.delete(sealed.removeFirst().path());
            deleted++;
            segmentsDeletedCount++;
        }
        if (deleted > 0) {
            syncDirectory();
        }
        return deleted;
    }

    private boolean isObsolete(SealedSegment s) {
        for (var e : s.maxEntryIndexByGroup().entrySet()) {
            GroupState g = groups.get(e.getKey());
            if (s.sequence() < g.durableInstallSegment) {
                continue; // a durable installed snapshot after this segment discarded all its entries
            }
            if (g.durableSnapshotIndex < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Makes the creation or deletion of a segment file durable (its directory entry). */
    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
        directorySyncCount++;
    }

    private void ensureUsable() {
        if (closed) {
            throw new IllegalStateException("WAL_CLOSED: the log is closed");
        }
        if (failure != null) {
            throw new IllegalStateException("WAL_FAILED: an earlier write or fsync failed; reopen to recover", failure);
        }
    }

    private IOException fail(IOException e) {
        failure = e;
        return e;
    }

    private void closeChannelQuietly(Exception cause) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                cause.addSuppressed(suppressed);
            }
        }
    }
}
