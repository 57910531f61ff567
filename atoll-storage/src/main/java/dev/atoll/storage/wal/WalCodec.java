package dev.atoll.storage.wal;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.Membership;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The on-disk format, version {@value #FORMAT_VERSION}: segment headers, record framing and
 * payloads, all big-endian. Hand-written on ByteBuffer so the log has no dependency; the segment
 * header's format version lets a later version move payloads to protobuf.
 *
 * <pre>
 * segment header (32 bytes): magic u32 "ATLW" | format version u16 | 0 u16 | sequence u64
 *                            | 0 (12 bytes) | crc32c u32 of the 28 bytes before it
 * record:                    length u32 (payload bytes) | crc32c u32 of type+payload | type u8 | payload
 *
 * payloads, by type:
 * 1 entries        group u64 | first index u64 | count u32 | count x (term u64 | kind u8 | data length u32 | data)
 * 2 hard state     group u64 | hardstate
 * 3 snapshot       group u64 | snapshot: a local compaction; the group's entries above it stay
 * 4 checkpoint     group count u32 | count x (group u64 | hardstate | snapshot), ascending group ids
 * 5 synced-through offset u64: this segment was fsynced through offset before this record was written
 * 6 installed      group u64 | snapshot: a snapshot installed from the leader. Every entry of the
 *   snapshot       group written before it is discarded, whatever its index (a deposed leader's
 *                  entries must not come back), then the snapshot is set as by type 3
 *
 * hardstate = term u64 | commit u64 | vote node
 * snapshot  = index u64 | term u64 | voter count u32 | voters node... | learner count u32 | learners node...
 * node      = length u16 (0: none) | UTF-8 bytes
 * </pre>
 *
 * Version 1 gained type 6 without a bump because no version 1 log existed outside tests yet. From
 * now on a new type needs a new version: a reader that predates a type takes its first record for
 * a torn tail and would silently drop it and everything after it.
 *
 * <p>A record never spans segments. Preallocated space is zeros, and a zero frame header never has
 * a valid type or checksum, so the end of the written part needs no marker.
 */
final class WalCodec {
    static final short FORMAT_VERSION = 1;
    static final int SEGMENT_MAGIC = 0x41544C57; // "ATLW"
    static final int SEGMENT_HEADER_BYTES = 32;
    static final int FRAME_HEADER_BYTES = 9;

    static final byte TYPE_ENTRIES = 1;
    static final byte TYPE_HARD_STATE = 2;
    static final byte TYPE_SNAPSHOT = 3;
    static final byte TYPE_CHECKPOINT = 4;
    static final byte TYPE_SYNCED_THROUGH = 5;
    static final byte TYPE_SNAPSHOT_INSTALL = 6;
    /** The highest type this version writes; a frame with a higher type is not a record. */
    static final byte TYPE_MAX = TYPE_SNAPSHOT_INSTALL;
    static final int SYNCED_THROUGH_RECORD_BYTES = FRAME_HEADER_BYTES + 8;

    /** A node id is written with a u16 length. */
    static final int NODE_ID_BYTES_MAX = 0xFFFF;

    private WalCodec() {
    }

    // ---- segment header ------------------------------------------------------------------

    static ByteBuffer segmentHeader(long sequence) {
        ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER_BYTES);
        b.putInt(SEGMENT_MAGIC).putShort(FORMAT_VERSION).putShort((short) 0).putLong(sequence);
        b.position(SEGMENT_HEADER_BYTES - 4);
        b.putInt(crc(b.array(), 0, SEGMENT_HEADER_BYTES - 4));
        return b.flip();
    }

    /** The header's fields once its magic and checksum are right, else null (torn or damaged). */
    static SegmentHeader readSegmentHeader(byte[] data, int length) {
        if (length < SEGMENT_HEADER_BYTES) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, SEGMENT_HEADER_BYTES);
        if (b.getInt(0) != SEGMENT_MAGIC || b.getInt(SEGMENT_HEADER_BYTES - 4) != crc(data, 0, SEGMENT_HEADER_BYTES - 4)) {
            return null;
        }
        return new SegmentHeader(b.getShort(4), b.getLong(8));
    }

    record SegmentHeader(short formatVersion, long sequence) {
    }

    // ---- framing -------------------------------------------------------------------------

    /** A framed record: the payload written by {@code payload}, which must write exactly {@code payloadBytes}. */
    static ByteBuffer frame(byte type, int payloadBytes, Consumer<ByteBuffer> payload) {
        ByteBuffer b = ByteBuffer.allocate(FRAME_HEADER_BYTES + payloadBytes);
        b.putInt(payloadBytes).putInt(0).put(type);
        payload.accept(b);
        check(b.position() == b.capacity(), "a payload fills exactly its computed size: wrote %d of %d",
                b.position() - FRAME_HEADER_BYTES, payloadBytes);
        b.putInt(4, crc(b.array(), 8, FRAME_HEADER_BYTES - 8 + payloadBytes));
        return b.flip();
    }

    /**
     * The framed size of a well-formed record at {@code offset} (length in bounds, known type,
     * checksum right), or -1. Cheap tests first: recovery calls this at every byte of a damaged tail.
     */
    static int validFrameBytes(byte[] data, int offset, int end) {
        if (end - offset < FRAME_HEADER_BYTES) {
            return -1;
        }
        byte type = data[offset + 8];
        if (type < TYPE_ENTRIES || type > TYPE_MAX) {
            return -1;
        }
        long payloadBytes = Integer.toUnsignedLong(getInt(data, offset));
        long frameBytes = FRAME_HEADER_BYTES + payloadBytes;
        if (frameBytes > WalOptions.RECORD_BYTES_LIMIT || frameBytes > end - offset) {
            return -1;
        }
        int stored = getInt(data, offset + 4);
        return crc(data, offset + 8, (int) frameBytes - 8) == stored ? (int) frameBytes : -1;
    }

    static int getInt(byte[] data, int offset) {
        return (data[offset] & 0xFF) << 24 | (data[offset + 1] & 0xFF) << 16 | (data[offset + 2] & 0xFF) << 8
                | (data[offset + 3] & 0xFF);
    }

    static long getLong(byte[] data, int offset) {
        return (long) getInt(data, offset) << 32 | Integer.toUnsignedLong(getInt(data, offset + 4));
    }

    static int crc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return (int) crc.getValue();
    }

    // ---- payloads: sizes (as long, so a huge batch cannot overflow before it is refused) ----

    static long entriesPayloadBytes(List<Entry> entries) {
        long bytes = 8 + 8 + 4;
        for (Entry e : entries) {
            bytes += 8 + 1 + 4 + e.data().length;
        }
        return bytes;
    }

    static long hardStatePayloadBytes(HardState hs) {
        return 8 + hardStateBytes(hs);
    }

    static long snapshotPayloadBytes(SnapshotMeta s) {
        return 8 + snapshotBytes(s);
    }

    /** Bytes one group adds to a checkpoint payload. */
    static long checkpointGroupBytes(HardState hs, SnapshotMeta s) {
        return 8 + hardStateBytes(hs) + snapshotBytes(s);
    }

    static final int CHECKPOINT_FIXED_BYTES = 4;

    private static long hardStateBytes(HardState hs) {
        return 8 + 8 + nodeIdBytes(hs.vote());
    }

    private static long snapshotBytes(SnapshotMeta s) {
        long bytes = 8 + 8 + 4 + 4;
        for (NodeId n : s.membership().voters()) {
            bytes += nodeIdBytes(n);
        }
        for (NodeId n : s.membership().learners()) {
            bytes += nodeIdBytes(n);
        }
        return bytes;
    }

    private static long nodeIdBytes(NodeId id) {
        return 2 + (id == null ? 0 : utf8(id).length);
    }

    // ---- payloads: encoding --------------------------------------------------------------

    static void putEntries(ByteBuffer b, long groupId, List<Entry> entries) {
        b.putLong(groupId).putLong(entries.get(0).index()).putInt(entries.size());
        for (Entry e : entries) {
            b.putLong(e.term()).put(kindCode(e.kind())).putInt(e.data().length).put(e.data());
        }
    }

    static void putHardStateRecord(ByteBuffer b, long groupId, HardState hs) {
        b.putLong(groupId);
        putHardState(b, hs);
    }

    /** The payload of a snapshot record, type 3 or 6: the same layout, the type says which kind. */
    static void putSnapshotRecord(ByteBuffer b, long groupId, SnapshotMeta s) {
        b.putLong(groupId);
        putSnapshot(b, s);
    }

    static void putCheckpoint(ByteBuffer b, Map<Long, WalRecord.GroupCheckpoint> groups) {
        b.putInt(groups.size());
        groups.forEach((groupId, g) -> {
            b.putLong(groupId);
            putHardState(b, g.hardState());
            putSnapshot(b, g.snapshot());
        });
    }

    static ByteBuffer syncedThroughRecord(long offset) {
        return frame(TYPE_SYNCED_THROUGH, 8, b -> b.putLong(offset));
    }

    private static void putHardState(ByteBuffer b, HardState hs) {
        b.putLong(hs.term()).putLong(hs.commit());
        putNodeId(b, hs.vote());
    }

    private static void putSnapshot(ByteBuffer b, SnapshotMeta s) {
        b.putLong(s.index()).putLong(s.term());
        // sorted so that equal memberships encode to equal bytes
        TreeSet<NodeId> voters = new TreeSet<>(s.membership().voters());
        b.putInt(voters.size());
        voters.forEach(n -> putNodeId(b, n));
        TreeSet<NodeId> learners = new TreeSet<>(s.membership().learners());
        b.putInt(learners.size());
        learners.forEach(n -> putNodeId(b, n));
    }

    /** Length 0 is "no node": a NodeId is never empty. */
    private static void putNodeId(ByteBuffer b, NodeId id) {
        if (id == null) {
            b.putShort((short) 0);
            return;
        }
        byte[] bytes = utf8(id);
        b.putShort((short) bytes.length).put(bytes);
    }

    static void checkNodeIds(long groupId, HardState hs, SnapshotMeta s) {
        List<NodeId> ids = new ArrayList<>();
        if (hs != null && hs.vote() != null) {
            ids.add(hs.vote());
        }
        if (s != null) {
            ids.addAll(s.membership().voters());
            ids.addAll(s.membership().learners());
        }
        for (NodeId id : ids) {
            checkArgument(utf8(id).length <= NODE_ID_BYTES_MAX, "group %d: a node id is at most %d bytes: %s",
                    groupId, NODE_ID_BYTES_MAX, id);
        }
    }

    private static byte[] utf8(NodeId id) {
        return id.value().getBytes(StandardCharsets.UTF_8);
    }

    private static byte kindCode(Entry.Kind kind) {
        // explicit codes: reordering the enum must not change the format
        return switch (kind) {
            case COMMAND -> 0;
            case NOOP -> 1;
            case MEMBERSHIP -> 2;
        };
    }

    private static Entry.Kind kind(byte code) {
        return switch (code) {
            case 0 -> Entry.Kind.COMMAND;
            case 1 -> Entry.Kind.NOOP;
            case 2 -> Entry.Kind.MEMBERSHIP;
            default -> throw new IllegalArgumentException("unknown entry kind " + code);
        };
    }

    // ---- payloads: decoding --------------------------------------------------------------

    /**
     * Decodes the record framed at {@code offset} (already checked by {@link #validFrameBytes}).
     * Throws IllegalArgumentException (or a BufferUnderflowException) on a payload that does not
     * make sense: with a matching checksum that is corruption or a bug, never a torn write.
     */
    static WalRecord decode(byte[] data, int offset, int frameBytes) {
        byte type = data[offset + 8];
        ByteBuffer b = ByteBuffer.wrap(data, offset + FRAME_HEADER_BYTES, frameBytes - FRAME_HEADER_BYTES).slice();
        WalRecord record = switch (type) {
            case TYPE_ENTRIES -> decodeEntries(b);
            case TYPE_HARD_STATE -> new WalRecord.HardStateSet(b.getLong(), getHardState(b));
            case TYPE_SNAPSHOT -> new WalRecord.SnapshotSet(b.getLong(), getSnapshot(b));
            case TYPE_CHECKPOINT -> decodeCheckpoint(b);
            case TYPE_SYNCED_THROUGH -> new WalRecord.SyncedThrough(b.getLong());
            case TYPE_SNAPSHOT_INSTALL -> new WalRecord.SnapshotInstall(b.getLong(), getSnapshot(b));
            default -> throw new IllegalArgumentException("unknown record type " + type);
        };
        checkArgument(!b.hasRemaining(), "record type %d has %d bytes after its payload", type, b.remaining());
        return record;
    }

    private static WalRecord.Entries decodeEntries(ByteBuffer b) {
        long groupId = b.getLong();
        long firstIndex = b.getLong();
        int count = b.getInt();
        // each entry takes at least 13 bytes: a count beyond that is damage, not a reason to allocate
        checkArgument(count > 0 && count <= b.remaining() / 13, "entry count %d does not fit the payload", count);
        List<Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long term = b.getLong();
            Entry.Kind kind = kind(b.get());
            int dataBytes = b.getInt();
            checkArgument(dataBytes >= 0 && dataBytes <= b.remaining(), "entry data of %d bytes does not fit", dataBytes);
            byte[] entryData = new byte[dataBytes];
            b.get(entryData);
            entries.add(new Entry(firstIndex + i, term, kind, entryData));
        }
        return new WalRecord.Entries(groupId, List.copyOf(entries));
    }

    private static WalRecord.Checkpoint decodeCheckpoint(ByteBuffer b) {
        int count = b.getInt();
        checkArgument(count >= 0 && count <= b.remaining() / 8, "checkpoint group count %d does not fit", count);
        Map<Long, WalRecord.GroupCheckpoint> groups = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            long groupId = b.getLong();
            var previous = groups.put(groupId, new WalRecord.GroupCheckpoint(getHardState(b), getSnapshot(b)));
            checkArgument(previous == null, "checkpoint lists group %d twice", groupId);
        }
        return new WalRecord.Checkpoint(groups);
    }

    private static HardState getHardState(ByteBuffer b) {
        long term = b.getLong();
        long commit = b.getLong();
        return new HardState(term, getNodeId(b), commit);
    }

    private static SnapshotMeta getSnapshot(ByteBuffer b) {
        long index = b.getLong();
        long term = b.getLong();
        List<NodeId> voters = getNodeIds(b);
        List<NodeId> learners = getNodeIds(b);
        return new SnapshotMeta(index, term, new Membership(java.util.Set.copyOf(voters), java.util.Set.copyOf(learners)));
    }

    private static List<NodeId> getNodeIds(ByteBuffer b) {
        int count = b.getInt();
        checkArgument(count >= 0 && count <= b.remaining() / 2, "node count %d does not fit", count);
        List<NodeId> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            NodeId id = getNodeId(b);
            checkArgument(id != null, "a member is never an empty node id");
            ids.add(id);
        }
        return ids;
    }

    private static NodeId getNodeId(ByteBuffer b) {
        int length = Short.toUnsignedInt(b.getShort());
        if (length == 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new NodeId(new String(bytes, StandardCharsets.UTF_8));
    }
}
