package dev.atoll.server.peer;

/** Why a message was dropped; the {@code reason} tag of {@code atoll.peer.messages.dropped}. */
enum DropReason {
    /** Sender: a new message found the peer's queue full while the stream was up. */
    QUEUE_FULL("queue_full"),
    /** Sender: the oldest queued message made room for a new one while the peer was unreachable. */
    EVICTED("evicted"),
    /** Sender: a single message larger than batchBytesMax. */
    TOO_LARGE("too_large"),
    /** Sender: addressed to a node that is not a peer. */
    UNKNOWN_PEER("unknown_peer"),
    /** Sender: the peer refused the stream. Receiver: a message on a stream this node refused. */
    REFUSED("refused"),
    /** Receiver: the message did not decode, or claimed another sender or addressee than its stream. */
    MALFORMED("malformed"),
    /** Receiver: the inbox did not take the message (full, or no such group). */
    INBOX_FULL("inbox_full"),
    /** Sender: still queued when the transport closed or the peer was removed. */
    CLOSED("closed");

    final String tag;

    DropReason(String tag) {
        this.tag = tag;
    }
}
