package dev.atoll.server.peer;

import dev.atoll.core.NodeId;
import dev.atoll.proto.peer.AtollPeerGrpc;
import dev.atoll.proto.peer.PeerAck;
import dev.atoll.proto.peer.PeerBatch;
import dev.atoll.proto.peer.PeerMessage;
import dev.atoll.proto.peer.Refusal;
import dev.atoll.proto.peer.StreamOpen;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * This node's sending side towards one peer: a bounded queue of encoded messages, one gRPC
 * stream at a time on the peer's channel, the peer's credit, and the reconnect schedule.
 *
 * <p>All state is guarded by {@code this}: the runtime's loop thread (send, flush), the
 * transport's timer thread (reconnect, probes), its event loop (gRPC callbacks: acks, stream end,
 * readiness) and {@code close} meet here. Nothing under the lock blocks: gRPC's {@code onNext} only buffers.
 */
final class OutboundLink {
    private static final Logger log = LoggerFactory.getLogger(OutboundLink.class);

    /** An encoded message and what it costs inside a PeerBatch (field tag and length included). */
    record Queued(PeerMessage message, int batchBytes) {
    }

    private final NodeId self;
    private final NodeId peer;
    private final String target;
    private final String clusterId;
    private final PeerTransportOptions options;
    private final ManagedChannel channel;
    private final AtollPeerGrpc.AtollPeerStub stub;
    private final ScheduledExecutorService timer;
    private final PeerMeters meters;
    private final ReconnectBackoff backoff;

    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    private long queuedBytes;
    private LinkState state = LinkState.BACKING_OFF;
    private OutboundStream stream;
    private ScheduledFuture<?> reconnect;
    private ScheduledFuture<?> probe;
    /** When the last batch went out on the current stream (System.nanoTime). */
    private long lastSentNanos;
    private boolean everOpened;
    /** A flush left messages queued for lack of credit or readiness: the next ack or onReady sends them. */
    private boolean flushPending;
    /** The last refusal logged at WARN, so a peer that keeps refusing is logged once. */
    private Refusal.Reason lastRefusal;

    // Read by gauges from the metrics thread without the lock.
    private volatile int queuedMessagesGauge;
    private volatile long queuedBytesGauge;

    OutboundLink(NodeId self, NodeId peer, String target, String clusterId, PeerTransportOptions options,
                 ManagedChannel channel, ScheduledExecutorService timer, PeerMeters meters) {
        this.self = self;
        this.peer = peer;
        this.target = target;
        this.clusterId = clusterId;
        this.options = options;
        this.channel = channel;
        this.stub = AtollPeerGrpc.newStub(channel);
        this.timer = timer;
        this.meters = meters;
        // Seeded from the pair of nodes: replayable, and different for each node that lost the same peer.
        long seed = ((long) self.value().hashCode() << 32) ^ (peer.value().hashCode() & 0xffffffffL);
        this.backoff = new ReconnectBackoff(options.reconnectBackoffMillisMin(), options.reconnectBackoffMillisMax(),
                seed);
    }

    NodeId peer() {
        return peer;
    }

    String target() {
        return target;
    }

    ManagedChannel channel() {
        return channel;
    }

    int queuedMessagesGauge() {
        return queuedMessagesGauge;
    }

    long queuedBytesGauge() {
        return queuedBytesGauge;
    }

