package dev.atoll.server.peer;

import com.google.protobuf.CodedOutputStream;
import dev.atoll.core.NodeId;
import dev.atoll.proto.peer.AtollPeerGrpc;
import dev.atoll.proto.peer.PeerAck;
import dev.atoll.proto.peer.PeerBatch;
import dev.atoll.proto.peer.PeerMessage;
import dev.atoll.proto.peer.Refusal;
import dev.atoll.proto.peer.StreamOpen;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The receiving side of the peer protocol: checks each stream's StreamOpen, decodes batches,
 * hands their messages to the node's {@link PeerInbox} in order and answers with cumulative
 * acks carrying this node's credit. Uses manual inbound flow control: the next batch of a
 * stream is requested only once the previous one is in the inbox (peer.proto).
 */
final class PeerService extends AtollPeerGrpc.AtollPeerImplBase {
    private static final Logger log = LoggerFactory.getLogger(PeerService.class);
    /** Distinct (claimed sender, reason) refusals remembered for log-once; beyond it, DEBUG only. */
    private static final int REFUSALS_LOGGED_MAX = 1024;

    private final PeerTransport transport;
    private final Set<InboundStream> streams = ConcurrentHashMap.newKeySet();
    private final Set<String> refusalsLogged = ConcurrentHashMap.newKeySet();

    PeerService(PeerTransport transport) {
        this.transport = transport;
    }

    @Override
    public StreamObserver<PeerBatch> stream(StreamObserver<PeerAck> responseObserver) {
        var acks = (ServerCallStreamObserver<PeerAck>) responseObserver;
        acks.disableAutoRequest();
        var s = new InboundStream(acks);
        if (transport.isClosed()) {
            acks.onError(Status.UNAVAILABLE.withDescription("peer transport closed").asRuntimeException());
            return s.ignoreAll();
        }
        streams.add(s);
        acks.setOnCancelHandler(s::onCancelled);
        acks.request(1);
        return s;
    }

    /** Ends every inbound stream, for example when the transport closes. */
    void closeAll(Status status) {
        for (InboundStream s : streams) {
            s.fail(status);
        }
    }

    /** Ends the streams from {@code peer} with a refusal: it is no longer a member. */
    void refuseFrom(NodeId peer) {
        for (InboundStream s : streams) {
            if (peer.equals(s.from)) {
                s.refuseOpen(Refusal.Reason.WRONG_NODE, "node " + peer + " was removed from this node's peers");
            }
        }
    }

    int openStreams() {
        return streams.size();
    }

    private void logRefusal(String claimedFrom, Refusal.Reason reason, String detail) {
        String key = claimedFrom + "|" + reason;
        if (refusalsLogged.size() < REFUSALS_LOGGED_MAX && refusalsLogged.add(key)) {
            log.warn("peer_stream_refused node={} from=\"{}\" reason={} detail=\"{}\"", transport.self(),
                    claimedFrom, reason, detail);
        } else {
            log.debug("peer_stream_refused node={} from=\"{}\" reason={}", transport.self(), claimedFrom, reason);
        }
    }

    /**
     * One inbound stream. gRPC calls onNext/onError/onCompleted one at a time; {@link #fail}
     * and {@link #refuseOpen} may come from other threads, so every use of {@code acks} and
     * {@code ended} is under {@code this}.
     */
    private final class InboundStream implements StreamObserver<PeerBatch> {
        private final ServerCallStreamObserver<PeerAck> acks;
        private volatile NodeId from;
        private PeerMeters meters;
        private long expectedSeq = 1;
        private boolean ended;
        private boolean malformedLogged;

        InboundStream(ServerCallStreamObserver<PeerAck> acks) {
            this.acks = acks;
        }

        @Override
        public void onNext(PeerBatch batch) {
            synchronized (this) {
                if (ended) {
                    return;
                }
            }
            if (from == null && !accept(batch)) {
                return;
            }
            if (batch.getBatchSeq() != expectedSeq) {
                meters.dropped(DropReason.MALFORMED).increment(batch.getMessagesCount());
                log.warn("peer_batch_malformed node={} from={} batch_seq={} expected={}", transport.self(), from,
                        Long.toUnsignedString(batch.getBatchSeq()), expectedSeq);
                fail(Status.INVALID_ARGUMENT.withDescription(PeerMalformedException.CODE + ": batch_seq "
                        + Long.toUnsignedString(batch.getBatchSeq()) + ", expected " + expectedSeq));
                return;
            }
            expectedSeq++;
            int dropped = 0;
            for (PeerMessage wire : batch.getMessagesList()) {
                meters.messagesReceived.increment();
                meters.bytesReceived.increment(CodedOutputStream.computeMessageSize(
                        PeerBatch.MESSAGES_FIELD_NUMBER, wire));
                if (!deliver(wire)) {
                    dropped++;
                }
            }
            synchronized (this) {
                if (ended) {
                    return;
                }
                acks.onNext(PeerAck.newBuilder()
                        .setAckedBatchSeq(batch.getBatchSeq())
                        .setWindowBytes(transport.options().receiveWindowBytes())
                        .setDroppedMessages(dropped)
                        .build());
                acks.request(1);
            }
        }

