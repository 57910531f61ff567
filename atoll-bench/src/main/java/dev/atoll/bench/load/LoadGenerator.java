package dev.atoll.bench.load;

import dev.atoll.proto.etcd.KVGrpc;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends one workload to etcd v3 API endpoints and measures it. {@code clientCount} clients
 * each keep one request in flight, spread round-robin over {@code connCount} gRPC channels
 * (channel i to endpoint i mod n). Requests are asynchronous; a client sends its next request
 * from the callback of the previous one, so a few threads drive thousands of clients.
 *
 * <p>Closed loop (no rate): a client sends as soon as its previous request ended; latency runs
 * from send to answer. Open loop ({@code --rate R}): request j of client k is due at
 * {@code t0 + (k + j * clientCount) / R}; a client that falls behind sends at once, and latency
 * runs from the due time, so a stalled server is charged for the requests it kept from being
 * sent (Gil Tene's coordinated omission; the wrk2 scheme).
 *
 * <p>With {@code --keyspace} the requests go through atoll-client to a sharded keyspace instead
 * ({@link ShardedLoad}); the clients, the loop and the measuring are the same.
 *
 * <p>Requests due before {@code t0 + warmup} are sent but not recorded. Measuring stops when
 * {@code totalOps} measured requests were sent or {@code duration} passed, whichever first.
 */
public final class LoadGenerator {
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A client pauses this long after a failed request, so a refusing server is not spun on. */
    private static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long CONNECT_WAIT_MILLIS = 5_000;
    private static final long WATCH_CREATE_WAIT_MILLIS = 10_000;
    /** After the last put, how long deliveries may stay quiet before the watch run ends. */
    private static final long WATCH_DRAIN_QUIET_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final LoadOptions options;
    private final PrintStream progress;
    private final KeySpace keys;
    private final Operation operation;
    private final ErrorCounts errors = new ErrorCounts();
    private final Recorder intervalLatency = new Recorder(3);
    private final Recorder measuredLatency = new Recorder(3);
    private final LongAdder intervalOps = new LongAdder();
    private final LongAdder measuredOps = new LongAdder();
    private final LongAdder completedOps = new LongAdder();
    private final AtomicLong tickets = new AtomicLong();
    private final AtomicLong lastMeasuredCompletionNanos = new AtomicLong();
    private ScheduledExecutorService scheduler;
    /** With {@code --keyspace}: the requests on the sharded keyspace, else null (the etcd API). */
    private ShardedLoad sharded;
    private CountDownLatch clientsDone;
    private long t0Nanos;
    private long measureStartNanos;
    private long measureEndNanos;
    private double dueIntervalNanos;

    /** @param progress where the per-second progress line goes, or null for none */
    public LoadGenerator(LoadOptions options, PrintStream progress) {
        this.options = options;
        this.progress = options.progress() ? progress : null;
        this.keys = new KeySpace(options);
        this.operation = Operation.of(options, keys);
    }

    /** Runs the workload to its end and returns what was measured. Channels are closed on return. */
    public LoadResult run() throws InterruptedException {
        List<ManagedChannel> channels = new ArrayList<>();
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-scheduler");
            t.setDaemon(true);
            return t;
        });
        WatchLoad watch = null;
        try {
            if (options.sharded()) {
                sharded = new ShardedLoad(options, keys);
                sharded.prepare();
            } else {
                for (int i = 0; i < options.connCount(); i++) {
                    channels.add(channel(options.endpoints().get(i % options.endpoints().size())));
                }
                awaitReady(channels);
            }
            if (options.workload() == Workload.WATCH) {
                watch = new WatchLoad(options.watcherCount(), errors);
                if (!watch.open(channels, options.watcherCount(), keys, WATCH_CREATE_WAIT_MILLIS)) {
                    throw new IllegalStateException("watchers were not all created within "
                            + WATCH_CREATE_WAIT_MILLIS + " ms");
                }
            }
            t0Nanos = System.nanoTime();
            measureStartNanos = t0Nanos + TimeUnit.MILLISECONDS.toNanos(options.warmupMillis());
            if (watch != null) {
                watch.measureFrom(measureStartNanos);
            }
            measureEndNanos = options.durationMillis() > 0
                    ? measureStartNanos + TimeUnit.MILLISECONDS.toNanos(options.durationMillis()) : Long.MAX_VALUE;
            dueIntervalNanos = options.openLoop() ? SECOND_NANOS / options.ratePerSecond() : 0;
            long[] txnBaseline = {0, 0};
            if (operation instanceof Operation.CompareAndSwap cas) {
                scheduler.schedule(() -> {
                    synchronized (txnBaseline) {
                        txnBaseline[0] = cas.swapped();
                        txnBaseline[1] = cas.conflicted();
                    }
                }, measureStartNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            }
            // the generator's own CPU per request from the start of measuring to the end
            long[] cpuAtMeasureStart = {-1, 0};
            scheduler.schedule(() -> {
                synchronized (cpuAtMeasureStart) {
                    cpuAtMeasureStart[0] = processCpuNanos();
                    cpuAtMeasureStart[1] = completedOps.sum();
                }
            }, Math.max(0, measureStartNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            clientsDone = new CountDownLatch(options.clientCount());
            for (int k = 0; k < options.clientCount(); k++) {
                var stub = sharded != null ? null : KVGrpc.newStub(channels.get(k % channels.size()));
                new Client(k, stub, new SplittableRandom(options.seed() * 1_000_003L + k)).next();
            }
            report(watch);
            double clientCpuMicrosPerOp;
            synchronized (cpuAtMeasureStart) {
                long ops = completedOps.sum() - cpuAtMeasureStart[1];
                clientCpuMicrosPerOp = cpuAtMeasureStart[0] < 0 || ops <= 0 ? Double.NaN
                        : (processCpuNanos() - cpuAtMeasureStart[0]) / 1e3 / ops;
            }
            if (watch != null) {
                drain(watch);
            }
            double seconds = Math.max(0, lastMeasuredCompletionNanos.get() - measureStartNanos) / 1e9;
            LoadResult.TxnOutcomes txn = null;
            if (operation instanceof Operation.CompareAndSwap cas) {
                synchronized (txnBaseline) {
                    txn = new LoadResult.TxnOutcomes(cas.swapped() - txnBaseline[0],
                            cas.conflicted() - txnBaseline[1]);
                }
            }
            return new LoadResult(options, seconds, measuredOps.sum(), Latency.of(measuredLatency.getIntervalHistogram()),
                    errors.snapshot(), txn,
                    watch == null ? null : watch.deliveries(options.watcherCount()), clientCpuMicrosPerOp);
        } finally {
            if (watch != null) {
                watch.close();
            }
            if (sharded != null) {
                sharded.close();
            }
            scheduler.shutdownNow();
            for (ManagedChannel c : channels) {
                c.shutdownNow();
            }
            for (ManagedChannel c : channels) {
                c.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** CPU time of this whole process (every thread), in nanoseconds. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static ManagedChannel channel(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        return NettyChannelBuilder.forAddress(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)))
                .usePlaintext()
                // callbacks run on the event loop: the generator's own work per request is a
                // histogram record and building the next request, too little to hand off
                .directExecutor()
                // a failed request is counted, never retried: without this, gRPC wraps every call
                // in a retriable stream that buffers it (a fifth of the generator's CPU per request)
                .disableRetry()
                .maxInboundMessageSize(16 * 1024 * 1024)
                .build();
    }

    /** Connects every channel first, so the first measured requests do not pay the TCP and HTTP/2 setup. */
    private static void awaitReady(List<ManagedChannel> channels) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_WAIT_MILLIS);
        for (ManagedChannel c : channels) {
            while (c.getState(true) != ConnectivityState.READY && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
        }
    }

    /** Prints a progress line every second until every client has stopped. */
    private void report(WatchLoad watch) throws InterruptedException {
        long nextTick = t0Nanos + SECOND_NANOS;
        long lastOps = 0;
        long lastEvents = 0;
        while (!clientsDone.await(Math.max(0, nextTick - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            long ops = completedOps.sum();
            Histogram h = intervalLatency.getIntervalHistogram();
            if (progress != null) {
                long elapsedSeconds = Math.round((nextTick - t0Nanos) / 1e9);
                String phase = nextTick <= measureStartNanos ? " (warmup)" : "";
                var line = new StringBuilder(String.format(Locale.ROOT,
                        "[%4ds] %s %8d ops/s  p50 %s ms  p99 %s ms  errors %d%s", elapsedSeconds,
                        options.workload().cliName(), ops - lastOps, Latency.millis(h.getValueAtPercentile(50)),
                        Latency.millis(h.getValueAtPercentile(99)), errors.total(), phase));
                if (watch != null) {
                    long events = watch.eventCount();
                    Histogram d = watch.intervalHistogram();
                    line.append(String.format(Locale.ROOT, "  | watch %8d events/s  p50 %s ms  p99 %s ms",
                            events - lastEvents, Latency.millis(d.getValueAtPercentile(50)),
                            Latency.millis(d.getValueAtPercentile(99))));
                    lastEvents = events;
                }
                progress.println(line);
            }
            lastOps = ops;
            nextTick += SECOND_NANOS;
        }
    }

    /** Waits until every watcher saw every acknowledged put, or deliveries went quiet. */
    private void drain(WatchLoad watch) throws InterruptedException {
        long expected = completedOps.sum() * options.watcherCount();
        long seen = watch.eventCount();
        long quietSince = System.nanoTime();
        while (seen < expected && System.nanoTime() - quietSince < WATCH_DRAIN_QUIET_NANOS) {
            TimeUnit.MILLISECONDS.sleep(20);
            long now = watch.eventCount();
            if (now != seen) {
                seen = now;
                quietSince = System.nanoTime();
            }
        }
    }

    /** One request slot: at most one request in flight, the next sent when it ends. */
    private final class Client implements Operation.Done {
        private final int id;
        private final KVGrpc.KVStub stub;
        private final SplittableRandom random;
        private long sequence;
        private long startNanos;
        private boolean measured;

        Client(int id, KVGrpc.KVStub stub, SplittableRandom random) {
            this.id = id;
            this.stub = stub;
            this.random = random;
        }

        /** Decides when the next request starts, and whether there is one. */
        void next() {
            long now = System.nanoTime();
            long start = options.openLoop()
                    ? t0Nanos + (long) ((id + (double) sequence++ * options.clientCount()) * dueIntervalNanos)
                    : now;
            if (start >= measureEndNanos) {
                clientsDone.countDown();
                return;
            }
            boolean inMeasure = start >= measureStartNanos;
            if (inMeasure && options.totalOps() > 0 && tickets.incrementAndGet() > options.totalOps()) {
                clientsDone.countDown();
                return;
            }
            if (start > now) {
                scheduler.schedule(() -> send(start, inMeasure), start - now, TimeUnit.NANOSECONDS);
            } else {
                send(start, inMeasure);
            }
        }

        private void send(long start, boolean inMeasure) {
            startNanos = start;
            measured = inMeasure;
            if (sharded != null) {
                sharded.issue(random, this);
                return;
            }
            operation.issue(stub.withDeadlineAfter(options.requestTimeoutMillis(), TimeUnit.MILLISECONDS), random, this);
        }

        @Override
        public void succeeded() {
            long now = System.nanoTime();
            long micros = Math.max(0, (now - startNanos) / 1_000);
            intervalLatency.recordValue(micros);
            completedOps.increment();
            if (measured) {
                measuredLatency.recordValue(micros);
                measuredOps.increment();
                lastMeasuredCompletionNanos.accumulateAndGet(now, Math::max);
            }
            next();
        }

        @Override
        public void failed(Throwable error) {
            errors.add(null, error);
            // never recurse from a failure that gRPC reported inline: continue on the scheduler
            scheduler.schedule(this::next, RETRY_PAUSE_NANOS, TimeUnit.NANOSECONDS);
        }
    }
}
