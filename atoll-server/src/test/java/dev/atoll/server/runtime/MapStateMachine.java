package dev.atoll.server.runtime;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A test state machine: "key=value" commands into a sorted map held in memory (so it loses
 * everything on restart and rebuilds from the snapshot and the log, exercising replay).
 */
final class MapStateMachine implements StateMachine {
    private final ConcurrentSkipListMap<String, String> data = new ConcurrentSkipListMap<>();
    private volatile long appliedIndex;

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

    Map<String, String> contents() {
        return new TreeMap<>(data);
    }

    @Override
    public void close() {
    }
}
