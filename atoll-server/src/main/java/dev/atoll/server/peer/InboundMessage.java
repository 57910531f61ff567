package dev.atoll.server.peer;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.protocol.Envelope;

import java.util.Objects;

/**
 * One decoded Raft message for replica group {@code groupId}, with the W3C trace context it
 * travelled with ({@code ""} when untraced).
 */
public record InboundMessage(long groupId, Envelope<RaftMessage> envelope, String traceparent) {
    public InboundMessage {
        Objects.requireNonNull(envelope, "envelope");
        traceparent = traceparent == null ? "" : traceparent;
    }
}
