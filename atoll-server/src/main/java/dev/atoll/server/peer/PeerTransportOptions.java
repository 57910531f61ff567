package dev.atoll.server.peer;

/**
 * Limits and timings of a {@link PeerTransport}. Every queue and batch is bounded by one of
 * these; all are per peer unless said otherwise. Construct with {@link #defaults()} and the
 * {@code with...} methods; the constructor rejects values that make no sense.
 *
 * @param outboundBytesMax          bytes queued for one peer and not yet sent; beyond it, messages are dropped
 * @param outboundMessagesMax       messages queued for one peer and not yet sent
 * @param batchBytesMax             bytes of messages in one PeerBatch; also the largest single message accepted
 * @param batchMessagesMax          messages in one PeerBatch
 * @param receiveWindowBytes        credit this node advertises to each sender: bytes it may have unacknowledged
 * @param inflightBatchesMax        batches sent to one peer and not yet acknowledged
 * @param reconnectBackoffMillisMin first delay before reopening a broken stream
 * @param reconnectBackoffMillisMax largest delay before reopening a broken stream
 * @param refusedRetryMillis        delay before reopening a stream the peer refused for wrong cluster or
 *                                  protocol version: such a cause is fixed only by an operator, so retries are rare
 * @param keepAliveMillis           HTTP/2 ping interval on an idle connection, to find a dead peer (gRPC
 *                                  raises anything under 10 s to 10 s)
 * @param keepAliveTimeoutMillis    how long a ping may go unanswered before the connection counts as broken
 * @param closeTimeoutMillis        how long {@link PeerTransport#close()} waits for channels and threads to end
 * @param clientEventLoopThreads    Netty event loop threads for this node's outbound connections
 * @param livenessProbeMillis       an idle stream sends an empty batch this often, which the peer acknowledges
 * @param livenessTimeoutMillis     a peer that leaves a batch unacknowledged this long counts as unresponsive
 *                                  (paused, partitioned, hung) while its connection may still look up: quiesced
 *                                  groups it leads then elect another leader, without waiting for the keepalive
 */
