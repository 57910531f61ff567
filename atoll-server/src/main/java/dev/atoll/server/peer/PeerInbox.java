package dev.atoll.server.peer;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.protocol.Envelope;

/**
 * Where a {@link PeerTransport} hands the messages it receives.
 *
 * <p>Called on gRPC threads, one call at a time per inbound stream and in the order the sender
 * sent them; calls for different streams (different senders) may run concurrently. An
 * implementation must neither block nor touch a protocol core: the cores belong to the
 * runtime's loop thread, so the inbox hands the message over (for instance through a bounded
 * {@link InboundQueue}) and returns. Returning false drops the message (queue full, group
 * unknown); the sender learns the count in its ack and Raft retries what it still needs.
 */
@FunctionalInterface
public interface PeerInbox {
    /**
     * @param traceparent the W3C trace context the message carried, {@code ""} when untraced
     * @return whether the message was taken
     */
    boolean deliver(long groupId, Envelope<RaftMessage> envelope, String traceparent);
}
