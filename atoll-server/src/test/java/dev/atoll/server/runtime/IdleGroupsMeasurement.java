package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import dev.atoll.server.peer.LinkState;
import dev.atoll.server.peer.PeerStatus;
import dev.atoll.server.peer.PeerTransport;
import dev.atoll.server.peer.PeerTransportOptions;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What an idle Raft group costs (issue 5, "scale figure"): three runtimes in this JVM on
 * 127.0.0.1 with the real peer transport host N groups each (one replica of every group per
 * node); once every group has elected a leader, nothing is proposed. Prints, per N: time to
 * elect all, process CPU per second of idle (the median of three windows), peer messages per
 * second, heap per group (per replica and per node), and how many groups are quiesced.
 * Not a test and never a gate: run with
 * {@code -Datoll.measure=true [-Datoll.measure.groups=1,100,1000,5000] [-Datoll.measure.quiesce=false]
 * [-Datoll.measure.hint=false|true|false,true]}. With a hint (the default, as ShardHost founds a
 * keyspace's shards), one replica of each group, spread over the nodes, campaigns as soon as it
 * starts; without, every replica waits for its election timeout.
 * The data directories go to /dev/shm when it exists ({@code -Datoll.measure.dir} to choose):
 * N groups need N founding fsyncs per node before the first tick, which is not what is measured.
 */
@EnabledIfSystemProperty(named = "atoll.measure", matches = "true")
class IdleGroupsMeasurement {
    private static final List<NodeId> IDS = List.of(NodeId.of("m1"), NodeId.of("m2"), NodeId.of("m3"));
    private static final int IDLE_WINDOWS = 3;
    private static final long IDLE_WINDOW_MILLIS = 5_000;

    @Test
    void idleGroupsOnThreeNodes() throws Exception {
        int[] counts = Arrays.stream(System.getProperty("atoll.measure.groups", "1,100,1000,5000").split(","))
                .map(String::trim).mapToInt(Integer::parseInt).toArray();
        // as AtollServer configures its groups: quiescence on, unless asked otherwise
        int quiesceIdleTicks = Boolean.parseBoolean(System.getProperty("atoll.measure.quiesce", "true"))
                ? RaftConfig.QUIESCE_IDLE_TICKS : 0;
        RaftConfig config = RaftConfig.defaults().withQuiesceIdleTicks(quiesceIdleTicks);
        System.out.printf("measure idle-groups: cpus=%d tickMillis=%d heartbeatIntervalTicks=%d quiesceIdleTicks=%d%n",
                Runtime.getRuntime().availableProcessors(), NodeRuntime.Options.defaults().tickMillis(),
                config.heartbeatIntervalTicks(), config.quiesceIdleTicks());
        for (String hint : System.getProperty("atoll.measure.hint", "true").split(",")) {
            System.out.printf("measure idle-groups: first campaigner hinted=%s%n", hint.trim());
            for (int groups : counts) {
                measure(groups, config, Boolean.parseBoolean(hint.trim()));
            }
        }
    }

    private static void measure(int groupCount, RaftConfig config, boolean hint) throws Exception {
        Path root = Files.createTempDirectory(baseDir(), "atoll-idle-");
        long heapBefore = usedHeapAfterGc();
        var nodes = new ArrayList<MeasuredNode>();
        try {
            for (NodeId id : IDS) {
                nodes.add(new MeasuredNode(id, root.resolve(id.value()), groupCount, config));
            }
            for (MeasuredNode n : nodes) {
                for (MeasuredNode peer : nodes) {
                    if (peer != n) {
                        n.transport.addPeer(peer.id, "127.0.0.1:" + peer.server.getPort());
                    }
                }
            }
            long started = System.nanoTime();
            nodes.forEach(MeasuredNode::start);
            if (hint) {
                for (long g = 1; g <= groupCount; g++) {
                    nodes.get((int) (g % nodes.size())).runtime.campaign(g);
                }
            }
            awaitAllElected(nodes, groupCount);
            double electSeconds = (System.nanoTime() - started) / 1e9;
            // let the election's stragglers (late votes, first heartbeats, quiescence) settle
            Thread.sleep(2_000);
            long heapAfter = usedHeapAfterGc();

            var cpuPerSecond = new ArrayList<Double>();
            var loopCpuPerSecond = new ArrayList<Double>();
            var messagesPerSecond = new ArrayList<Double>();
            for (int w = 0; w < IDLE_WINDOWS; w++) {
                long cpu0 = processCpuNanos();
                long loop0 = threadCpuNanos("raft-");
                double msg0 = messagesSent(nodes);
                long t0 = System.nanoTime();
                Thread.sleep(IDLE_WINDOW_MILLIS);
                double seconds = (System.nanoTime() - t0) / 1e9;
                cpuPerSecond.add((processCpuNanos() - cpu0) / 1e9 / seconds);
                loopCpuPerSecond.add((threadCpuNanos("raft-") - loop0) / 1e9 / seconds);
                messagesPerSecond.add((messagesSent(nodes) - msg0) / seconds);
            }
            long leaderChanges = 0;
            int quiesced = 0;
            for (MeasuredNode n : nodes) {
                leaderChanges += (long) n.registry.get("atoll_raft_leader_changes_total").counter().count();
                quiesced += n.runtime.quiescedGroups();
            }
            double heapPerReplica = (heapAfter - heapBefore) / (double) (groupCount * IDS.size());
            System.out.printf("measure idle-groups groups=%d hinted=%s elect_all_s=%.2f idle_cpu_cores=%.3f (runs %s) "
                            + "loop_threads_cpu_cores=%.3f messages_per_s=%.0f heap_per_replica_bytes=%.0f "
                            + "heap_per_node_mb=%.1f quiesced_replicas=%d/%d leader_changes=%d loadavg=%s%n",
                    groupCount, hint, electSeconds, median(cpuPerSecond), format(cpuPerSecond),
                    median(loopCpuPerSecond), median(messagesPerSecond), heapPerReplica, (heapAfter - heapBefore) / 3.0 / (1 << 20),
                    quiesced, groupCount * IDS.size(), leaderChanges, loadAverage());
        } finally {
            nodes.forEach(MeasuredNode::close);
            deleteTree(root);
        }
    }

    private static void awaitAllElected(List<MeasuredNode> nodes, int groupCount) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            int elected = 0;
            for (long g = 1; g <= groupCount; g++) {
                if (agreedLeader(nodes, g)) {
                    elected++;
                }
            }
            if (elected == groupCount) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + elected + " of " + groupCount + " groups elected in 10 minutes");
            }
            Thread.sleep(20);
        }
    }

    /** Every node names the same leader for group {@code g} and that node says it leads. */
    private static boolean agreedLeader(List<MeasuredNode> nodes, long g) {
        NodeId leader = null;
        for (MeasuredNode n : nodes) {
            LogStatus s = n.runtime.status(g);
            if (s == null || s.leader() == null || (leader != null && !leader.equals(s.leader()))) {
                return false;
            }
            leader = s.leader();
        }
        for (MeasuredNode n : nodes) {
            if (n.id.equals(leader)) {
                return n.runtime.status(g).role() == Role.LEADER;
            }
        }
        return false;
    }

    private static double messagesSent(List<MeasuredNode> nodes) {
        double sum = 0;
        for (MeasuredNode n : nodes) {
            for (Counter c : n.registry.find("atoll.peer.messages.sent").counters()) {
                sum += c.count();
            }
        }
        return sum;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU time of the live threads whose name starts with {@code prefix} (the runtimes' loops, which also tick). */
    private static long threadCpuNanos(String prefix) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (var t : threads.dumpAllThreads(false, false)) {
            if (t.getThreadName().startsWith(prefix)) {
                sum += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** The machine's 1-minute load average: other processes' work skews the election time. */
    private static String loadAverage() {
        return String.format("%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static double median(List<Double> values) {
        var sorted = new ArrayList<>(values);
        sorted.sort(Comparator.naturalOrder());
        return sorted.get(sorted.size() / 2);
    }

    private static String format(List<Double> values) {
        var sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.isEmpty() ? "" : "/").append(String.format("%.3f", v));
        }
        return sb.toString();
    }

    private static Path baseDir() throws IOException {
        String dir = System.getProperty("atoll.measure.dir");
        if (dir != null) {
            return Files.createDirectories(Path.of(dir));
        }
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** One node as AtollServer assembles it: a runtime hosting every group, its transport and peer server. */
    private static final class MeasuredNode implements AutoCloseable {
        final NodeId id;
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final NodeRuntime runtime;
        final PeerTransport transport;
        final Server server;

        MeasuredNode(NodeId id, Path dir, int groupCount, RaftConfig config) {
            this.id = id;
            this.runtime = new NodeRuntime(id, dir, NodeRuntime.Options.defaults(), registry);
            Set<NodeId> voters = new TreeSet<>(IDS);
            for (long g = 1; g <= groupCount; g++) {
                runtime.addGroup(g, config, Membership.ofVoters(voters), new MetaStateMachine());
            }
            this.transport = new PeerTransport(id, "idle-groups", PeerTransportOptions.defaults(),
                    (groupId, envelope, traceparent) -> {
                        runtime.deliver(groupId, envelope);
                        return true;
                    }, registry);
            try {
                this.server = transport.configure(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)))
                        .directExecutor().build().start();
            } catch (IOException e) {
                transport.close();
                runtime.close();
                throw new UncheckedIOException(e);
            }
        }

        void start() {
            runtime.start(new PeerSender() {
                @Override
                public void send(long groupId, Envelope<RaftMessage> envelope) {
                    transport.send(groupId, envelope);
                }

                @Override
                public void flush() {
                    transport.flush();
                }

                @Override
                public boolean reachable(NodeId peer) {
                    return transport.status(peer).map(PeerStatus::state).orElse(LinkState.CLOSED) == LinkState.CONNECTED;
                }
            });
        }

        @Override
        public void close() {
            transport.close();
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            runtime.close();
        }
    }
}
