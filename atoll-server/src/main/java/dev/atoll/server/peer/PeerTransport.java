package dev.atoll.server.peer;

import com.google.protobuf.CodedOutputStream;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.proto.peer.PeerBatch;
import dev.atoll.proto.peer.PeerMessage;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One node's peer transport: Raft messages for every replica group on the node travel to each
 * peer in batches on one long-lived gRPC stream, under the peer's byte credit
 * ({@code atoll/peer.proto}).
 *
 * <p><b>Threads.</b> {@link #send} and {@link #flush} are meant for the runtime's loop thread
 * and never block: send encodes and queues (or drops, when the peer's bounded queue is full),
 * flush writes what is queued into gRPC's buffers. They are thread-safe nonetheless.
 * Reconnects and liveness probes run on this transport's timer thread
 * ({@code atoll-peer-<node>-timer}); outbound I/O, and the acks, readiness and stream ends it
 * reads, on its own event loop ({@code atoll-peer-<node>-io-*}). Inbound messages reach the {@link PeerInbox} on the peer
 * server's gRPC threads, in order per sender: the inbox must hand them to the loop thread
 * (see {@link InboundQueue}) and never call a core itself.
 *
 * <p><b>What the runtime does.</b> Add {@link #service()} to the node's peer server (or let
 * {@link #configure} do it with the right message size and keepalive policy); {@link #addPeer}
 * each member; each round, after the round's fsync, {@link #send} the round's messages and
 * call {@link #flush} once; drain the inbox into the cores; {@link #close} on shutdown (the
 * server is the runtime's to stop).
 */
public final class PeerTransport implements AutoCloseable {
    /** The version of atoll/peer.proto this transport speaks; others are refused. */
    public static final int PROTOCOL_VERSION = 1;

    private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);
    /** Acks are a few dozen bytes; anything larger from a peer is not an ack. */
    private static final int ACK_BYTES_MAX = 64 * 1024;

    private final NodeId self;
    private final String clusterId;
    private final PeerTransportOptions options;
    private final PeerInbox inbox;
    private final MeterRegistry registry;
    private final PeerService service;
    private final ScheduledThreadPoolExecutor timer;
    private final EventLoopGroup eventLoop;
    /** Whether {@link #eventLoop} runs on Netty's native epoll (else the JDK's selector). */
    private final boolean nativeEpoll;
    private final Map<NodeId, OutboundLink> links = new ConcurrentHashMap<>();
    private final Map<NodeId, PeerMeters> meters = new ConcurrentHashMap<>();
    private final PeerMeters unknownPeerMeters;
    private final List<Meter> nodeMeters = new ArrayList<>();
    /** Channels of removed peers, shut down but awaited only by close(). */
    private final List<ManagedChannel> retiredChannels = new ArrayList<>();
    /** A message too large for a batch is a configuration mismatch: WARN once, then DEBUG. */
    private final java.util.concurrent.atomic.AtomicBoolean tooLargeLogged = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    /**
     * @param self      this node
     * @param clusterId streams from nodes of another cluster are refused
     * @param inbox     receives every valid inbound message, on gRPC threads
     * @param registry  where this transport's meters go (tags {@code node}, {@code peer})
     */
    public PeerTransport(NodeId self, String clusterId, PeerTransportOptions options, PeerInbox inbox,
                         MeterRegistry registry) {
        this.self = Objects.requireNonNull(self, "self");
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        if (clusterId.isEmpty()) {
            throw new IllegalArgumentException("clusterId is empty");
        }
        this.options = Objects.requireNonNull(options, "options");
        this.inbox = Objects.requireNonNull(inbox, "inbox");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.service = new PeerService(this);
        this.unknownPeerMeters = new PeerMeters(registry, self.value(), PeerMeters.UNKNOWN_PEER);
        var timerThreads = new AtomicInteger();
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            var t = new Thread(r, "atoll-peer-" + self + "-timer-" + timerThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        // Netty's native epoll where it loads (Linux), as gRPC's own server and channels use: the
        // JDK selector it replaces cost the peer I/O thread a good part of its CPU per batch
        // (select bookkeeping, the selector's locks) and the loop thread's wakeups more.
        this.nativeEpoll = Epoll.isAvailable();
        this.eventLoop = new MultiThreadIoEventLoopGroup(options.clientEventLoopThreads(),
                new DefaultThreadFactory("atoll-peer-" + self + "-io", true),
                nativeEpoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        nodeMeters.add(Gauge.builder("atoll.peer.outbound.messages.max", options, o -> o.outboundMessagesMax())
                .description("bound of each peer's outbound queue, in messages").tag("node", self.value())
                .register(registry));
        nodeMeters.add(Gauge.builder("atoll.peer.outbound.bytes.max", options, o -> o.outboundBytesMax())
                .description("bound of each peer's outbound queue, in bytes").tag("node", self.value())
                .register(registry));
        nodeMeters.add(Gauge.builder("atoll.peer.inbound.streams", service, PeerService::openStreams)
                .description("open inbound peer streams").tag("node", self.value()).register(registry));
    }

    public NodeId self() {
        return self;
    }

    public String clusterId() {
        return clusterId;
    }

    public PeerTransportOptions options() {
        return options;
    }

    /** The receiving side, to add to the node's peer server. */
    public BindableService service() {
        return service;
    }

    /**
     * Adds {@link #service()} to {@code server} and sets what the peer protocol needs of it: an
     * inbound message size that fits a full batch, and a keepalive policy that admits this
     * transport's pings. Returns {@code server} for chaining.
     */
    public NettyServerBuilder configure(NettyServerBuilder server) {
        return server.addService(service)
                .maxInboundMessageSize(options.grpcMessageBytesMax())
                .permitKeepAliveTime(Math.min(options.keepAliveMillis(), 10_000), TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true);
    }

    /**
     * Makes {@code peer}, reachable at gRPC target {@code target} ("host:port"), a peer: its
     * streams are accepted and a stream to it opens now. Adding a peer again with another
     * target replaces its link (queued messages are dropped); with the same target, nothing
     * changes. Called when membership changes; thread-safe.
     */
    public synchronized void addPeer(NodeId peer, String target) {
        Objects.requireNonNull(peer, "peer");
        Objects.requireNonNull(target, "target");
        if (peer.equals(self)) {
            throw new IllegalArgumentException("a node is not its own peer: " + peer);
        }
        if (closed) {
            return;
        }
        OutboundLink existing = links.get(peer);
        if (existing != null) {
            if (existing.target().equals(target)) {
                return;
            }
            removePeer(peer);
        }
        var peerMeters = new PeerMeters(registry, self.value(), peer.value());
        peerMeters.gauge("atoll.peer.queue.messages", "messages queued for the peer", this,
                t -> t.gaugeOf(peer, OutboundLink::queuedMessagesGauge));
        peerMeters.gauge("atoll.peer.queue.bytes", "bytes queued for the peer", this,
                t -> t.gaugeOf(peer, OutboundLink::queuedBytesGauge));
        peerMeters.gauge("atoll.peer.connected", "1 while the stream to the peer is acknowledged", this,
                t -> t.status(peer).map(s -> s.state() == LinkState.CONNECTED ? 1.0 : 0.0).orElse(0.0));
        meters.put(peer, peerMeters);
        ManagedChannel channel = NettyChannelBuilder.forTarget(target)
                .eventLoopGroup(eventLoop)
                .channelType(nativeEpoll ? EpollSocketChannel.class : NioSocketChannel.class)
                // acks, readiness and stream ends are handled on the event loop that read them: an
                // ack per batch, each handed to the timer thread, woke it about once per put
                // (bench/RESULTS.md, 12-02 afternoon); the handlers only take the link's lock, which
                // the loop thread holds briefly, and never block
                .directExecutor()
                // TLS comes with the security work (DESIGN.md §6: mTLS between peers when on).
                .usePlaintext()
                .maxInboundMessageSize(ACK_BYTES_MAX)
                .keepAliveTime(options.keepAliveMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(options.keepAliveTimeoutMillis(), TimeUnit.MILLISECONDS)
                .disableRetry()
                .build();
        var link = new OutboundLink(self, peer, target, clusterId, options, channel, timer, peerMeters);
        links.put(peer, link);
        log.info("peer_added node={} peer={} target={} io={}", self, peer, target, nativeEpoll ? "epoll" : "nio");
        link.start();
    }

    /**
     * Stops sending to {@code peer} (its queue is dropped, its channel shut down) and refuses
     * its streams from now on. Unknown peers are ignored. Thread-safe.
     */
    public synchronized void removePeer(NodeId peer) {
        OutboundLink link = links.remove(peer);
        if (link == null) {
            return;
        }
        link.close();
        link.channel().shutdownNow();
        retiredChannels.add(link.channel());
        service.refuseFrom(peer);
        PeerMeters m = meters.remove(peer);
        if (m != null) {
            m.remove();
        }
        log.info("peer_removed node={} peer={}", self, peer);
    }

    /** {@link #send(long, Envelope, String)} for an untraced message. */
    public SendOutcome send(long groupId, Envelope<RaftMessage> envelope) {
        return send(groupId, envelope, "");
    }

    /**
     * Encodes {@code envelope} (for replica group {@code groupId}) and queues it for
     * {@code envelope.to()}; the next {@link #flush} sends it. Never blocks. A dropped message
     * is counted and reported as the outcome, not thrown: Raft retries what it still needs.
     *
     * @param traceparent W3C trace context to carry along, or null/empty
     * @throws IllegalArgumentException if the envelope is not from this node or is addressed to it
     *         (a bug in the caller, not a condition of the network)
     */
    public SendOutcome send(long groupId, Envelope<RaftMessage> envelope, String traceparent) {
        if (!self.equals(envelope.from())) {
            throw new IllegalArgumentException("message from " + envelope.from() + " sent by " + self);
        }
        if (self.equals(envelope.to())) {
            throw new IllegalArgumentException("message to self " + self + " must not reach the transport");
        }
        if (closed) {
            unknownPeerMeters.dropped(DropReason.CLOSED).increment();
            return SendOutcome.DROPPED_CLOSED;
        }
        OutboundLink link = links.get(envelope.to());
        if (link == null) {
            unknownPeerMeters.dropped(DropReason.UNKNOWN_PEER).increment();
            return SendOutcome.DROPPED_UNKNOWN_PEER;
        }
        PeerMessage wire = RaftWireCodec.encode(groupId, envelope, traceparent);
        int batchBytes = CodedOutputStream.computeMessageSize(PeerBatch.MESSAGES_FIELD_NUMBER, wire);
        if (batchBytes > options.batchBytesMax()) {
            PeerMeters m = meters.getOrDefault(envelope.to(), unknownPeerMeters);
            m.dropped(DropReason.TOO_LARGE).increment();
            String line = "peer_message_too_large node={} peer={} group={} type={} bytes={} batch_bytes_max={}";
            Object[] fields = {self, envelope.to(), groupId, envelope.message().getClass().getSimpleName(), batchBytes,
                    options.batchBytesMax()};
            if (tooLargeLogged.compareAndSet(false, true)) {
                log.warn(line, fields);
            } else {
                log.debug(line, fields);
            }
            return SendOutcome.DROPPED_TOO_LARGE;
        }
        return link.enqueue(new OutboundLink.Queued(wire, batchBytes));
    }

    /**
     * Sends what is queued for every peer, as batches of at most batchBytesMax /
     * batchMessagesMax within each peer's credit; what does not fit stays queued and goes out
     * as acks return credit. Call once per runtime round, after the round's sends. Never blocks.
     */
    public void flush() {
        for (OutboundLink link : links.values()) {
            link.flush();
        }
    }

    /** The outbound side of {@code peer}, or empty if it is not a peer. */
    public Optional<PeerStatus> status(NodeId peer) {
        OutboundLink link = links.get(peer);
        return link == null ? Optional.empty() : Optional.of(link.status());
    }

    /** Whether close() has run. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Ends every stream, shuts every channel down and stops this transport's threads, waiting
     * at most closeTimeoutMillis in all; later sends are dropped. The node's server, which the
     * runtime owns, is not stopped here: its inbound streams are ended. Idempotent.
     */
    @Override
    public void close() {
        List<OutboundLink> closing;
        List<ManagedChannel> retired;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            closing = new ArrayList<>(links.values());
            links.clear();
            retired = new ArrayList<>(retiredChannels);
            retiredChannels.clear();
        }
        long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.closeTimeoutMillis());
        for (OutboundLink link : closing) {
            link.close();
            link.channel().shutdown();
        }
        service.closeAll(Status.UNAVAILABLE.withDescription("peer transport of " + self + " closed"));
        boolean clean = true;
        try {
            for (OutboundLink link : closing) {
                if (!link.channel().awaitTermination(remainingNanos(deadlineNanos), TimeUnit.NANOSECONDS)) {
                    link.channel().shutdownNow();
                    clean = false;
                }
            }
            for (ManagedChannel channel : retired) {
                clean &= channel.awaitTermination(remainingNanos(deadlineNanos), TimeUnit.NANOSECONDS);
            }
            timer.shutdown();
            if (!timer.awaitTermination(remainingNanos(deadlineNanos), TimeUnit.NANOSECONDS)) {
                timer.shutdownNow();
                clean = false;
            }
            if (!eventLoop.shutdownGracefully(0, Math.max(1, remainingNanos(deadlineNanos)), TimeUnit.NANOSECONDS)
                    .await(remainingNanos(deadlineNanos) + TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.NANOSECONDS)) {
                clean = false;
            }
        } catch (InterruptedException e) {
            // Shutting down anyway: stop waiting, force what is left, keep the interrupt for the caller.
            Thread.currentThread().interrupt();
            closing.forEach(l -> l.channel().shutdownNow());
            timer.shutdownNow();
            eventLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            clean = false;
        }
        for (PeerMeters m : meters.values()) {
            m.remove();
        }
        meters.clear();
        unknownPeerMeters.remove();
        nodeMeters.forEach(registry::remove);
        if (clean) {
            log.info("peer_transport_closed node={} peers={}", self, closing.size());
        } else {
            log.warn("peer_transport_closed node={} peers={} forced=true close_timeout_ms={}", self, closing.size(),
                    options.closeTimeoutMillis());
        }
    }

    // ----------------------------------------------------------------- for PeerService

    PeerInbox inbox() {
        return inbox;
    }

    boolean isPeer(NodeId node) {
        return links.containsKey(node);
    }

    /** The meters of {@code claimedFrom} if it is a peer, else those of the peer "unknown". */
    PeerMeters metersForInbound(String claimedFrom) {
        if (claimedFrom.isEmpty() || claimedFrom.length() > RaftWireCodec.NODE_ID_CHARS_MAX) {
            return unknownPeerMeters;
        }
        return meters.getOrDefault(NodeId.of(claimedFrom), unknownPeerMeters);
    }

    private double gaugeOf(NodeId peer, java.util.function.ToLongFunction<OutboundLink> value) {
        OutboundLink link = links.get(peer);
        return link == null ? 0 : value.applyAsLong(link);
    }

    private static long remainingNanos(long deadlineNanos) {
        return Math.max(0, deadlineNanos - System.nanoTime());
    }
}
