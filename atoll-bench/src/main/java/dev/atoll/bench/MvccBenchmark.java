package dev.atoll.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import dev.atoll.storage.mvcc.LogPosition;
import dev.atoll.storage.mvcc.MvccStore;
import dev.atoll.storage.mvcc.PutRequest;
import dev.atoll.storage.mvcc.RangeRequest;
import dev.atoll.storage.mvcc.RangeResponse;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Operations per second of the MVCC state machine alone (no Raft, no network): a put of a
 * 256-byte value (WAL on, unsynced, as the store writes), a single-key range and a 100-key
 * prefix range, on a store preloaded with {@code keyCount} keys.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MvccBenchmark {
    private static final int PREFIX_KEY_COUNT = 100;

    @Param({"10000"})
    int keyCount;

    @Param({"256"})
    int valueBytes;

    private Path dir;
    private MvccStore store;
    private long index;
    private int next;
    private byte[][] keys;
    private byte[] value;
    private RangeRequest prefixRange;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("atoll-mvcc-bench");
        store = MvccStore.open(dir.resolve("db"));
        value = new byte[valueBytes];
        keys = new byte[keyCount][];
        for (int i = 0; i < keyCount; i++) {
            keys[i] = String.format("key/%08d", i).getBytes(StandardCharsets.UTF_8);
            store.put(PutRequest.of(keys[i], value), new LogPosition(++index, 1)).response();
        }
        for (int i = 0; i < PREFIX_KEY_COUNT; i++) {
            byte[] k = String.format("prefix/%03d", i).getBytes(StandardCharsets.UTF_8);
            store.put(PutRequest.of(k, value), new LogPosition(++index, 1)).response();
        }
        prefixRange = RangeRequest.ofPrefix("prefix/".getBytes(StandardCharsets.UTF_8));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private byte[] nextKey() {
        next = next + 1 == keyCount ? 0 : next + 1;
        return keys[next];
    }

    @Benchmark
    public long put() {
        return store.put(PutRequest.of(nextKey(), value), new LogPosition(++index, 1)).response().revision();
    }

    @Benchmark
    public RangeResponse rangeSingleKey() {
        return store.range(RangeRequest.of(nextKey())).response();
    }

    @Benchmark
    public RangeResponse rangePrefix100Keys() {
        return store.range(prefixRange).response();
    }
}
