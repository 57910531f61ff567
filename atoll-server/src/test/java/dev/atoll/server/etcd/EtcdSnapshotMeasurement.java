package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.log.Command;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.PeerSender;
import dev.atoll.server.runtime.StateMachine;
import dev.atoll.storage.mvcc.MvccConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * How long a snapshot of a multi-megabyte etcd store holds the runtime's loop thread: one node
 * hosts the etcd state machine, {@code puts} puts of {@code valueBytes} fill it, and the snapshot
 * every {@code puts} entries is taken twice: as before (the whole snapshot, checkpoint and pack,
 * on the loop: a state machine with the default eager capture; only the file write is off it) and
 * as now (memtables flushed on the snapshot thread, the RocksDB checkpoint on the loop, packing
 * and the file write on the snapshot thread). Prints the prepare, capture and materialize times,
 * and the longest wait of a probe that queries the loop every 2 ms, during the fill and during
 * the snapshot.
 * Not a test and never a gate: run with
 * {@code -Datoll.measure=true [-Datoll.measure.puts=20000] [-Datoll.measure.valueBytes=1024]}.
 */
@EnabledIfSystemProperty(named = "atoll.measure", matches = "true")
class EtcdSnapshotMeasurement {
    private static final NodeId SELF = NodeId.of("n1");
    private static final long GROUP = 1;

    @TempDir
    Path dir;

    /** The etcd state machine with the default capture: snapshotData(), all of it, on the loop thread. */
    private record WholeOnTheLoop(EtcdStateMachine sm) implements StateMachine {
        @Override
        public Object apply(Entry entry) {
            return sm.apply(entry);
        }

        @Override
        public List<Object> applyAll(List<Entry> entries) {
            return sm.applyAll(entries);
        }

        @Override
        public long appliedIndex() {
            return sm.appliedIndex();
        }

        @Override
        public byte[] snapshotData() {
            return sm.snapshotData();
        }

        @Override
        public void install(Snapshot snapshot) {
            sm.install(snapshot);
        }

        @Override
        public void close() {
            sm.close();
        }
    }

    @Test
    void loopThreadHeldByASnapshot() throws Exception {
        int puts = Integer.getInteger("atoll.measure.puts", 20_000);
        int valueBytes = Integer.getInteger("atoll.measure.valueBytes", 1024);
        System.out.printf("measure etcd-snapshot: cpus=%d puts=%d valueBytes=%d%n",
                Runtime.getRuntime().availableProcessors(), puts, valueBytes);
        measure("before(whole snapshot on the loop)", true, puts, valueBytes);
        measure("after(capture on the loop, pack off it)", false, puts, valueBytes);
    }

    private void measure(String mode, boolean wholeOnTheLoop, int puts, int valueBytes) throws Exception {
        Path base = dir.resolve(wholeOnTheLoop ? "before" : "after");
        ThreadPoolExecutor executor = EtcdApi.newExecutor(2, 1_000);
        var registry = new SimpleMeterRegistry();
        // the snapshot falls due a few entries after the fill: the probe then measures it alone
        var runtime = new NodeRuntime(SELF, base.resolve("node"),
                NodeRuntime.Options.defaults().withTickMillis(10).withSnapshotEveryEntries(puts + 10), registry);
        var sm = new EtcdStateMachine(base.resolve("mvcc"), MvccConfig.defaults(), EtcdOptions.defaults(), executor,
                new LeaseDeadlines(System::nanoTime));
        runtime.addGroup(GROUP, RaftConfig.defaults(), Membership.ofVoters(Set.of(SELF)),
                wholeOnTheLoop ? new WholeOnTheLoop(sm) : sm);
        runtime.start(new PeerSender() {
            @Override
            public void send(long groupId, Envelope<RaftMessage> envelope) {
            }

            @Override
            public void flush() {
            }
        });
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                LogStatus s = runtime.status(GROUP);
                if (s != null && s.role() == Role.LEADER) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no leader within 20 s");
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
            var probeMaxNanos = new AtomicLong();
            var probing = new AtomicBoolean(true);
            Thread probe = Thread.ofPlatform().name("loop-probe").start(() -> {
                while (probing.get()) {
                    long started = System.nanoTime();
                    try {
                        runtime.query(GROUP, raft -> 0).get(60, TimeUnit.SECONDS);
                        TimeUnit.MILLISECONDS.sleep(2);
                    } catch (Exception e) {
                        return;
                    }
                    probeMaxNanos.accumulateAndGet(System.nanoTime() - started - TimeUnit.MILLISECONDS.toNanos(2),
                            Math::max);
                }
            });
            var random = new java.util.Random(1);
            var inFlight = new Semaphore(256);
            var failures = new AtomicLong();
            long fillStarted = System.nanoTime();
            for (int i = 0; i < puts; i++) {
                inFlight.acquire();
                byte[] value = new byte[valueBytes]; // random: incompressible, as the benchmark's
                random.nextBytes(value);
                byte[] command = Command.newBuilder().setRequestId(i + 1).setPut(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(String.format("key-%08d", i)))
                        .setValue(ByteString.copyFrom(value))).build().toByteArray();
                CompletableFuture<Object> done = runtime.propose(GROUP, command);
                done.whenComplete((r, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                    }
                    inFlight.release();
                });
            }
            inFlight.acquire(256);
            long fillMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - fillStarted);
            long fillProbeMaxMillis = TimeUnit.NANOSECONDS.toMillis(probeMaxNanos.getAndSet(0));
            // small puts, one at a time, until the snapshot falls due and is recorded
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            for (int i = 0; registry.counter("atoll_raft_snapshots_taken_total").count() < 1; i++) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("no snapshot within 120 s");
                }
                runtime.propose(GROUP, Command.newBuilder().setRequestId(puts + i + 1).setPut(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("trigger")).setValue(ByteString.copyFromUtf8("x")))
                        .build().toByteArray()).get(60, TimeUnit.SECONDS);
            }
            probing.set(false);
            probe.join();
            long snapshotBytes;
            try (Stream<Path> files = Files.list(base.resolve("node").resolve("snap").resolve(Long.toString(GROUP)))) {
                snapshotBytes = files.mapToLong(f -> f.toFile().length()).max().orElse(0);
            }
            System.out.printf("measure etcd-snapshot %s: store_bytes=%d snapshot_bytes=%d fill_ms=%d put_failures=%d"
                            + " fill_probe_max_wait_ms=%d prepare_ms=%.0f capture_ms=%.0f materialize_ms=%.0f"
                            + " snapshot_probe_max_wait_ms=%d%n",
                    mode, sm.storeBytes(), snapshotBytes, fillMillis, failures.get(), fillProbeMaxMillis,
                    registry.timer("atoll_raft_snapshot_prepare_seconds").totalTime(TimeUnit.MILLISECONDS),
                    registry.timer("atoll_raft_snapshot_capture_seconds").totalTime(TimeUnit.MILLISECONDS),
                    registry.timer("atoll_raft_snapshot_materialize_seconds").totalTime(TimeUnit.MILLISECONDS),
                    TimeUnit.NANOSECONDS.toMillis(probeMaxNanos.get()));
        } finally {
            runtime.close();
            executor.shutdownNow();
        }
    }
}
