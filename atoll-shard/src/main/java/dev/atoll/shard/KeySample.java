package dev.atoll.shard;

import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * A sample (or histogram) of a shard's keys, sorted and distinct, each with the bytes and the
 * load it stands for: what the split planner reads to choose a split key from the data. The
 * shard's driver builds it (a reservoir of scanned keys, a histogram of requests).
 */
public record KeySample(List<SampledKey> keys) {
    public static final int KEYS_MAX = 4096;
    public static final KeySample EMPTY = new KeySample(List.of());

    /** One sampled key: the bytes and the queries per second it stands for. */
    public record SampledKey(Key key, long sizeBytes, long loadQps) {
        public SampledKey {
            Objects.requireNonNull(key, "key");
            checkArgument(!key.isEnd(), "END is not a key");
            checkArgument(sizeBytes >= 0 && loadQps >= 0, "weights are not negative: %d bytes, %d qps", sizeBytes, loadQps);
        }
    }

    public KeySample {
        keys = List.copyOf(keys);
        checkArgument(keys.size() <= KEYS_MAX, "at most %d sampled keys: %d", KEYS_MAX, keys.size());
        for (int i = 1; i < keys.size(); i++) {
            checkArgument(keys.get(i - 1).key().compareTo(keys.get(i).key()) < 0, "sampled keys are sorted and distinct");
        }
    }
}
