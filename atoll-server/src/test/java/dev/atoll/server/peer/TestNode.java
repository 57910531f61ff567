package dev.atoll.server.peer;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A node as the runtime would assemble it for the transport: a peer server on 127.0.0.1 with
 * its own threads (so a test can see them end), a transport, a recording inbox and a registry.
 */
final class TestNode implements AutoCloseable {
    final NodeId id;
    final PeerTransport transport;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final List<InboundMessage> received = new ArrayList<>();
    /** The inbox takes this many messages, then reports itself full. */
    volatile int inboxMessagesMax = Integer.MAX_VALUE;
    /** While set, delivery waits on it: the node takes nothing and acknowledges nothing, as if paused. */
    private volatile java.util.concurrent.CountDownLatch paused;
    private final EventLoopGroup serverLoop;
    private final ExecutorService serverExecutor;
    private final Server server;

    private TestNode(String id, String clusterId, PeerTransportOptions options, int port) {
        this.id = NodeId.of(id);
        this.transport = new PeerTransport(this.id, clusterId, options, this::record, registry);
        this.serverLoop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("test-server-" + id, true),
                NioIoHandler.newFactory());
        this.serverExecutor = Executors.newFixedThreadPool(2, r -> {
            var t = new Thread(r, "test-server-" + id + "-exec");
            t.setDaemon(true);
            return t;
        });
        var builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .bossEventLoopGroup(serverLoop)
                .workerEventLoopGroup(serverLoop)
                .channelType(NioServerSocketChannel.class)
                .executor(serverExecutor);
        try {
            this.server = transport.configure(builder).build().start();
        } catch (IOException e) {
            transport.close();
            serverLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            serverExecutor.shutdownNow();
            throw new UncheckedIOException(e);
        }
    }

    static TestNode start(String id, PeerTransportOptions options) {
        return new TestNode(id, "test-cluster", options, 0);
    }

    static TestNode start(String id, String clusterId, PeerTransportOptions options) {
        return new TestNode(id, clusterId, options, 0);
    }

    static TestNode startOnPort(String id, PeerTransportOptions options, int port) {
        return new TestNode(id, "test-cluster", options, port);
    }

    int port() {
        return server.getPort();
    }

    String target() {
        return "127.0.0.1:" + port();
    }

    void addPeer(TestNode other) {
        transport.addPeer(other.id, other.target());
    }

    /** A heartbeat whose read context numbers it, so order can be checked at the receiver. */
    SendOutcome sendNumbered(TestNode to, long group, long number) {
        return transport.send(group, new Envelope<>(id, to.id, new RaftMessage.Heartbeat(1, 0, number)));
    }

    /** The node stops taking (and so acknowledging) messages, as a paused process would; its connections stay up. */
    void pause() {
        paused = new java.util.concurrent.CountDownLatch(1);
    }

    void resume() {
        var p = paused;
        paused = null;
        if (p != null) {
            p.countDown();
        }
    }

    private boolean record(long groupId, Envelope<RaftMessage> envelope, String traceparent) {
        var p = paused;
        if (p != null) {
            try {
                p.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return recordNow(groupId, envelope, traceparent);
    }

    private synchronized boolean recordNow(long groupId, Envelope<RaftMessage> envelope, String traceparent) {
        if (received.size() >= inboxMessagesMax) {
            return false;
        }
        received.add(new InboundMessage(groupId, envelope, traceparent));
        return true;
    }

    synchronized int receivedCount() {
        return received.size();
    }

    synchronized List<InboundMessage> receivedSnapshot() {
        return List.copyOf(received);
    }

    double counter(String name, String... tags) {
        Counter c = registry.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    double dropped(String peer, String reason) {
        return counter("atoll.peer.messages.dropped", "peer", peer, "reason", reason);
    }

    long batchesSent(String peer) {
        DistributionSummary s = registry.find("atoll.peer.batch.messages").tags("peer", peer).summary();
        return s == null ? 0 : s.count();
    }

    LinkState linkState(TestNode peer) {
        return transport.status(peer.id).map(PeerStatus::state).orElse(LinkState.CLOSED);
    }

    boolean isTerminated() {
        return server.isTerminated() && serverExecutor.isTerminated() && serverLoop.isTerminated();
    }

    /** Stops the transport and then the server, as the runtime would at shutdown. */
    @Override
    public void close() {
        resume();
        transport.close();
        server.shutdownNow();
        serverExecutor.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
            serverExecutor.awaitTermination(5, TimeUnit.SECONDS);
            serverLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted stopping " + id, e);
        }
    }
}
