package dev.atoll.server.runtime;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The meta group's state: cluster metadata as "key=value" commands in a sorted map (today the
 * member address book: {@code member/<name>/peer}, {@code member/<name>/client}). Held in
 * memory and rebuilt on restart from the snapshot file and the WAL, so it is only as large as
 * cluster metadata. Readable from any thread.
 */
public final class MetaStateMachine implements StateMachine {
    private final ConcurrentSkipListMap<String, String> data = new ConcurrentSkipListMap<>();
    private volatile long appliedIndex;

    /** The command that sets {@code key} to {@code value}. */
    public static byte[] set(String key, String value) {
        if (key.indexOf('=') >= 0 || key.indexOf('\n') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("meta keys hold no '=' and no line breaks: " + key);
        }
        return (key + "=" + value).getBytes(StandardCharsets.UTF_8);
    }

    public String get(String key) {
        return data.get(key);
    }

    @Override
    public Object apply(Entry entry) {
        if (entry.index() <= appliedIndex) {
            return null;
        }
        appliedIndex = entry.index();
        if (entry.kind() != Entry.Kind.COMMAND) {
            return null;
        }
        String command = new String(entry.data(), StandardCharsets.UTF_8);
        int eq = command.indexOf('=');
        if (eq <= 0) {
            return null; // malformed: every replica ignores it alike
        }
        return data.put(command.substring(0, eq), command.substring(eq + 1));
    }

    @Override
    public long appliedIndex() {
        return appliedIndex;
    }

    @Override
    public byte[] snapshotData() {
        var sb = new StringBuilder();
        for (var e : data.entrySet()) {
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        }
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + body.length).putLong(appliedIndex).put(body).array();
    }

    @Override
    public void install(Snapshot snapshot) {
        data.clear();
        if (snapshot.data().length > 0) {
            ByteBuffer b = ByteBuffer.wrap(snapshot.data());
            b.getLong();
            byte[] body = new byte[b.remaining()];
            b.get(body);
            for (String line : new String(body, StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) {
                    int eq = line.indexOf('=');
                    data.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        appliedIndex = snapshot.index();
    }

    public Map<String, String> contents() {
        return new TreeMap<>(data);
    }

    @Override
    public void close() {
    }
}
