package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary form of {@link ShardCommand}s (what a shard group's log entries hold) and of
 * {@link ShardSnapshot}s (what its Raft snapshots hold). Big-endian, length-prefixed, a format
 * byte first. Decoding checks every length against what is left and every value against its
 * record's rules: bad bytes throw {@link MalformedShardData}, never anything else.
 */
public final class ShardCodec {
    /** The format byte; a new layout gets a new one. Format 2 adds data moves; format 1 still decodes. */
    static final byte FORMAT = 2;
    private static final byte FORMAT_BEFORE_MOVES = 1;
    private static final int KEYS_SLOTS = 1;
    private static final int KEYS_RANGE = 2;
    private static final int KEYS_HASHED_RANGE = 3;
    private static final int MOVES_MAX = 4096;
    private static final int SPAN_RANGE = 1;
    private static final int SPAN_SLOTS = 2;
    private static final int SLOT_RANGES_MAX = 65536;

    private ShardCodec() {
    }

    private enum Tag { PUT, DELETE, GET, SCAN, SPLIT, PREPARE_MERGE, COMMIT_MERGE, HAND_OFF, RECEIVE, TAKE_OVER, RELEASE }

    public static byte[] encode(ShardCommand command) {
        var w = new Writer();
        w.u8(FORMAT);
        Tag tag = switch (command) {
            case ShardCommand.Put c -> Tag.PUT;
            case ShardCommand.Delete c -> Tag.DELETE;
            case ShardCommand.Get c -> Tag.GET;
            case ShardCommand.Scan c -> Tag.SCAN;
            case ShardCommand.Split c -> Tag.SPLIT;
            case ShardCommand.PrepareMerge c -> Tag.PREPARE_MERGE;
            case ShardCommand.CommitMerge c -> Tag.COMMIT_MERGE;
            case ShardCommand.HandOff c -> Tag.HAND_OFF;
            case ShardCommand.Receive c -> Tag.RECEIVE;
            case ShardCommand.TakeOver c -> Tag.TAKE_OVER;
            case ShardCommand.Release c -> Tag.RELEASE;
        };
        w.u8(tag.ordinal());
        w.i64(command.shard().value());
        epoch(w, command.epoch());
        switch (command) {
            case ShardCommand.Put c -> {
                w.bytes(c.key().toBytes());
                w.bytes(c.value());
            }
            case ShardCommand.Delete c -> w.bytes(c.key().toBytes());
            case ShardCommand.Get c -> w.bytes(c.key().toBytes());
            case ShardCommand.Scan c -> {
                w.bytes(c.range().start().toBytes());
                boundary(w, c.range().end());
                w.i32(c.limit());
            }
            case ShardCommand.Split c -> {
                switch (c.at()) {
                    case SplitPoint.AtKey k -> {
                        w.u8(SPAN_RANGE);
                        w.bytes(k.key().toBytes());
                    }
                    case SplitPoint.AtSlot s -> {
                        w.u8(SPAN_SLOTS);
                        w.i32(s.slot());
                    }
                }
                w.i64(c.child().value());
            }
            case ShardCommand.PrepareMerge c -> {
                w.i64(c.target().value());
                epoch(w, c.targetEpoch());
            }
            case ShardCommand.CommitMerge c -> {
                epoch(w, c.sourceEpoch());
                snapshot(w, c.source());
            }
            case ShardCommand.HandOff c -> {
                epoch(w, c.next());
                handoffs(w, c.handoffs());
            }
            case ShardCommand.Receive c -> {
                epoch(w, c.next());
                intakes(w, c.intakes());
            }
            case ShardCommand.TakeOver c -> {
                w.i64(c.relocation());
                w.i64(c.source().value());
                w.bytes(c.from().toBytes());
                boundary(w, c.resumeAt());
                rows(w, c.rows());
            }
            case ShardCommand.Release c -> w.i64(c.relocation());
        }
        return w.toArray();
    }

    public static ShardCommand decodeCommand(byte[] data) {
        var r = new Reader(data);
        try {
            r.format();
            int t = r.u8();
            if (t >= Tag.values().length) {
                throw new MalformedShardData("unknown command tag " + t);
            }
            ShardId shard = ShardId.of(r.i64());
            ShardEpoch epoch = epoch(r);
            ShardCommand c = switch (Tag.values()[t]) {
                case PUT -> new ShardCommand.Put(shard, epoch, Key.of(r.bytes()), r.bytes());
                case DELETE -> new ShardCommand.Delete(shard, epoch, Key.of(r.bytes()));
                case GET -> new ShardCommand.Get(shard, epoch, Key.of(r.bytes()));
                case SCAN -> new ShardCommand.Scan(shard, epoch, new KeyRange(Key.of(r.bytes()), boundary(r)), r.i32());
                case SPLIT -> {
                    int kind = r.u8();
                    SplitPoint at = switch (kind) {
                        case SPAN_RANGE -> new SplitPoint.AtKey(Key.of(r.bytes()));
                        case SPAN_SLOTS -> new SplitPoint.AtSlot(r.i32());
                        default -> throw new MalformedShardData("unknown split point kind " + kind);
                    };
                    yield new ShardCommand.Split(shard, epoch, at, ShardId.of(r.i64()));
                }
                case PREPARE_MERGE -> new ShardCommand.PrepareMerge(shard, epoch, ShardId.of(r.i64()), epoch(r));
                case COMMIT_MERGE -> new ShardCommand.CommitMerge(shard, epoch, epoch(r), snapshot(r));
                case HAND_OFF -> new ShardCommand.HandOff(shard, epoch, epoch(r), handoffs(r));
                case RECEIVE -> new ShardCommand.Receive(shard, epoch, epoch(r), intakes(r));
                case TAKE_OVER -> {
                    long relocation = r.i64();
                    ShardId source = ShardId.of(r.i64());
                    Key from = Key.of(r.bytes());
                    Key resumeAt = boundary(r);
                    yield new ShardCommand.TakeOver(shard, epoch, relocation, source, from, rows(r), resumeAt);
                }
                case RELEASE -> new ShardCommand.Release(shard, epoch, r.i64());
            };
            r.end();
            return c;
        } catch (IllegalArgumentException e) {
            throw e instanceof MalformedShardData m ? m : new MalformedShardData(e.getMessage());
        }
    }

    public static byte[] encode(ShardSnapshot snapshot) {
        var w = new Writer();
        w.u8(FORMAT);
        snapshot(w, snapshot);
        return w.toArray();
    }

    public static ShardSnapshot decodeSnapshot(byte[] data) {
        var r = new Reader(data);
        try {
            r.format();
            ShardSnapshot s = snapshot(r);
            r.end();
            return s;
        } catch (IllegalArgumentException e) {
            throw e instanceof MalformedShardData m ? m : new MalformedShardData(e.getMessage());
        }
    }

    /** The binary form of moved keys, as the meta group records a data move's. */
    public static byte[] encodeKeys(List<MovedKeys> keys) {
        var w = new Writer();
        w.u8(FORMAT);
        movedKeys(w, keys);
        return w.toArray();
    }

    public static List<MovedKeys> decodeKeys(byte[] data) {
        var r = new Reader(data);
        try {
            r.format();
            List<MovedKeys> keys = movedKeys(r);
            r.end();
            return keys;
        } catch (IllegalArgumentException e) {
            throw e instanceof MalformedShardData m ? m : new MalformedShardData(e.getMessage());
        }
    }

    // ---------------------------------------------------------------- parts

    private static void epoch(Writer w, ShardEpoch e) {
        w.i64(e.rangeVersion());
        w.i64(e.confVersion());
    }

    private static ShardEpoch epoch(Reader r) {
        return new ShardEpoch(r.i64(), r.i64());
    }

    /** A range's end: a key, or END as length -1. */
    private static void boundary(Writer w, Key k) {
        if (k.isEnd()) {
            w.i32(-1);
        } else {
            w.bytes(k.toBytes());
        }
    }

    private static Key boundary(Reader r) {
        return r.peekI32() == -1 && r.i32() == -1 ? Key.END : Key.of(r.bytes());
    }

    private static void snapshot(Writer w, ShardSnapshot s) {
        ShardBounds b = s.bounds();
        w.i64(b.shard().value());
        epoch(w, b.epoch());
        w.i32(b.slotCount());
        switch (b.span()) {
            case KeyRange kr -> {
                w.u8(SPAN_RANGE);
                range(w, kr);
            }
            case HashSlots h -> {
                w.u8(SPAN_SLOTS);
                slots(w, h);
            }
            case ShardSpan.Directed d -> throw new IllegalStateException("bounds never hold a directed span");
        }
        w.i64(s.appliedIndex());
        PendingMerge pm = s.pendingMerge();
        w.u8(pm == null ? 0 : 1);
        if (pm != null) {
            w.i64(pm.target().value());
            epoch(w, pm.targetEpoch());
        }
        handoffs(w, s.handoffs());
        intakes(w, s.intakes());
        rows(w, s.rows());
    }

    private static void rows(Writer w, List<KeyValue> rows) {
        w.i32(rows.size());
        for (KeyValue kv : rows) {
            w.bytes(kv.key().toBytes());
            w.bytes(kv.value());
        }
    }

    private static List<KeyValue> rows(Reader r) {
        int n = r.count(Integer.MAX_VALUE, 8);
        var rows = new ArrayList<KeyValue>(n);
        for (int i = 0; i < n; i++) {
            rows.add(new KeyValue(Key.of(r.bytes()), r.bytes()));
        }
        return rows;
    }

    private static void handoffs(Writer w, List<Handoff> handoffs) {
        w.i32(handoffs.size());
        for (Handoff h : handoffs) {
            w.i64(h.relocation());
            w.i64(h.target().value());
            movedKeys(w, h.keys());
        }
    }

    private static List<Handoff> handoffs(Reader r) {
        if (r.version == FORMAT_BEFORE_MOVES) {
            return List.of();
        }
        int n = r.count(MOVES_MAX, 20);
        var out = new ArrayList<Handoff>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Handoff(r.i64(), ShardId.of(r.i64()), movedKeys(r)));
        }
        return out;
    }

    private static void intakes(Writer w, List<Intake> intakes) {
        w.i32(intakes.size());
        for (Intake in : intakes) {
            w.i64(in.relocation());
            w.i64(in.source().value());
            movedKeys(w, in.keys());
            w.bytes(in.resumeAt().toBytes());
        }
    }

    private static List<Intake> intakes(Reader r) {
        if (r.version == FORMAT_BEFORE_MOVES) {
            return List.of();
        }
        int n = r.count(MOVES_MAX, 24);
        var out = new ArrayList<Intake>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Intake(r.i64(), ShardId.of(r.i64()), movedKeys(r), Key.of(r.bytes())));
        }
        return out;
    }

    private static void movedKeys(Writer w, List<MovedKeys> keys) {
        w.i32(keys.size());
        for (MovedKeys k : keys) {
            switch (k) {
                case MovedKeys.Slots s -> {
                    w.u8(KEYS_SLOTS);
                    w.i32(s.slotCount());
                    slots(w, s.slots());
                }
                case MovedKeys.Range rg -> {
                    w.u8(KEYS_RANGE);
                    range(w, rg.range());
                }
                case MovedKeys.HashedRange h -> {
                    w.u8(KEYS_HASHED_RANGE);
                    range(w, h.range());
                    w.i32(h.over().size());
                    h.over().forEach(id -> w.i64(id.value()));
                    w.i64(h.target().value());
                }
            }
        }
    }

    private static List<MovedKeys> movedKeys(Reader r) {
        int n = r.count(MOVES_MAX, 5);
        var out = new ArrayList<MovedKeys>(n);
        for (int i = 0; i < n; i++) {
            int kind = r.u8();
            out.add(switch (kind) {
                case KEYS_SLOTS -> {
                    int slotCount = r.i32();
                    yield new MovedKeys.Slots(slots(r), slotCount);
                }
                case KEYS_RANGE -> new MovedKeys.Range(range(r));
                case KEYS_HASHED_RANGE -> {
                    KeyRange range = range(r);
                    int m = r.count(MOVES_MAX, 8);
                    var over = new ArrayList<ShardId>(m);
                    for (int j = 0; j < m; j++) {
                        over.add(ShardId.of(r.i64()));
                    }
                    yield new MovedKeys.HashedRange(range, over, ShardId.of(r.i64()));
                }
                default -> throw new MalformedShardData("unknown moved keys kind " + kind);
            });
        }
        return out;
    }

    private static void range(Writer w, KeyRange range) {
        w.bytes(range.start().toBytes());
        boundary(w, range.end());
    }

    private static KeyRange range(Reader r) {
        return new KeyRange(Key.of(r.bytes()), boundary(r));
    }

    private static void slots(Writer w, HashSlots h) {
        w.i32(h.ranges().size());
        for (SlotRange sr : h.ranges()) {
            w.i32(sr.start());
            w.i32(sr.end());
        }
    }

    private static HashSlots slots(Reader r) {
        int n = r.count(SLOT_RANGES_MAX, 8);
        var ranges = new ArrayList<SlotRange>(n);
        for (int i = 0; i < n; i++) {
            ranges.add(new SlotRange(r.i32(), r.i32()));
        }
        return new HashSlots(ranges);
    }

    private static ShardSnapshot snapshot(Reader r) {
        ShardId shard = ShardId.of(r.i64());
        ShardEpoch epoch = epoch(r);
        int slotCount = r.i32();
        int kind = r.u8();
        ShardSpan span = switch (kind) {
            case SPAN_RANGE -> range(r);
            case SPAN_SLOTS -> slots(r);
            default -> throw new MalformedShardData("unknown span kind " + kind);
        };
        var bounds = new ShardBounds(shard, span, epoch, slotCount);
        long appliedIndex = r.i64();
        int merging = r.u8();
        if (merging > 1) {
            throw new MalformedShardData("pending-merge flag is 0 or 1: " + merging);
        }
        PendingMerge pm = merging == 1 ? new PendingMerge(ShardId.of(r.i64()), epoch(r)) : null;
        List<Handoff> handoffs = handoffs(r);
        List<Intake> intakes = intakes(r);
        return new ShardSnapshot(bounds, appliedIndex, pm, handoffs, intakes, rows(r));
    }

    // ---------------------------------------------------------------- bytes

    private static final class Writer {
        private byte[] buf = new byte[64];
        private int size;

        void u8(int v) {
            ensure(1);
            buf[size++] = (byte) v;
        }

        void i32(int v) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) {
                buf[size++] = (byte) (v >>> shift);
            }
        }

        void i64(long v) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                buf[size++] = (byte) (v >>> shift);
            }
        }

        void bytes(byte[] b) {
            i32(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        byte[] toArray() {
            return Arrays.copyOf(buf, size);
        }

        private void ensure(int more) {
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }
    }

    private static final class Reader {
        private final byte[] buf;
        private int pos;
        private int version;

        Reader(byte[] buf) {
            if (buf == null) {
                throw new MalformedShardData("no bytes");
            }
            this.buf = buf;
        }

        void format() {
            int f = u8();
            if (f != FORMAT && f != FORMAT_BEFORE_MOVES) {
                throw new MalformedShardData("unknown format " + f);
            }
            version = f;
        }

        int u8() {
            need(1);
            return buf[pos++] & 0xFF;
        }

        int peekI32() {
            need(4);
            int v = 0;
            for (int i = 0; i < 4; i++) {
                v = (v << 8) | (buf[pos + i] & 0xFF);
            }
            return v;
        }

        int i32() {
            int v = peekI32();
            pos += 4;
            return v;
        }

        long i64() {
            need(8);
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (buf[pos++] & 0xFF);
            }
            return v;
        }

        byte[] bytes() {
            int n = i32();
            if (n < 0) {
                throw new MalformedShardData("negative length " + n + " at " + (pos - 4));
            }
            need(n);
            byte[] b = Arrays.copyOfRange(buf, pos, pos + n);
            pos += n;
            return b;
        }

        /** A count of items of at least {@code minBytesEach}: no more than the bytes left could hold. */
        int count(int max, int minBytesEach) {
            int n = i32();
            if (n < 0 || n > max || (long) n * minBytesEach > buf.length - pos) {
                throw new MalformedShardData("count " + n + " at " + (pos - 4) + " exceeds what is left");
            }
            return n;
        }

        void end() {
            if (pos != buf.length) {
                throw new MalformedShardData((buf.length - pos) + " bytes after the end");
            }
        }

        private void need(int n) {
            if (n > buf.length - pos) {
                throw new MalformedShardData("truncated at " + pos + ": need " + n + " bytes, " + (buf.length - pos) + " left");
            }
        }
    }
}