public record PeerTransportOptions(
        long outboundBytesMax,
        int outboundMessagesMax,
        int batchBytesMax,
        int batchMessagesMax,
        long receiveWindowBytes,
        int inflightBatchesMax,
        long reconnectBackoffMillisMin,
        long reconnectBackoffMillisMax,
        long refusedRetryMillis,
        long keepAliveMillis,
        long keepAliveTimeoutMillis,
        long closeTimeoutMillis,
        int clientEventLoopThreads,
        long livenessProbeMillis,
        long livenessTimeoutMillis) {

    /** Room for a PeerBatch's own fields (batch_seq, StreamOpen) beyond its messages. */
    static final int BATCH_OVERHEAD_BYTES_MAX = 4 * 1024;

    public PeerTransportOptions {
        positive(outboundBytesMax, "outboundBytesMax");
        positive(outboundMessagesMax, "outboundMessagesMax");
        positive(batchBytesMax, "batchBytesMax");
        positive(batchMessagesMax, "batchMessagesMax");
        positive(receiveWindowBytes, "receiveWindowBytes");
        positive(inflightBatchesMax, "inflightBatchesMax");
        positive(reconnectBackoffMillisMin, "reconnectBackoffMillisMin");
        positive(reconnectBackoffMillisMax, "reconnectBackoffMillisMax");
        positive(refusedRetryMillis, "refusedRetryMillis");
        positive(keepAliveMillis, "keepAliveMillis");
        positive(keepAliveTimeoutMillis, "keepAliveTimeoutMillis");
        positive(closeTimeoutMillis, "closeTimeoutMillis");
        positive(clientEventLoopThreads, "clientEventLoopThreads");
        positive(livenessProbeMillis, "livenessProbeMillis");
        require(livenessTimeoutMillis > livenessProbeMillis, "livenessTimeoutMillis %d not above livenessProbeMillis %d",
                livenessTimeoutMillis, livenessProbeMillis);
        require(reconnectBackoffMillisMin <= reconnectBackoffMillisMax,
                "reconnectBackoffMillisMin %d above reconnectBackoffMillisMax %d",
                reconnectBackoffMillisMin, reconnectBackoffMillisMax);
        // A message larger than a batch could never be sent; one larger than the queue never queued.
        require(batchBytesMax <= outboundBytesMax, "batchBytesMax %d above outboundBytesMax %d",
                batchBytesMax, outboundBytesMax);
        require(batchMessagesMax <= outboundMessagesMax, "batchMessagesMax %d above outboundMessagesMax %d",
                batchMessagesMax, outboundMessagesMax);
        // A full batch must fit in the credit this node grants, or senders would cut every batch short.
        require(batchBytesMax <= receiveWindowBytes, "batchBytesMax %d above receiveWindowBytes %d",
                batchBytesMax, receiveWindowBytes);
        require(batchBytesMax <= Integer.MAX_VALUE - BATCH_OVERHEAD_BYTES_MAX, "batchBytesMax %d too large",
                batchBytesMax);
    }

    /**
     * 16 MiB / 10,000 messages queued per peer, 1 MiB / 1,024 messages per batch, 8 MiB
     * window, 64 batches in flight, reconnect after 50 ms doubling to 5 s, 30 s after a refusal,
     * 30 s keepalive with a 10 s timeout, 5 s to close, one event loop thread, a liveness probe
     * every 500 ms and a peer unresponsive after 3 s without an acknowledgement.
     */
    public static PeerTransportOptions defaults() {
        return new PeerTransportOptions(16L << 20, 10_000, 1 << 20, 1024, 8L << 20, 64,
                50, 5_000, 30_000, 30_000, 10_000, 5_000, 1, 500, 3_000);
    }

    public PeerTransportOptions withLiveness(long probeMillis, long timeoutMillis) {
        return new PeerTransportOptions(outboundBytesMax, outboundMessagesMax, batchBytesMax, batchMessagesMax,
                receiveWindowBytes, inflightBatchesMax, reconnectBackoffMillisMin, reconnectBackoffMillisMax,
                refusedRetryMillis, keepAliveMillis, keepAliveTimeoutMillis, closeTimeoutMillis, clientEventLoopThreads,
                probeMillis, timeoutMillis);
    }

    public PeerTransportOptions withOutbound(long bytesMax, int messagesMax) {
        return new PeerTransportOptions(bytesMax, messagesMax, batchBytesMax, batchMessagesMax, receiveWindowBytes,
                inflightBatchesMax, reconnectBackoffMillisMin, reconnectBackoffMillisMax, refusedRetryMillis,
                keepAliveMillis, keepAliveTimeoutMillis, closeTimeoutMillis, clientEventLoopThreads,
                livenessProbeMillis, livenessTimeoutMillis);
    }

    public PeerTransportOptions withBatch(int bytesMax, int messagesMax) {
        return new PeerTransportOptions(outboundBytesMax, outboundMessagesMax, bytesMax, messagesMax,
                receiveWindowBytes, inflightBatchesMax, reconnectBackoffMillisMin, reconnectBackoffMillisMax,
                refusedRetryMillis, keepAliveMillis, keepAliveTimeoutMillis, closeTimeoutMillis, clientEventLoopThreads,
                livenessProbeMillis, livenessTimeoutMillis);
    }

    public PeerTransportOptions withReceiveWindowBytes(long bytes) {
        return new PeerTransportOptions(outboundBytesMax, outboundMessagesMax, batchBytesMax, batchMessagesMax, bytes,
                inflightBatchesMax, reconnectBackoffMillisMin, reconnectBackoffMillisMax, refusedRetryMillis,
                keepAliveMillis, keepAliveTimeoutMillis, closeTimeoutMillis, clientEventLoopThreads,
                livenessProbeMillis, livenessTimeoutMillis);
    }

    public PeerTransportOptions withReconnectBackoff(long millisMin, long millisMax, long refusedMillis) {
        return new PeerTransportOptions(outboundBytesMax, outboundMessagesMax, batchBytesMax, batchMessagesMax,
                receiveWindowBytes, inflightBatchesMax, millisMin, millisMax, refusedMillis, keepAliveMillis,
                keepAliveTimeoutMillis, closeTimeoutMillis, clientEventLoopThreads,
                livenessProbeMillis, livenessTimeoutMillis);
    }

    /**
     * The largest gRPC message this transport sends or must accept: a full batch plus its own
     * fields. The node's peer server must set its maximum inbound message size to at least
     * this ({@link PeerTransport#configure} does).
     */
    public int grpcMessageBytesMax() {
        return batchBytesMax + BATCH_OVERHEAD_BYTES_MAX;
    }

    private static void positive(long value, String name) {
        require(value > 0, "%s must be positive: %d", name, value);
    }

    private static void require(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException("invalid peer transport options: " + String.format(format, args));
        }
    }
}
