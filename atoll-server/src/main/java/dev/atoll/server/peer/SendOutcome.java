package dev.atoll.server.peer;

/**
 * What {@link PeerTransport#send} did with a message. Raft treats every message as possibly
 * lost and retries on its own schedule, so a driver may ignore this; it is a value for tests,
 * metrics and status pages, never an error.
 */
public enum SendOutcome {
    /** In the peer's outbound queue; the next flush (or reconnect) sends it. */
    QUEUED,
    /** The peer's queue is at outboundMessagesMax/outboundBytesMax while its stream is up. */
    DROPPED_QUEUE_FULL,
    /** The encoded message is larger than batchBytesMax and could never be sent. */
    DROPPED_TOO_LARGE,
    /** The addressee is not a peer of this transport (membership changed under the sender). */
    DROPPED_UNKNOWN_PEER,
    /** The peer refused this node's stream (wrong cluster or protocol version). */
    DROPPED_REFUSED,
    /** The transport is closed. */
    DROPPED_CLOSED
}
