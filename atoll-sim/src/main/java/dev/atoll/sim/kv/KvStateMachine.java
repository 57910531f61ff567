package dev.atoll.sim.kv;

import dev.atoll.core.protocol.Entry;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import static dev.atoll.core.Check.check;

/**
 * The small key-value state machine each simulated replica applies its log to: put, get and
 * compare-and-set on string keys. Deterministic: a sorted map, no hashing order.
 */
public final class KvStateMachine {
    private final TreeMap<String, String> data = new TreeMap<>();
    private long appliedIndex;

    public long appliedIndex() {
        return appliedIndex;
    }

    public String get(String key) {
        return data.get(key);
    }

    public Map<String, String> contents() {
        return java.util.Collections.unmodifiableMap(data);
    }

    /** Applies one committed entry; returns the command's result (Cas: "true"/"false"; else null). */
    public String apply(Entry entry) {
        check(entry.index() == appliedIndex + 1, "entries are applied in order without gaps: %d after %d",
                entry.index(), appliedIndex);
        appliedIndex = entry.index();
        if (entry.kind() != Entry.Kind.COMMAND) {
            return null;
        }
        KvCommand c = KvCommand.decode(entry.data());
        return switch (c.type()) {
            case PUT -> {
                data.put(c.key(), c.value());
                yield null;
            }
            case CAS -> {
                boolean matches = java.util.Objects.equals(data.get(c.key()), c.expected());
                if (matches) {
                    data.put(c.key(), c.value());
                }
                yield Boolean.toString(matches);
            }
        };
    }

    public byte[] snapshot() {
        int size = 12;
        for (var e : data.entrySet()) {
            size += 8 + utf8(e.getKey()).length + utf8(e.getValue()).length;
        }
        var buf = ByteBuffer.allocate(size);
        buf.putLong(appliedIndex).putInt(data.size());
        for (var e : data.entrySet()) {
            byte[] k = utf8(e.getKey());
            byte[] v = utf8(e.getValue());
            buf.putInt(k.length).put(k).putInt(v.length).put(v);
        }
        return buf.array();
    }

    /** Replaces the whole state with a snapshot taken at {@code index}. */
    public void restore(long index, byte[] snapshot) {
        data.clear();
        if (snapshot.length == 0) {
            appliedIndex = index;
            return;
        }
        var buf = ByteBuffer.wrap(snapshot);
        long at = buf.getLong();
        check(at == index, "snapshot data taken at %d installed as index %d", at, index);
        int n = buf.getInt();
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[buf.getInt()];
            buf.get(k);
            byte[] v = new byte[buf.getInt()];
            buf.get(v);
            data.put(new String(k, StandardCharsets.UTF_8), new String(v, StandardCharsets.UTF_8));
        }
        appliedIndex = index;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
