package dev.atoll.server.shard;

import dev.atoll.core.protocol.Entry;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeySample;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardReplica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A replica's key sample: every k-th row, sorted, each carrying the bytes up to the next, all rows counted once. */
class KeySamplerTest {
    @TempDir
    Path dir;
    private ShardStore store;

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    private ShardStateMachine replicaWith(int rows, int valueBytes) {
        store = ShardStore.open(dir.resolve("shards"));
        var bounds = new ShardBounds(ShardId.of(1), new KeyRange(Key.MIN, Key.END), ShardEpoch.INITIAL, 0);
        var replica = new ShardStateMachine(store, bounds.shard(), 1, ShardReplica.initial(bounds), split -> { });
        var entries = new ArrayList<Entry>();
        for (int i = 0; i < rows; i++) {
            entries.add(new Entry(i + 2, 1, Entry.Kind.COMMAND, ShardStateMachine.put(ShardId.of(1),
                    ShardEpoch.INITIAL, key(i).getBytes(StandardCharsets.UTF_8), new byte[valueBytes])));
        }
        replica.applyAll(entries);
        return replica;
    }

    private static String key(int i) {
        return String.format("k%05d", i);
    }

    @Test
    void everyKthRowStandsForTheBytesUpToTheNextAndAllRowsAreCountedOnce() {
        ShardStateMachine replica = replicaWith(2_500, 100);

        List<KeySample.SampledKey> sample = KeySampler.sample(replica, 100);

        // 2,500 rows at most 100 samples: every 25th row
        assertThat(sample).hasSize(100);
        assertThat(sample.get(0).key()).isEqualTo(Key.utf8(key(0)));
        assertThat(sample.get(1).key()).isEqualTo(Key.utf8(key(25)));
        assertThat(sample.get(99).key()).isEqualTo(Key.utf8(key(2_475)));
        assertThat(sample).allSatisfy(k -> assertThat(k.sizeBytes()).isEqualTo(25 * (6 + 100L)));
        assertThat(sample.stream().mapToLong(KeySample.SampledKey::loadQps).sum()).as("rows represented")
                .isEqualTo(2_500);
        // a valid sample for the split planner: sorted and distinct
        assertThat(new KeySample(sample).keys()).hasSize(100);
    }

    @Test
    void fewerRowsThanTheMaximumAreEachSampled() {
        ShardStateMachine replica = replicaWith(7, 10);

        List<KeySample.SampledKey> sample = KeySampler.sample(replica, 100);

        assertThat(sample).extracting(KeySample.SampledKey::key)
                .containsExactly(Key.utf8(key(0)), Key.utf8(key(1)), Key.utf8(key(2)), Key.utf8(key(3)),
                        Key.utf8(key(4)), Key.utf8(key(5)), Key.utf8(key(6)));
        assertThat(sample).allSatisfy(k -> assertThat(k.sizeBytes()).isEqualTo(16));
    }
}
