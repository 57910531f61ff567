package dev.atoll.server.shard;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeySample;

import java.util.ArrayList;
import java.util.List;

/**
 * A sample of one replica's keys for the split planner: every k-th row, each standing for the
 * bytes of the rows from it up to the next sampled one, and for their share of the load (rows
 * are weighed alike: requests are not counted per key). Two passes over the committed rows, in
 * pages (count, then pick); taken only for a shard the placement driver considers splitting.
 */
final class KeySampler {
    private static final int PAGE_ROWS = 1024;

    private KeySampler() {
    }

    /** At most {@code keysMax} sampled keys of {@code replica}'s rows, in key order. Throws as its scan. */
    static List<KeySample.SampledKey> sample(ShardStateMachine replica, int keysMax) {
        long rows = 0;
        for (List<ShardStore.KeyValue> page = replica.scan(new byte[0], null, PAGE_ROWS); !page.isEmpty();
             page = page.size() < PAGE_ROWS ? List.of() : replica.scan(next(page), null, PAGE_ROWS)) {
            rows += page.size();
        }
        long stride = Math.max(1, (rows + keysMax - 1) / keysMax);
        var sample = new ArrayList<KeySample.SampledKey>();
        Key sampled = null;
        long bytes = 0;
        long represented = 0;
        long seen = 0;
        for (List<ShardStore.KeyValue> page = replica.scan(new byte[0], null, PAGE_ROWS); !page.isEmpty();
             page = page.size() < PAGE_ROWS ? List.of() : replica.scan(next(page), null, PAGE_ROWS)) {
            for (ShardStore.KeyValue row : page) {
                if (seen % stride == 0 && sample.size() < keysMax) {
                    if (sampled != null) {
                        sample.add(new KeySample.SampledKey(sampled, bytes, represented));
                    }
                    sampled = Key.of(row.key());
                    bytes = 0;
                    represented = 0;
                }
                bytes += row.key().length + row.value().length;
                represented++;
                seen++;
            }
        }
        if (sampled != null && sample.size() < keysMax) {
            sample.add(new KeySample.SampledKey(sampled, bytes, represented));
        }
        return sample;
    }

    private static byte[] next(List<ShardStore.KeyValue> page) {
        return Key.of(page.getLast().key()).successor().toBytes();
    }
}
