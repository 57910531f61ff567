package dev.atoll.cli;

import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.RangeRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code atoll demo}: starts a local cluster of real {@code atoll server} processes on
 * 127.0.0.1, prints the endpoints and a ready-to-paste etcdctl line, and stops every process
 * it started (by PID) on Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local Atoll cluster (3 server processes on 127.0.0.1) until Ctrl-C.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "3", description = "Number of servers (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--data-dir", description = "Where the servers keep their data (default: a new temp directory).")
    Path dataDir;

    @Option(names = "--simulated", description = "Instead, narrate one run of the deterministic simulator.")
    boolean simulated;

    @Option(names = "--exit-when-ready", hidden = true, description = "Stop the cluster once it serves (for tests).")
    boolean exitWhenReady;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (simulated) {
            var sim = new SimDemo();
            sim.spec = spec;
            sim.nodes = nodes;
            sim.seed = 7;
            return sim.call();
        }
        if (nodes < 1 || nodes > 7) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--nodes must be 1 to 7");
        }
        Path dir = dataDir != null ? dataDir : Files.createTempDirectory("atoll-demo-");
        var clientPorts = new ArrayList<Integer>();
        var peerPorts = new ArrayList<Integer>();
        var cluster = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            int base = i == 0 ? 2379 : 2379 + 10_000 * (i + 1);
            clientPorts.add(portOr(base));
            peerPorts.add(portOr(base + 1));
            cluster.append(i == 0 ? "" : ",").append("n").append(i + 1).append("=127.0.0.1:").append(peerPorts.get(i));
        }
        var clients = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            clients.append(i == 0 ? "" : ",").append("n").append(i + 1).append("=127.0.0.1:").append(clientPorts.get(i));
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .toString();
        var processes = new ArrayList<Process>();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopAll(processes);
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        for (int i = 0; i < nodes; i++) {
            String name = "n" + (i + 1);
            Path nodeDir = dir.resolve(name);
            Files.createDirectories(nodeDir);
            var cmd = List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", classpath,
                    "dev.atoll.server.AtollServer", "--name", name, "--data-dir", nodeDir.toString(),
                    "--listen-client", "127.0.0.1:" + clientPorts.get(i),
                    "--listen-peer", "127.0.0.1:" + peerPorts.get(i),
                    "--initial-cluster", cluster.toString(), "--initial-cluster-clients", clients.toString());
            processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile())).start());
        }
        out.printf("Starting %d Atoll servers; data and logs in %s%n", nodes, dir);
        out.flush();
        if (!awaitServing(clientPorts.get(0), processes, 60)) {
            out.println("The cluster did not start serving within 60 s; see the logs in " + dir);
            out.flush();
            stopAll(processes);
            return 1;
        }
        var endpoints = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            out.printf("  n%d  client 127.0.0.1:%d  peer 127.0.0.1:%d  pid %d%n", i + 1, clientPorts.get(i),
                    peerPorts.get(i), processes.get(i).pid());
            endpoints.append(i == 0 ? "" : ",").append("127.0.0.1:").append(clientPorts.get(i));
        }
        out.println();
        out.println("The cluster is serving the etcd v3 API. Try:");
        out.printf("  etcdctl --endpoints=%s put hello world%n", endpoints);
        out.printf("  etcdctl --endpoints=%s get hello%n", endpoints);
        out.printf("  etcdctl --endpoints=%s endpoint status -w table%n", endpoints);
        out.println("Ctrl-C stops the cluster.");
        out.flush();
        if (exitWhenReady) {
            Runtime.getRuntime().removeShutdownHook(hook);
            stopAll(processes);
            return 0;
        }
        stopped.await();
        return 0;
    }

    /** The preferred port if it is free on 127.0.0.1, else any free one. */
    private static int portOr(int preferred) {
        try (var s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", preferred));
            return preferred;
        } catch (IOException taken) {
            try (var s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                return s.getLocalPort();
            } catch (IOException e) {
                throw new IllegalStateException("no free port on 127.0.0.1", e);
            }
        }
    }

    /** Serving means a linearizable read succeeds: a leader is elected and reachable. */
    private static boolean awaitServing(int clientPort, List<Process> processes, int seconds) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", clientPort).usePlaintext().build();
        try {
            var kv = KVGrpc.newBlockingStub(channel);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < deadline) {
                for (Process p : processes) {
                    if (!p.isAlive()) {
                        return false;
                    }
                }
                try {
                    kv.withDeadlineAfter(2, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
                            .setKey(com.google.protobuf.ByteString.copyFromUtf8("atoll-demo-probe")).build());
                    return true;
                } catch (io.grpc.StatusRuntimeException notYet) {
                    TimeUnit.MILLISECONDS.sleep(200);
                }
            }
            return false;
        } finally {
            channel.shutdownNow();
        }
    }

    private static void stopAll(List<Process> processes) {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
