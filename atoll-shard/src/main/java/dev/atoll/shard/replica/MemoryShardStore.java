package dev.atoll.shard.replica;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import static dev.atoll.core.Check.checkArgument;

/** A {@link ShardStore} in memory, on a sorted map: deterministic iteration, nothing durable. */
public final class MemoryShardStore implements ShardStore {
    private final TreeMap<Key, byte[]> rows = new TreeMap<>();

    @Override
    public byte[] get(Key key) {
        return rows.get(key);
    }

    @Override
    public void put(Key key, byte[] value) {
        checkArgument(!key.isEnd(), "END is not a key");
        rows.put(key, value.clone());
    }

    @Override
    public void delete(Key key) {
        rows.remove(key);
    }

    @Override
    public List<KeyValue> scan(KeyRange range, int limit) {
        checkArgument(limit >= 1, "a scan returns at least one row: limit %d", limit);
        var out = new ArrayList<KeyValue>(Math.min(limit, 64));
        for (Map.Entry<Key, byte[]> e : slice(range).entrySet()) {
            if (out.size() >= limit) {
                break;
            }
            out.add(new KeyValue(e.getKey(), e.getValue()));
        }
        return out;
    }

    @Override
    public void deleteRange(KeyRange range) {
        slice(range).clear();
    }

    /** Every row, in key order (a read-only view). */
    public NavigableMap<Key, byte[]> rows() {
        return java.util.Collections.unmodifiableNavigableMap(rows);
    }

    public int rowCount() {
        return rows.size();
    }

    private NavigableMap<Key, byte[]> slice(KeyRange range) {
        return range.end().isEnd() ? rows.tailMap(range.start(), true) : rows.subMap(range.start(), true, range.end(), false);
    }
}
