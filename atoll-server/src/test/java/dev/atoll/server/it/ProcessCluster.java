package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.MaintenanceGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.StatusRequest;
import dev.atoll.proto.etcd.StatusResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Three real {@code atoll server} processes (n1, n2, n3) founded together on 127.0.0.1 with
 * ports picked free, each told the others' client addresses (so member list shows them all).
 * {@link #start} returns once a leader accepted a write; {@link #close} stops every process it
 * started, by PID. Raw gRPC channels to each member survive its restarts.
 */
final class ProcessCluster implements AutoCloseable {
    static final Duration STARTUP = Duration.ofSeconds(60);
    /** The etcd API's request timeout (EtcdOptions.defaults): a proposal or forward waits at most this. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    private final List<ServerProcess> members;
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private final List<ServerProcess> forgotten = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ProcessCluster(List<ServerProcess> members) {
        this.members = members;
    }

    static ProcessCluster start(Path dir, String... extraArgs) throws IOException, InterruptedException {
        return start(dir, i -> List.of(extraArgs));
    }

    /** Three servers, server {@code i} (0, 1, 2) with the extra flags {@code extraArgsOf} gives it. */
    static ProcessCluster start(Path dir, java.util.function.IntFunction<List<String>> extraArgsOf)
            throws IOException, InterruptedException {
        int[] clientPorts = new int[3];
        int[] peerPorts = new int[3];
        var peers = new StringBuilder();
        var clients = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            clientPorts[i] = ServerProcess.freePort();
            peerPorts[i] = ServerProcess.freePort();
            String sep = i == 0 ? "" : ",";
            peers.append(sep).append("n").append(i + 1).append("=127.0.0.1:").append(peerPorts[i]);
            clients.append(sep).append("n").append(i + 1).append("=127.0.0.1:").append(clientPorts[i]);
        }
        var members = new ArrayList<ServerProcess>();
        var cluster = new ProcessCluster(members);
        try {
            for (int i = 0; i < 3; i++) {
                var args = new ArrayList<>(List.of("--initial-cluster-clients", clients.toString()));
                args.addAll(extraArgsOf.apply(i));
                var s = new ServerProcess("n" + (i + 1), clientPorts[i], peerPorts[i], dir.resolve("n" + (i + 1)),
                        peers.toString(), args.toArray(String[]::new));
                members.add(s);
                s.start();
            }
            for (ServerProcess s : members) {
                s.awaitListening(STARTUP);
            }
            cluster.awaitWritable(STARTUP);
            cluster.awaitMembersPublished(STARTUP);
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /** The members this cluster runs now (joined ones included, forgotten ones not). */
    synchronized List<ServerProcess> members() {
        return List.copyOf(members);
    }

    /**
     * Starts a member that {@code etcdctl member add} added, with the ETCD_INITIAL_CLUSTER it
     * printed and {@code --initial-cluster-state existing}; returns once it listens.
     */
    ServerProcess startJoining(Path dir, String name, int clientPort, int peerPort, String initialCluster,
                               String... extraArgs) throws IOException, InterruptedException {
        var args = new ArrayList<>(List.of("--initial-cluster-state", "existing"));
        args.addAll(List.of(extraArgs));
        var s = new ServerProcess(name, clientPort, peerPort, dir.resolve(name), initialCluster,
                args.toArray(String[]::new));
        synchronized (this) {
            members.add(s);
        }
        s.start();
        s.awaitListening(STARTUP);
        return s;
    }

    /** Stops a member that was removed from the cluster and leaves it out from now on. */
    void forget(ServerProcess removed) throws InterruptedException {
        synchronized (this) {
            members.remove(removed);
            ManagedChannel ch = channels.remove(removed.name);
            if (ch != null) {
                ch.shutdownNow();
            }
        }
        removed.stop();
        forgotten.add(removed);
    }

    ServerProcess member(String name) {
        return members().stream().filter(s -> s.name.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no member " + name));
    }

    String[] endpoints() {
        return members().stream().map(ServerProcess::endpoint).toArray(String[]::new);
    }

    /** A plaintext channel to the member's client port, kept for the cluster's life. */
    synchronized ManagedChannel channel(ServerProcess member) {
        ManagedChannel ch = channels.computeIfAbsent(member.name, n -> NettyChannelBuilder.forAddress("127.0.0.1",
                member.clientPort).usePlaintext().maxInboundMessageSize(8 << 20).build());
        // a member that was killed and restarted: do not wait out gRPC's growing reconnect backoff
        if (ch.getState(false) == io.grpc.ConnectivityState.TRANSIENT_FAILURE) {
            ch.resetConnectBackoff();
        }
        return ch;
    }

    KVGrpc.KVBlockingStub kv(ServerProcess member) {
        return KVGrpc.newBlockingStub(channel(member)).withDeadlineAfter(REQUEST_TIMEOUT.toMillis() * 2,
                TimeUnit.MILLISECONDS);
    }

    /** The member's own Status, or empty when it does not answer within a second. */
    Optional<StatusResponse> status(ServerProcess member) {
        if (!member.alive()) {
            return Optional.empty();
        }
        try {
            return Optional.of(MaintenanceGrpc.newBlockingStub(channel(member)).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .status(StatusRequest.getDefaultInstance()));
        } catch (StatusRuntimeException notNow) {
            return Optional.empty();
        }
    }

    /**
     * The member's own member table (Atoll's internal Membership service on its peer port), or
     * empty while it is not seeded or the member does not answer.
     */
    Optional<dev.atoll.proto.meta.PublishResult> memberTable(ServerProcess member) {
        if (!member.alive()) {
            return Optional.empty();
        }
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", member.peerPort).usePlaintext().build();
        try {
            return Optional.of(dev.atoll.proto.meta.MembershipGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(2, TimeUnit.SECONDS)
                    .members(dev.atoll.proto.meta.MembersRequest.getDefaultInstance()));
        } catch (StatusRuntimeException notYet) {
            return Optional.empty();
        } finally {
            ch.shutdownNow();
        }
    }

    /** Waits until every member's table is seeded and shows every member published (client URLs known). */
    void awaitMembersPublished(Duration timeout) throws InterruptedException {
        await("every member's table lists every member started", timeout, () -> members().stream().allMatch(s ->
                memberTable(s).map(t -> t.getMembersList().stream().filter(m -> !m.getRemoved()).count()
                        == members().size() && t.getMembersList().stream()
                        .allMatch(m -> m.getRemoved() || m.getClientUrlsCount() > 0)).orElse(false)));
    }

    /** The leader every running member agrees on, if there is one now. */
    Optional<ServerProcess> currentLeader() {
        Map<Long, ServerProcess> byId = new HashMap<>();
        List<Long> leaderSeen = new ArrayList<>();
        for (ServerProcess s : members()) {
            if (!s.alive()) {
                continue;
            }
            Optional<StatusResponse> st = status(s);
            if (st.isEmpty() || st.get().getLeader() == 0) {
                return Optional.empty();
            }
            byId.put(st.get().getHeader().getMemberId(), s);
            leaderSeen.add(st.get().getLeader());
        }
        if (leaderSeen.isEmpty() || leaderSeen.stream().distinct().count() != 1) {
            return Optional.empty();
        }
        return Optional.ofNullable(byId.get(leaderSeen.get(0)));
    }

    /** Waits until the running members agree on a running leader. */
    ServerProcess awaitLeader(Duration timeout) throws InterruptedException {
        return awaitValue("a leader all running members agree on", timeout, this::currentLeader);
    }

    /** Waits until a leader is agreed on and {@code other} is not it. */
    ServerProcess awaitLeaderOtherThan(ServerProcess other, Duration timeout) throws InterruptedException {
        return awaitValue("a new leader other than " + other.name, timeout,
                () -> currentLeader().filter(l -> l != other));
    }

    List<ServerProcess> followers(ServerProcess leader) {
        return members().stream().filter(s -> s != leader).toList();
    }

    /** Waits until a put through the leader is acknowledged. */
    void awaitWritable(Duration timeout) throws InterruptedException {
        try {
            awaitProbeWrite(timeout);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + logs(), e);
        }
    }

    private void awaitProbeWrite(Duration timeout) throws InterruptedException {
        await("the cluster acknowledges a write", timeout, () -> {
            Optional<ServerProcess> leader = currentLeader();
            if (leader.isEmpty()) {
                return false;
            }
            try {
                kv(leader.get()).put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("probe"))
                        .setValue(ByteString.copyFromUtf8("1")).build());
                return true;
            } catch (StatusRuntimeException notYet) {
                return false;
            }
        });
    }

    /** Polls {@code condition} every 50 ms until it holds; fails naming {@code what} after {@code timeout}. */
    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        awaitValue(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    static <T> T awaitValue(String what, Duration timeout, Supplier<Optional<T>> probe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> value = probe.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /** The tail of every member's log, for a failure message. */
    String logs() {
        var out = new StringBuilder();
        var all = new ArrayList<>(members());
        all.addAll(forgotten);
        for (ServerProcess s : all) {
            String log = s.log();
            String[] lines = log.split("\n");
            out.append("---- ").append(s.name).append(" (").append(s.logFile).append(")\n");
            Arrays.stream(lines, Math.max(0, lines.length - 60), lines.length).forEach(l -> out.append(l).append('\n'));
        }
        return out.toString();
    }

    @Override
    public void close() throws InterruptedException {
        synchronized (this) {
            channels.values().forEach(ManagedChannel::shutdownNow);
            channels.clear();
        }
        for (ServerProcess s : members()) {
            s.stop();
        }
        for (ServerProcess s : forgotten) {
            s.stop();
        }
    }
}
