package dev.atoll.shard;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

import static dev.atoll.core.Check.check;

/** Contiguous key ranges that tile the key space: a key's shard is the one whose range starts at or before it. */
public final class RangePartitioner implements Partitioner {
    private final NavigableMap<Key, ShardDescriptor> byStart;

    private RangePartitioner(NavigableMap<Key, ShardDescriptor> byStart) {
        this.byStart = Collections.unmodifiableNavigableMap(byStart);
    }

    /** Checks that the shards' ranges tile [MIN, END) with no gap or overlap. */
    public static RangePartitioner of(List<ShardDescriptor> shards) {
        var sorted = new ArrayList<>(shards);
        sorted.sort((a, b) -> a.keyRange().start().compareTo(b.keyRange().start()));
        var byStart = new TreeMap<Key, ShardDescriptor>();
        Key cursor = Key.MIN;
        for (ShardDescriptor s : sorted) {
            KeyRange r = s.keyRange();
            check(r.start().equals(cursor), "ranges tile the key space: %s starts at %s, expected %s", s.id(),
                    r.start(), cursor);
            byStart.put(r.start(), s);
            cursor = r.end();
        }
        check(cursor.isEnd(), "ranges tile the key space: the last range ends at %s, not END", cursor);
        return new RangePartitioner(byStart);
    }

    @Override
    public ShardId shardFor(Key key) {
        return descriptorFor(key).id();
    }

    /** O(log n) in the number of shards. */
    public ShardDescriptor descriptorFor(Key key) {
        return byStart.floorEntry(key).getValue();
    }

    /** The shards in key order. */
    public List<ShardDescriptor> inKeyOrder() {
        return List.copyOf(byStart.values());
    }
}