        /** Decodes and hands over one message; false if it was dropped (and counted). */
        private boolean deliver(PeerMessage wire) {
            InboundMessage m;
            try {
                m = RaftWireCodec.decode(wire);
                // A message claiming another sender or addressee than its stream is forged or
                // misrouted; Raft must never see it as coming from the node it names.
                if (!m.envelope().from().equals(from) || !m.envelope().to().equals(transport.self())) {
                    throw new PeerMalformedException("message from " + m.envelope().from() + " to "
                            + m.envelope().to() + " on the stream from " + from + " to " + transport.self());
                }
            } catch (PeerMalformedException e) {
                meters.dropped(DropReason.MALFORMED).increment();
                // Once per stream at WARN: a broken or hostile sender could otherwise fill the log.
                if (!malformedLogged) {
                    malformedLogged = true;
                    log.warn("peer_message_malformed node={} from={} group={} code={} reason=\"{}\"",
                            transport.self(), from, Long.toUnsignedString(wire.getGroupId()), e.code(), e.reason());
                } else {
                    log.debug("peer_message_malformed node={} from={} reason=\"{}\"", transport.self(), from,
                            e.reason());
                }
                return false;
            }
            if (transport.inbox().deliver(m.groupId(), m.envelope(), m.traceparent())) {
                return true;
            }
            meters.dropped(DropReason.INBOX_FULL).increment();
            return false;
        }

        /** Checks the stream's first batch; refuses the stream (and changes nothing) on a mismatch. */
        private boolean accept(PeerBatch batch) {
            StreamOpen open = batch.getOpen();
            String claimedFrom = open.getFromNode();
            Refusal.Reason reason = null;
            String detail = null;
            if (!batch.hasOpen()) {
                reason = Refusal.Reason.REASON_UNSPECIFIED;
                detail = PeerMalformedException.CODE + ": first batch carries no StreamOpen";
            } else if (open.getProtocolVersion() != PeerTransport.PROTOCOL_VERSION) {
                reason = Refusal.Reason.UNKNOWN_PROTOCOL_VERSION;
                detail = "protocol version " + open.getProtocolVersion() + ", this node speaks "
                        + PeerTransport.PROTOCOL_VERSION;
            } else if (!transport.clusterId().equals(open.getClusterId())) {
                reason = Refusal.Reason.WRONG_CLUSTER;
                detail = "cluster \"" + open.getClusterId() + "\", this node is in \"" + transport.clusterId() + "\"";
            } else if (!transport.self().value().equals(open.getToNode())) {
                reason = Refusal.Reason.WRONG_NODE;
                detail = "stream for \"" + open.getToNode() + "\" reached " + transport.self();
            } else if (claimedFrom.isEmpty() || !transport.isPeer(NodeId.of(claimedFrom))) {
                reason = Refusal.Reason.WRONG_NODE;
                detail = "sender \"" + claimedFrom + "\" is not a peer of " + transport.self();
            } else if (batch.getBatchSeq() != 1) {
                reason = Refusal.Reason.REASON_UNSPECIFIED;
                detail = PeerMalformedException.CODE + ": first batch_seq " + Long.toUnsignedString(batch.getBatchSeq());
            }
            if (reason != null) {
                PeerMeters m = transport.metersForInbound(claimedFrom);
                m.streamsRefused.increment();
                m.dropped(DropReason.REFUSED).increment(batch.getMessagesCount());
                logRefusal(claimedFrom.length() > RaftWireCodec.NODE_ID_CHARS_MAX
                        ? claimedFrom.substring(0, RaftWireCodec.NODE_ID_CHARS_MAX) : claimedFrom, reason, detail);
                refuseOpen(reason, detail);
                return false;
            }
            from = NodeId.of(claimedFrom);
            meters = transport.metersForInbound(claimedFrom);
            log.debug("peer_stream_accepted node={} from={}", transport.self(), from);
            return true;
        }

        /** Answers with a refusal and ends the stream, which is what peer.proto asks of a refusal. */
        synchronized void refuseOpen(Refusal.Reason reason, String detail) {
            if (ended) {
                return;
            }
            ended = true;
            streams.remove(this);
            acks.onNext(PeerAck.newBuilder()
                    .setRefusal(Refusal.newBuilder().setReason(reason).setDetail(detail))
                    .build());
            acks.onCompleted();
        }

        synchronized void fail(Status status) {
            if (ended) {
                return;
            }
            ended = true;
            streams.remove(this);
            acks.onError(status.asRuntimeException());
        }

        @Override
        public void onError(Throwable t) {
            // The sender went away (cancelled, connection lost): it reconnects on its own.
            synchronized (this) {
                ended = true;
            }
            streams.remove(this);
            log.debug("peer_stream_ended node={} from={} status={}", transport.self(), from,
                    Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                if (!ended) {
                    ended = true;
                    acks.onCompleted();
                }
            }
            streams.remove(this);
        }

        void onCancelled() {
            synchronized (this) {
                ended = true;
            }
            streams.remove(this);
        }

        /** An observer for a stream refused before it started: its batches are ignored. */
        StreamObserver<PeerBatch> ignoreAll() {
            ended = true;
            return this;
        }
    }
}
