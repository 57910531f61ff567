package dev.atoll.client;

import dev.atoll.core.protocol.Role;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import dev.atoll.shard.ShardId;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Three AtollServers (n1..n3) in this JVM on 127.0.0.1, with an admin channel to n1; all stopped
 * by {@link #close}.
 */
final class TestCluster implements AutoCloseable {
    final List<AtollServer> servers = new ArrayList<>();
    /** The client endpoint (host:port) of n1, n2, n3. */
    final List<String> endpoints = new ArrayList<>();
    private ManagedChannel adminChannel;

    static TestCluster start(Path dir) throws Exception {
        var c = new TestCluster();
        try {
            int[] client = {freePort(), freePort(), freePort()};
            int[] peer = {freePort(), freePort(), freePort()};
            String cluster = "n1=127.0.0.1:" + peer[0] + ",n2=127.0.0.1:" + peer[1] + ",n3=127.0.0.1:" + peer[2];
            for (int i = 0; i < 3; i++) {
                var server = new AtollServer(ServerConfig.fromArgs(new String[] {"--name", "n" + (i + 1),
                        "--data-dir", dir.resolve("n" + (i + 1)).toString(),
                        "--listen-client", "127.0.0.1:" + client[i], "--listen-peer", "127.0.0.1:" + peer[i],
                        "--initial-cluster", cluster,
                        // leaders stay where the tests put them: no placement driver moving them
                        "--rebalance", "off"}));
                c.servers.add(server);
                server.start();
                c.endpoints.add("127.0.0.1:" + client[i]);
            }
            c.adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", client[0]).usePlaintext().build();
            await("every member started, with its client address, on every node", Duration.ofSeconds(30),
                    () -> c.servers.stream().allMatch(s -> s.memberTable().seeded()
                            && s.memberTable().current().size() == 3
                            && s.memberTable().current().stream().allMatch(m -> m.started()
                            && !m.clientUrls().isEmpty())));
            return c;
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
    }

    AdminGrpc.AdminBlockingStub admin() {
        return AdminGrpc.newBlockingStub(adminChannel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** The client endpoint of node {@code name} (n1..n3). */
    String endpointOf(String name) {
        return endpoints.get(Integer.parseInt(name.substring(1)) - 1);
    }

    List<ShardRecord> shards(String keyspace) {
        return admin().listShards(ListShardsRequest.newBuilder().setKeyspace(keyspace).build()).getShardsList()
                .stream().map(s -> s.getShard()).toList();
    }

    ShardRecord shard(long id) {
        return admin().listShards(ListShardsRequest.getDefaultInstance()).getShardsList().stream()
                .map(s -> s.getShard()).filter(s -> s.getId() == id).findFirst().orElseThrow();
    }

    /** Waits until the map names, for every shard of {@code keyspace}, the node whose replica leads it. */
    void awaitLeaders(String keyspace) throws InterruptedException {
        await("the map names the leader of every shard of " + keyspace, Duration.ofSeconds(30),
                () -> shards(keyspace).stream().allMatch(this::leadsByItsNode));
    }

    private boolean leadsByItsNode(ShardRecord shard) {
        if (shard.getLeaderHint().isEmpty()) {
            return false;
        }
        AtollServer leader = servers.get(Integer.parseInt(shard.getLeaderHint().substring(1)) - 1);
        return leader.shardHost().replica(ShardId.of(shard.getId())).map(h -> leader.runtime().status(h.groupId()))
                .map(status -> status.role() == Role.LEADER).orElse(false);
    }

    @Override
    public void close() {
        if (adminChannel != null) {
            adminChannel.shutdownNow();
        }
        servers.forEach(AtollServer::close);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        awaitValue(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    /** Polls {@code probe} every 50 ms until it has a value; fails the test after {@code timeout}. */
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

    /** A port below the kernel's ephemeral range, so no outgoing connection takes it meanwhile. */
    static int freePort() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(10_000, 32_000);
            try (var s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // another one
            }
        }
        throw new IOException("no free port");
    }
}
