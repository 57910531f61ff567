package dev.atoll.bench;

import dev.atoll.core.protocol.Entry;
import dev.atoll.storage.wal.GroupWrite;
import dev.atoll.storage.wal.SnapshotMeta;
import dev.atoll.storage.wal.Wal;
import dev.atoll.storage.wal.WalOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Durable entries per second through the write-ahead log: one append of a batch of entries
 * followed by one fdatasync, as a node runtime does per round when one group has work. The
 * {@code entries} counter is the figure to read (the primary score counts append+sync rounds).
 * The log lives in a temporary directory (java.io.tmpdir), so the figure is that disk's fsync.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class WalBenchmark {
    /** Snapshot every this many entries so that old segments are deleted and the disk use stays bounded. */
    private static final long SNAPSHOT_INTERVAL_ENTRIES = 200_000;
    private static final long GROUP_ID = 1;

    @Param({"1", "16", "128"})
    int batchEntries;

    @Param({"256"})
    int entryBytes;

    private Path dir;
    private Wal wal;
    private byte[] data;
    private long nextIndex = 1;
    private long snapshotIndex;

    /** Entries made durable, reported by JMH as a rate next to the primary score. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Durable {
        public long entries;
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("atoll-wal-bench");
        wal = Wal.open(dir, WalOptions.defaults()).wal();
        data = new byte[entryBytes];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        wal.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public long appendAndSync(Durable durable) throws IOException {
        List<Entry> batch = new ArrayList<>(batchEntries);
        for (int i = 0; i < batchEntries; i++) {
            batch.add(new Entry(nextIndex++, 1, Entry.Kind.COMMAND, data));
        }
        SnapshotMeta snapshot = null;
        if (nextIndex - 1 - snapshotIndex >= SNAPSHOT_INTERVAL_ENTRIES) {
            snapshotIndex = batch.get(0).index() - 1;
            snapshot = new SnapshotMeta(snapshotIndex, 1, SnapshotMeta.NONE.membership());
        }
        wal.append(List.of(new GroupWrite(GROUP_ID, snapshot, batch, null)));
        durable.entries += batchEntries;
        return wal.sync().position().offset();
    }
}
