package dev.atoll.storage.wal;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.PersistentState;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads every segment of a log directory, checks it and replays its records into each group's
 * state. Reads only: the repairs it decides (zero a torn tail, drop a torn new segment) are
 * carried out by {@link Wal#open}.
 *
 * <p>Rules. Segments are numbered without gaps and each starts with a checkpoint. A sealed (not
 * last) segment is wholly valid: after its last record come only zeros. In the last segment the
 * first bad record starts the tail; the tail is torn (a crash, dropped) unless a valid
 * synced-through record after it proves that the bad record had been fsynced, which is
 * corruption. A last segment without a valid header and checkpoint is a rotation cut by a crash
 * and is dropped, unless it is the only segment left after deletions.
 */
final class WalReplay {
    private static final Pattern SEGMENT_NAME = Pattern.compile("wal-([0-9a-f]{16})\\.log");

    /** A segment as the scan found it. */
    record ScannedSegment(long sequence, Path path, long validEndOffset, long checkpointEndOffset,
                          Map<Long, Long> maxEntryIndexByGroup, long fileBytes,
                          long tailNonZeroEndOffset) {
    }

    /** What recovery found: the kept segments (oldest first), the groups, and what was dropped. */
    record Outcome(List<ScannedSegment> segments, Path discardedSegment, long discardedSequence,
                   Map<Long, GroupReplay> groups, long droppedBytes, long recordCount) {
    }

    static String segmentFileName(long sequence) {
        return String.format("wal-%016x.log", sequence);
    }

    /** A group's state while replaying. */
    static final class GroupReplay {
        HardState hardState = HardState.EMPTY;
        SnapshotMeta snapshot = SnapshotMeta.NONE;
        final ArrayList<Entry> entries = new ArrayList<>();
        /** Sequence of the segment holding the group's last installed-snapshot record, or -1. */
        long installSegment = -1;
        Path gapFile;
        long gapOffset;

        long lastIndex() {
            return entries.isEmpty() ? snapshot.index() : entries.get(entries.size() - 1).index();
        }

        PersistentState toPersistentState() {
            return new PersistentState(hardState, snapshot.toSnapshot(), entries);
        }
    }

    private final Map<Long, GroupReplay> groups = new TreeMap<>();
    private boolean baselineSet;
    private long recordCount;

    static Outcome replay(Path dir) throws IOException {
        return new WalReplay().run(dir);
    }

    private Outcome run(Path dir) throws IOException {
        TreeMap<Long, Path> files = new TreeMap<>();
        try (var listing = Files.list(dir)) {
            for (Path p : (Iterable<Path>) listing::iterator) {
                Matcher m = SEGMENT_NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    files.put(Long.parseUnsignedLong(m.group(1), 16), p);
                }
            }
        }
        List<ScannedSegment> segments = new ArrayList<>();
        Path discarded = null;
        long discardedSequence = -1;
        long droppedBytes = 0;
        Long previous = null;
        for (var e : files.entrySet()) {
            if (previous != null && e.getKey() != previous + 1) {
                throw corrupt(e.getValue(), 0, String.format("segment %016x is missing", previous + 1));
            }
            previous = e.getKey();
        }
        int i = 0;
        for (var e : files.entrySet()) {
            boolean last = ++i == files.size();
            long sequence = e.getKey();
            Path path = e.getValue();
            long size = Files.size(path);
            if (size > WalOptions.SEGMENT_BYTES_LIMIT + 2L * WalOptions.RECORD_BYTES_LIMIT) {
                throw corrupt(path, 0, "segment of " + size + " bytes is larger than any this format writes");
            }
            byte[] data = Files.readAllBytes(path);
            ScannedSegment s = scan(sequence, path, data, last, !segments.isEmpty() || sequence == 0);
            if (s == null) {
                discarded = path;
                discardedSequence = sequence;
                droppedBytes += lastNonZeroEnd(data, 0, data.length);
            } else {
                segments.add(s);
                droppedBytes += s.tailNonZeroEndOffset() - s.validEndOffset();
            }
        }
        for (var g : groups.entrySet()) {
            GroupReplay r = g.getValue();
            if (!r.entries.isEmpty() && r.entries.get(0).index() != r.snapshot.index() + 1) {
                throw corrupt(r.gapFile, r.gapOffset, String.format(
                        "group %d: entries resume at %d after snapshot %d, the entries between are lost",
                        g.getKey(), r.entries.get(0).index(), r.snapshot.index()));
            }
        }
        return new Outcome(segments, discarded, discardedSequence, groups, droppedBytes, recordCount);
    }

    /**
     * Scans and replays one segment. Returns null for a last segment that a crash cut during its
     * creation (no valid header or checkpoint, nothing proving it durable, and an older segment
     * or a fresh log to fall back on).
     */
    private ScannedSegment scan(long sequence, Path path, byte[] data, boolean last, boolean canFallBack)
            throws WalCorruptedException {
        int end = data.length;
        WalCodec.SegmentHeader header = WalCodec.readSegmentHeader(data, end);
        if (header == null) {
            return tornNewSegment(path, data, last, canFallBack, "segment header is damaged");
        }
        if (header.formatVersion() != WalCodec.FORMAT_VERSION) {
            throw new WalCorruptedException(WalCorruptedException.CODE_UNSUPPORTED_FORMAT, path, 4,
                    "segment format version " + header.formatVersion() + ", this build reads " + WalCodec.FORMAT_VERSION);
        }
        if (header.sequence() != sequence) {
            throw corrupt(path, 8, String.format("header says sequence %016x", header.sequence()));
        }
        Map<Long, Long> maxEntryIndexByGroup = new HashMap<>();
        int offset = WalCodec.SEGMENT_HEADER_BYTES;
        int checkpointEnd = -1;
        while (true) {
            int frameBytes = WalCodec.validFrameBytes(data, offset, end);
            if (frameBytes < 0) {
                break;
            }
            WalRecord record;
            try {
                record = WalCodec.decode(data, offset, frameBytes);
            } catch (IllegalArgumentException | BufferUnderflowException e) {
                // the checksum matched, so no crash wrote this: damage before the checksum, or a bug
                throw corrupt(path, offset, "record does not decode: " + e.getMessage());
            }
            boolean isCheckpoint = record instanceof WalRecord.Checkpoint;
            if (isCheckpoint != (checkpointEnd < 0)) {
                throw corrupt(path, offset, isCheckpoint ? "a checkpoint in the middle of a segment"
                        : "a segment must start with a checkpoint");
            }
            apply(record, path, offset);
            if (record instanceof WalRecord.Entries r) {
                maxEntryIndexByGroup.merge(r.groupId(), r.entries().get(r.entries().size() - 1).index(), Math::max);
            } else if (record instanceof WalRecord.SnapshotInstall r) {
                // the group's entries before it, here and in older segments, are discarded: they
                // pin no segment (as Wal#append tracks it)
                maxEntryIndexByGroup.remove(r.groupId());
                group(r.groupId()).installSegment = sequence;
            }
            offset += frameBytes;
            if (isCheckpoint) {
                checkpointEnd = offset;
            }
        }
        if (checkpointEnd < 0) {
            return tornNewSegment(path, data, last, canFallBack, "segment has no valid checkpoint");
        }
        int tailEnd = offset;
        if (offset < end) {
            if (!last) {
                if (lastNonZeroEnd(data, offset, end) > offset) {
                    throw corrupt(path, offset, "damaged record in a sealed segment");
                }
            } else {
                long provenSynced = maxSyncedThrough(data, offset, end);
                if (provenSynced > offset) {
                    throw corrupt(path, offset, "damaged record below offset " + provenSynced
                            + ", which a later record proves was synced");
                }
                tailEnd = lastNonZeroEnd(data, offset, end);
            }
        }
        return new ScannedSegment(sequence, path, offset, checkpointEnd, maxEntryIndexByGroup, end, tailEnd);
    }

    private ScannedSegment tornNewSegment(Path path, byte[] data, boolean last, boolean canFallBack, String reason)
            throws WalCorruptedException {
        // A rotation fsyncs header and checkpoint before any later record is written, so a crash
        // can leave them torn only in the last segment, with no synced-through record after them.
        if (!last || !canFallBack || maxSyncedThrough(data, 0, data.length) >= 0) {
            throw corrupt(path, 0, reason);
        }
        return null;
    }

    private void apply(WalRecord record, Path file, long offset) throws WalCorruptedException {
        recordCount++;
        switch (record) {
            case WalRecord.Checkpoint c -> applyCheckpoint(c, file, offset);
            case WalRecord.Entries r -> applyEntries(group(r.groupId()), r.entries(), file, offset);
            case WalRecord.HardStateSet r -> group(r.groupId()).hardState = r.hardState();
            case WalRecord.SnapshotSet r -> applySnapshot(r.groupId(), group(r.groupId()), r.snapshot(), file, offset);
            case WalRecord.SnapshotInstall r -> applySnapshotInstall(r.groupId(), group(r.groupId()), r.snapshot(),
                    file, offset);
            case WalRecord.SyncedThrough r -> {
                // only read when judging a damaged tail
            }
        }
    }

    private void applyCheckpoint(WalRecord.Checkpoint c, Path file, long offset) throws WalCorruptedException {
        if (!baselineSet) {
            // the oldest kept segment: its checkpoint stands for every deleted segment before it
            baselineSet = true;
            for (var g : c.groups().entrySet()) {
                GroupReplay r = group(g.getKey());
                r.hardState = g.getValue().hardState();
                r.snapshot = g.getValue().snapshot();
            }
            return;
        }
        // A later checkpoint repeats what the records before it built; a difference is damage.
        if (c.groups().size() != groups.size()) {
            throw corrupt(file, offset, "checkpoint lists " + c.groups().size() + " groups, the log before it has "
                    + groups.size());
        }
        for (var g : c.groups().entrySet()) {
            GroupReplay r = groups.get(g.getKey());
            if (r == null || !r.hardState.equals(g.getValue().hardState()) || !r.snapshot.equals(g.getValue().snapshot())) {
                throw corrupt(file, offset, "checkpoint disagrees with the records before it for group " + g.getKey());
            }
        }
    }

    private static void applyEntries(GroupReplay r, List<Entry> batch, Path file, long offset) {
        int skip = 0;
        while (skip < batch.size() && batch.get(skip).index() <= r.snapshot.index()) {
            skip++; // entries at or below the snapshot are obsolete
        }
        if (skip == batch.size()) {
            return;
        }
        long first = batch.get(skip).index();
        if (!r.entries.isEmpty() && first >= r.entries.get(0).index() && first <= r.lastIndex() + 1) {
            // truncation on conflict: the batch replaces everything from its first index on
            r.entries.subList((int) (first - r.entries.get(0).index()), r.entries.size()).clear();
        } else {
            r.entries.clear();
            if (first != r.snapshot.index() + 1) {
                // legitimate only if the entries before it sat in deleted segments, in which case a
                // later snapshot record covers them; checked once every record is replayed
                r.gapFile = file;
                r.gapOffset = offset;
            }
        }
        r.entries.addAll(batch.subList(skip, batch.size()));
    }

    private static void applySnapshot(long groupId, GroupReplay r, SnapshotMeta s, Path file, long offset)
            throws WalCorruptedException {
        checkSnapshotGoesForward(groupId, r, s, file, offset);
        r.snapshot = s;
        if (r.entries.isEmpty()) {
            return;
        }
        long first = r.entries.get(0).index();
        if (r.lastIndex() <= s.index()) {
            r.entries.clear();
        } else if (first <= s.index()) {
            r.entries.subList(0, (int) (s.index() - first + 1)).clear();
        }
    }

    /**
     * A snapshot from the leader replaces the whole log: the group's entries above it may be a
     * deposed leader's and conflict with the leader's log, so none of them survives.
     */
    private static void applySnapshotInstall(long groupId, GroupReplay r, SnapshotMeta s, Path file, long offset)
            throws WalCorruptedException {
        checkSnapshotGoesForward(groupId, r, s, file, offset);
        r.snapshot = s;
        r.entries.clear();
    }

    private static void checkSnapshotGoesForward(long groupId, GroupReplay r, SnapshotMeta s, Path file, long offset)
            throws WalCorruptedException {
        if (s.index() < r.snapshot.index()) {
            throw corrupt(file, offset, "group " + groupId + ": snapshot " + s.index() + " after snapshot "
                    + r.snapshot.index());
        }
    }

    private GroupReplay group(long groupId) {
        return groups.computeIfAbsent(groupId, id -> new GroupReplay());
    }

    /**
     * The largest offset a valid synced-through record in {@code [from, end)} vouches for, or -1.
     * Record boundaries are lost after damage, so every byte offset is tried.
     */
    static long maxSyncedThrough(byte[] data, int from, int end) {
        long max = -1;
        int offset = from;
        while (offset < end) {
            int frameBytes = WalCodec.validFrameBytes(data, offset, end);
            if (frameBytes < 0) {
                offset++;
                continue;
            }
            if (data[offset + 8] == WalCodec.TYPE_SYNCED_THROUGH && frameBytes == WalCodec.SYNCED_THROUGH_RECORD_BYTES) {
                max = Math.max(max, WalCodec.getLong(data, offset + WalCodec.FRAME_HEADER_BYTES));
            }
            offset += frameBytes;
        }
        return max;
    }

    /** One past the last non-zero byte in {@code [from, end)}, or {@code from} when all are zero. */
    static int lastNonZeroEnd(byte[] data, int from, int end) {
        for (int i = end - 1; i >= from; i--) {
            if (data[i] != 0) {
                return i + 1;
            }
        }
        return from;
    }

    private static WalCorruptedException corrupt(Path file, long offset, String reason) {
        return new WalCorruptedException(WalCorruptedException.CODE_CORRUPT, file, offset, reason);
    }
}
