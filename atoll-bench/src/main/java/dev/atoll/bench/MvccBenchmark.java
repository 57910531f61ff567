package dev.atoll.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import dev.atoll.storage.mvcc.LogPosition;
import dev.atoll.storage.mvcc.MvccStore;
import dev.atoll.storage.mvcc.Mutation;
import dev.atoll.storage.mvcc.Outcome;
import dev.atoll.storage.mvcc.PutRequest;
import dev.atoll.storage.mvcc.PutResponse;
import dev.atoll.storage.mvcc.RangeRequest;
import dev.atoll.storage.mvcc.RangeResponse;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * prefix range, on a store preloaded with {@code keyCount} keys. The batch benchmarks apply a
 * Raft round of {@code putsPerBatch} puts, one entry at a time or with one
 * {@link MvccStore#applyAll} (one RocksDB write); their {@code :puts} line is puts per second.
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

    /** Counts puts, so JMH reports puts/s next to batches/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class PutCount {
        public long puts;
    }

    /** How many puts one Raft round applies: the batch benchmarks apply this many per call. */
    @State(Scope.Benchmark)
    public static class Round {
        @Param({"1", "16", "128"})
        int putsPerBatch;
    }

    /** A round's puts in one applyAll: one RocksDB write for the round. */
    @Benchmark
    public long putBatch(Round round, PutCount count) {
        List<Mutation> batch = new ArrayList<>(round.putsPerBatch);
        for (int i = 0; i < round.putsPerBatch; i++) {
            batch.add(new Mutation.Put(PutRequest.of(nextKey(), value), new LogPosition(++index, 1)));
        }
        List<Outcome<?>> outcomes = store.applyAll(batch);
        count.puts += round.putsPerBatch;
        return ((PutResponse) outcomes.getLast().response()).revision();
    }

    /** A round's puts applied one entry at a time: one RocksDB write per put. */
    @Benchmark
    public long putBatchOneByOne(Round round, PutCount count) {
        long revision = 0;
        for (int i = 0; i < round.putsPerBatch; i++) {
            revision = put();
        }
        count.puts += round.putsPerBatch;
        return revision;
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