    /** Opens the first stream; later ones open on their own after a break. */
    synchronized void start() {
        scheduleConnect(0);
        try {
            probe = timer.scheduleWithFixedDelay(this::probe, options.livenessProbeMillis(),
                    options.livenessProbeMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            probe = null;
        }
    }

    /**
     * Whether the peer acknowledges what it is sent: the stream is up and no batch has waited
     * longer than livenessTimeoutMillis for its ack. An idle stream is probed with empty
     * batches, so a peer that is paused or cut off behind a live connection is noticed too.
     */
    synchronized boolean responsive() {
        OutboundStream s = stream;
        if (s == null || !s.confirmed) {
            return false;
        }
        long[] oldest = s.inflight.peekFirst();
        return oldest == null
                || System.nanoTime() - oldest[2] < TimeUnit.MILLISECONDS.toNanos(options.livenessTimeoutMillis());
    }

    /** Sends an empty batch on an idle stream: its ack shows the peer alive. */
    private synchronized void probe() {
        OutboundStream s = stream;
        if (s == null || !s.confirmed || !s.inflight.isEmpty() || !s.requests.isReady()
                || System.nanoTime() - lastSentNanos < TimeUnit.MILLISECONDS.toNanos(options.livenessProbeMillis())) {
            return;
        }
        send(s, PeerBatch.newBuilder(), 0);
        meters.probesSent.increment();
    }

    /**
     * Queues {@code message}. While the stream is up a full queue refuses the new message (the
     * older ones go out first, peer.proto); while the peer is unreachable the oldest messages
     * make room, since after a reconnect the newest ones (latest term, latest commit) are the
     * useful ones.
     */
    synchronized SendOutcome enqueue(Queued message) {
        switch (state) {
            case CLOSED -> {
                meters.dropped(DropReason.CLOSED).increment();
                return SendOutcome.DROPPED_CLOSED;
            }
            case REFUSED -> {
                meters.dropped(DropReason.REFUSED).increment();
                return SendOutcome.DROPPED_REFUSED;
            }
            default -> {
            }
        }
        if (!fits(message)) {
            if (state == LinkState.CONNECTED) {
                meters.dropped(DropReason.QUEUE_FULL).increment();
                return SendOutcome.DROPPED_QUEUE_FULL;
            }
            while (!fits(message)) {
                Queued oldest = queue.pollFirst();
                queuedBytes -= oldest.batchBytes();
                meters.dropped(DropReason.EVICTED).increment();
            }
        }
        queue.addLast(message);
        queuedBytes += message.batchBytes();
        check(queue.size() <= options.outboundMessagesMax() && queuedBytes <= options.outboundBytesMax(),
                "outbound queue within its bounds: %d messages, %d bytes", queue.size(), queuedBytes);
        updateGauges();
        return SendOutcome.QUEUED;
    }

    /** Sends what is queued, as far as the peer's credit and the stream's readiness allow. */
    synchronized void flush() {
        if (stream != null && stream.confirmed) {
            drain(stream);
        } else if (!queue.isEmpty()) {
            // Not connected: the queue waits for the stream's first ack, which drains it.
            flushPending = true;
        }
    }

    synchronized PeerStatus status() {
        OutboundStream s = stream;
        return new PeerStatus(peer, target, state, queue.size(), queuedBytes,
                s == null ? 0 : s.outstandingBytes, s == null ? 0 : s.windowBytes, responsive());
    }

    /** Ends the stream and drops the queue; no reconnect follows. The channel is shut down by the owner. */
    synchronized void close() {
        if (state == LinkState.CLOSED) {
            return;
        }
        state = LinkState.CLOSED;
        if (reconnect != null) {
            reconnect.cancel(false);
            reconnect = null;
        }
        if (probe != null) {
            probe.cancel(false);
            probe = null;
        }
        endStream("transport closed");
        meters.dropped(DropReason.CLOSED).increment(queue.size());
        queue.clear();
        queuedBytes = 0;
        updateGauges();
    }

    // ------------------------------------------------------------------------- stream life

    private void scheduleConnect(long delayMillis) {
        if (reconnect != null) {
            reconnect.cancel(false);
        }
        try {
            reconnect = timer.schedule(this::connect, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // The timer stops only in PeerTransport.close, after every link is closed: nothing to reopen.
            reconnect = null;
        }
    }

    private synchronized void connect() {
        reconnect = null;
        if (state == LinkState.CLOSED || stream != null) {
            return;
        }
        if (everOpened) {
            meters.reconnects.increment();
        }
        everOpened = true;
        // gRPC's own connect backoff (up to two minutes) would hold the channel in
        // TRANSIENT_FAILURE long after the peer is back; this link owns the schedule instead.
        channel.resetConnectBackoff();
        OutboundStream s = new OutboundStream();
        stream = s;
        state = state == LinkState.REFUSED ? LinkState.REFUSED : LinkState.CONNECTING;
        stub.stream(s);
        // The stream is ours only after the peer acknowledges this opening batch: until then
        // nothing is sent, so messages queued while the peer was down are not lost to a stream
        // that was never going to open.
        s.requests.onNext(PeerBatch.newBuilder()
                .setBatchSeq(s.nextSeq++)
                .setOpen(StreamOpen.newBuilder()
                        .setClusterId(clusterId)
                        .setFromNode(self.value())
                        .setToNode(peer.value())
                        .setProtocolVersion(PeerTransport.PROTOCOL_VERSION))
                .build());
    }

    private synchronized void onAck(OutboundStream s, PeerAck ack) {
        if (s != stream) {
            return;
        }
        if (ack.hasRefusal()) {
            onRefused(ack.getRefusal());
            return;
        }
        long acked = ack.getAckedBatchSeq();
        long window = ack.getWindowBytes();
        if (acked < s.ackedSeq || acked >= s.nextSeq || window < 0) {
            log.warn("peer_ack_invalid peer={} acked_batch_seq={} last_acked={} last_sent={} window_bytes={}",
                    peer, Long.toUnsignedString(acked), s.ackedSeq, s.nextSeq - 1, Long.toUnsignedString(window));
            breakStream(s, Status.INTERNAL.withDescription("invalid ack"));
            return;
        }
        while (!s.inflight.isEmpty() && s.inflight.peekFirst()[0] <= acked) {
            s.outstandingBytes -= s.inflight.pollFirst()[1];
        }
        check(s.outstandingBytes >= 0 && (s.outstandingBytes == 0) == s.inflight.isEmpty(),
                "outstanding bytes match the unacknowledged batches: %d bytes, %d batches",
                s.outstandingBytes, s.inflight.size());
        s.ackedSeq = acked;
        s.windowBytes = window;
        meters.remoteDropped.increment(Math.max(0, ack.getDroppedMessages()));
        if (!s.confirmed) {
            s.confirmed = true;
            state = LinkState.CONNECTED;
            log.info("peer_connected peer={} target={} attempts={} queued_messages={}", peer, target,
                    backoff.failures() + 1, queue.size());
            backoff.reset();
            lastRefusal = null;
            flushPending = true;
        }
        if (flushPending) {
            drain(s);
        }
    }

    private synchronized void onReady(OutboundStream s) {
        if (s == stream && s.confirmed && flushPending) {
            drain(s);
        }
    }

    private synchronized void onStreamEnd(OutboundStream s, Status status) {
        if (s != stream) {
            return;
        }
        stream = null;
        if (state == LinkState.CLOSED) {
            return;
        }
        long delayMillis = backoff.nextDelayMillis();
        // One line when a working stream breaks or a peer first proves unreachable; the retries
        // that follow while it stays down are DEBUG, so a dead peer does not flood the log.
        if (s.confirmed || backoff.failures() == 1) {
            log.info("peer_stream_broken peer={} target={} status={} detail={} inflight_batches={} backoff_ms={}",
                    peer, target, status.getCode(), status.getDescription(), s.inflight.size(), delayMillis);
        } else {
            log.debug("peer_connect_failed peer={} target={} status={} attempt={} backoff_ms={}",
                    peer, target, status.getCode(), backoff.failures(), delayMillis);
        }
        state = LinkState.BACKING_OFF;
        scheduleConnect(delayMillis);
    }

    /**
     * The peer closed the stream on purpose. Wrong cluster or protocol version is fixed only
     * by an operator: messages are dropped, not queued, and the stream is retried rarely.
     * Anything else (unknown node while membership changes, overload) is retried with backoff.
     */
    private void onRefused(Refusal refusal) {
        OutboundStream s = stream;
        stream = null;
        s.requests.cancel("refused by peer", null);
        boolean permanent = refusal.getReason() == Refusal.Reason.WRONG_CLUSTER
                || refusal.getReason() == Refusal.Reason.UNKNOWN_PROTOCOL_VERSION;
        long delayMillis = permanent ? options.refusedRetryMillis() : backoff.nextDelayMillis();
        if (refusal.getReason() != lastRefusal) {
            log.warn("peer_stream_refused peer={} target={} reason={} detail=\"{}\" retry_ms={}",
                    peer, target, refusal.getReason(), refusal.getDetail(), delayMillis);
            lastRefusal = refusal.getReason();
        } else {
            log.debug("peer_stream_refused peer={} reason={} retry_ms={}", peer, refusal.getReason(), delayMillis);
        }
        if (permanent) {
            state = LinkState.REFUSED;
            meters.dropped(DropReason.REFUSED).increment(queue.size());
            queue.clear();
            queuedBytes = 0;
            updateGauges();
        } else {
            state = LinkState.BACKING_OFF;
        }
        scheduleConnect(delayMillis);
    }

    private void breakStream(OutboundStream s, Status status) {
        s.requests.cancel(status.getDescription(), null);
        onStreamEnd(s, status);
    }

    private void endStream(String why) {
        if (stream != null) {
            OutboundStream s = stream;
            stream = null;
            s.requests.cancel(why, null);
        }
    }

    // ------------------------------------------------------------------------- sending

    /**
     * Cuts the queue into batches of at most batchBytesMax / batchMessagesMax and sends them
     * while the peer's credit (window minus outstanding bytes, peer.proto), the in-flight
     * bound and gRPC's readiness allow. When nothing is outstanding one message goes out even if
     * it exceeds the window, so a window smaller than a message cannot stall the stream.
     */
    private void drain(OutboundStream s) {
        while (!queue.isEmpty()) {
            if (!s.requests.isReady() || s.inflight.size() >= options.inflightBatchesMax()) {
                flushPending = true;
                return;
            }
            long credit = s.windowBytes - s.outstandingBytes;
            var batch = PeerBatch.newBuilder();
            int batchBytes = 0;
            int count = 0;
            while (!queue.isEmpty() && count < options.batchMessagesMax()) {
                Queued next = queue.peekFirst();
                int bytes = batchBytes + next.batchBytes();
                if (bytes > options.batchBytesMax()) {
                    break;
                }
                if (bytes > credit && !(count == 0 && s.outstandingBytes == 0)) {
                    break;
                }
                queue.pollFirst();
                queuedBytes -= next.batchBytes();
                batch.addMessages(next.message());
                batchBytes = bytes;
                count++;
            }
            if (count == 0) {
                flushPending = true;
                updateGauges();
                return;
            }
            send(s, batch, batchBytes);
            meters.messagesSent.increment(count);
            meters.bytesSent.increment(batchBytes);
            meters.batchMessages.record(count);
            meters.batchBytes.record(batchBytes);
        }
        flushPending = false;
        updateGauges();
    }

    private void send(OutboundStream s, PeerBatch.Builder batch, int batchBytes) {
        long seq = s.nextSeq++;
        s.requests.onNext(batch.setBatchSeq(seq).build());
        lastSentNanos = System.nanoTime();
        s.inflight.addLast(new long[] {seq, batchBytes, lastSentNanos});
        s.outstandingBytes += batchBytes;
    }

    /** An invariant of this class; a violation is a bug in it, never a condition of the network. */
    private static void check(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new IllegalStateException("invariant violated: " + String.format(format, args));
        }
    }

    private boolean fits(Queued message) {
        return queue.size() < options.outboundMessagesMax()
                && queuedBytes + message.batchBytes() <= options.outboundBytesMax();
    }

    private void updateGauges() {
        queuedMessagesGauge = queue.size();
        queuedBytesGauge = queuedBytes;
    }

    /** One stream's sequence numbers and credit; callbacks of a replaced stream are ignored. */
    private final class OutboundStream implements ClientResponseObserver<PeerBatch, PeerAck> {
        ClientCallStreamObserver<PeerBatch> requests;
        long nextSeq = 1;
        long ackedSeq;
        long windowBytes;
        boolean confirmed;
        long outstandingBytes;
        /** (batch_seq, message bytes, System.nanoTime when sent) of batches not yet acknowledged, oldest first. */
        final ArrayDeque<long[]> inflight = new ArrayDeque<>();

        @Override
        public void beforeStart(ClientCallStreamObserver<PeerBatch> requestStream) {
            this.requests = requestStream;
            requestStream.setOnReadyHandler(() -> onReady(this));
        }

        @Override
        public void onNext(PeerAck ack) {
            onAck(this, ack);
        }

        @Override
        public void onError(Throwable t) {
            onStreamEnd(this, Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            onStreamEnd(this, Status.UNAVAILABLE.withDescription("peer ended the stream"));
        }
    }
}
