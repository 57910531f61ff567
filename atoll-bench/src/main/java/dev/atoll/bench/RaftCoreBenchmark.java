package dev.atoll.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Committed entries per second through a 3-node cluster of Raft cores alone (no disk, no
 * network): the ceiling the protocol logic puts on a real node.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RaftCoreBenchmark {
    private static final int BATCH = 64;

    @Param({"128"})
    int valueBytes;

    private InMemoryRaftCluster cluster;
    private byte[] command;

    @Setup
    public void setUp() {
        cluster = new InMemoryRaftCluster(3, 42);
        command = new byte[valueBytes];
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void commitEntries() {
        cluster.commit(BATCH, command);
    }
}
