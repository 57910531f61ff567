package dev.atoll.server.it;

import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import dev.atoll.server.shard.ShardError;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * AtollServers (three by default: n1..n3) in one JVM on 127.0.0.1, each with a client channel;
 * started together, restarted one at a time from their data directories, all stopped by
 * {@link #close}.
 */
final class InProcessCluster implements AutoCloseable {
    final List<AtollServer> servers = new ArrayList<>();
    final List<ManagedChannel> channels = new ArrayList<>();
    private final List<ServerConfig> configs = new ArrayList<>();
    private final java.util.Set<Integer> stopped = new java.util.HashSet<>();

    private InProcessCluster() {
    }

    /** Starts three servers in {@code dir} and waits until every node has a seeded member table. */
    static InProcessCluster start(Path dir) throws IOException, InterruptedException {
        return start(dir, List.of(List.of(), List.of(), List.of()));
    }

    /**
     * Starts one server per element of {@code extraArgs} (n1, n2, ...), each with its own extra
     * flags (e.g. {@code --region eu}), and waits until every node has a seeded member table.
     */
    static InProcessCluster start(Path dir, List<List<String>> extraArgs) throws IOException, InterruptedException {
        var c = new InProcessCluster();
        int n = extraArgs.size();
        int[] client = new int[n];
        int[] peer = new int[n];
        var cluster = new StringBuilder();
        for (int i = 0; i < n; i++) {
            client[i] = ServerProcess.freePort();
            peer[i] = ServerProcess.freePort();
            cluster.append(i == 0 ? "" : ",").append("n").append(i + 1).append("=127.0.0.1:").append(peer[i]);
        }
        for (int i = 0; i < n; i++) {
            var args = new ArrayList<>(List.of("--name", "n" + (i + 1), "--data-dir", dir.resolve("n" + (i + 1)).toString(),
                    "--listen-client", "127.0.0.1:" + client[i], "--listen-peer", "127.0.0.1:" + peer[i],
                    "--initial-cluster", cluster.toString()));
            args.addAll(extraArgs.get(i));
            c.configs.add(ServerConfig.fromArgs(args.toArray(String[]::new)));
            var server = new AtollServer(c.configs.get(i));
            server.start();
            c.servers.add(server);
            c.channels.add(NettyChannelBuilder.forAddress("127.0.0.1", client[i]).usePlaintext().build());
        }
        ProcessCluster.await("a seeded member table on every node", Duration.ofSeconds(30),
                () -> c.servers.stream().allMatch(s -> s.memberTable().seeded()));
        return c;
    }

    /** An admin stub to server {@code i} with a 60 s deadline. */
    AdminGrpc.AdminBlockingStub admin(int i) {
        return AdminGrpc.newBlockingStub(channels.get(i)).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** A shard KV stub to server {@code i} with a 20 s deadline. */
    ShardKVGrpc.ShardKVBlockingStub kv(int i) {
        return ShardKVGrpc.newBlockingStub(channels.get(i)).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    /** Creates a keyspace through server 0, trying again while the meta group elects its first leader. */
    void createKeyspace(dev.atoll.proto.admin.CreateKeyspaceRequest request) throws InterruptedException {
        ProcessCluster.await("keyspace " + request.getName() + " created", Duration.ofSeconds(60), () -> {
            try {
                admin(0).createKeyspace(request);
                return true;
            } catch (io.grpc.StatusRuntimeException e) {
                return switch (ShardError.of(e).orElse(ShardError.NO_LEADER)) {
                    case KEYSPACE_EXISTS -> true; // an earlier try took effect
                    case NO_LEADER, TIMEOUT, OUTCOME_UNKNOWN, STARTING -> false;
                    default -> throw e;
                };
            }
        });
    }

    /**
     * {@code call}, tried again for up to 90 s while it is refused as retryable (no leader, a node
     * restarting, the outcome unknown, a shard moving): a call that changes something must check
     * for itself whether a refused attempt took effect.
     */
    static <T> T retried(java.util.function.Supplier<T> call) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            try {
                return call.get();
            } catch (io.grpc.StatusRuntimeException e) {
                boolean retryable = ShardError.of(e).map(c -> switch (c) {
                    case NO_LEADER, TIMEOUT, OUTCOME_UNKNOWN, STARTING, NOT_HOSTED, SHARD_MOVED, STOPPING -> true;
                    default -> false;
                }).orElse(e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
                        || e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED);
                if (!retryable || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    /** Stops server {@code i} and starts it again from its data directory, on the same ports. */
    void restart(int i) throws Exception {
        stop(i);
        start(i);
    }

    /** Stops server {@code i} and starts it again from its data directory with {@code config}. */
    void restart(int i, ServerConfig config) throws Exception {
        stop(i);
        configs.set(i, config);
        start(i);
    }

    /** Stops every server at once (in parallel, as a power cut would), then starts each again from its data directory. */
    void stopAndStartEveryNode() throws Exception {
        var stopping = new ArrayList<Thread>();
        for (int i = 0; i < servers.size(); i++) {
            int node = i;
            stopping.add(Thread.ofPlatform().start(() -> stop(node)));
        }
        for (Thread t : stopping) {
            t.join();
        }
        for (int i = 0; i < servers.size(); i++) {
            start(i);
        }
    }

    /** Stops server {@code i} (its data directory stays) until {@link #start(int)}. */
    void stop(int i) {
        servers.get(i).close();
        stopped.add(i);
    }

    /** Starts server {@code i} again from its data directory, on the same ports. */
    void start(int i) throws Exception {
        servers.set(i, new AtollServer(configs.get(i)));
        stopped.remove(i);
        servers.get(i).start();
    }

    ServerConfig config(int i) {
        return configs.get(i);
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        for (int i = 0; i < servers.size(); i++) {
            if (!stopped.contains(i)) {
                servers.get(i).close();
            }
        }
    }
}
