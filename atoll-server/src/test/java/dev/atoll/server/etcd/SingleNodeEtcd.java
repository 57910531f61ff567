package dev.atoll.server.etcd;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.PeerSender;
import dev.atoll.storage.mvcc.MvccConfig;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A one-member Atoll cluster in this JVM: a NodeRuntime hosting group 1 (a no-op peer sender),
 * the etcd state machine on a store in {@code dir}, and the etcd API on 127.0.0.1:ephemeral.
 */
final class SingleNodeEtcd implements AutoCloseable {
    static final NodeId SELF = NodeId.of("n1");
    static final long GROUP = 1;

    final NodeRuntime runtime;
    final EtcdStateMachine stateMachine;
    final EtcdApi api;
    final Server server;
    final ThreadPoolExecutor executor;
    final EtcdMembers members;

    private SingleNodeEtcd(Path dir, EtcdOptions options) {
        executor = EtcdApi.newExecutor(4, 10_000);
        runtime = new NodeRuntime(SELF, dir.resolve("node"), NodeRuntime.Options.defaults().withTickMillis(10),
                new SimpleMeterRegistry());
        stateMachine = new EtcdStateMachine(dir.resolve("mvcc"), MvccConfig.defaults(), options, executor,
                new LeaseDeadlines(System::nanoTime));
        RaftConfig d = RaftConfig.defaults();
        // the log must carry the largest request the API accepts, plus the command's envelope
        var raft = new RaftConfig(d.electionTimeoutTicks(), d.heartbeatIntervalTicks(), d.inflightAppendsMax(),
                d.appendEntriesMax(), options.requestBytesMax() + 64 * 1024, d.snapshotChunkBytesMax(), d.readMode(),
                d.leaseClockDriftTicksMax(), d.checkQuorum(), d.preVote(), d.readsPendingMax(),
                d.uncommittedEntriesMax(), d.proposalForwarding(), d.followerReads(), Set.of());
        runtime.addGroup(GROUP, raft, Membership.ofVoters(Set.of(SELF)), stateMachine);
        runtime.start(new PeerSender() {
            @Override
            public void send(long groupId, dev.atoll.core.protocol.Envelope<dev.atoll.consensus.raft.RaftMessage> e) {
            }

            @Override
            public void flush() {
            }
        });
        members = new EtcdMembers("atoll-test", Map.of(SELF, new EtcdMembers.MemberUrls(
                List.of("http://127.0.0.1:2380"), List.of("http://127.0.0.1:2379"))));
        api = new EtcdApi(runtime, GROUP, stateMachine, options, members, node -> null, executor);
        var builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .maxInboundMessageSize(options.requestBytesMax() + 512 * 1024);
        api.services().forEach(builder::addService);
        try {
            server = builder.build().start();
        } catch (IOException e) {
            runtime.close();
            throw new UncheckedIOException(e);
        }
        api.start();
    }

    static SingleNodeEtcd start(Path dir, EtcdOptions options) throws InterruptedException {
        var node = new SingleNodeEtcd(dir, options);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (node.runtime.status(GROUP) == null || node.runtime.status(GROUP).role() != Role.LEADER) {
            if (System.nanoTime() > deadline) {
                node.close();
                throw new AssertionError("no leader within 10 s");
            }
            Thread.sleep(10);
        }
        return node;
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getPort();
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        api.close();
        runtime.close();
        executor.shutdownNow();
    }
}
