package dev.atoll.server.peer;

/** Where this node's outbound stream to one peer stands. */
public enum LinkState {
    /** A stream was opened and the peer has not yet acknowledged its StreamOpen. */
    CONNECTING,
    /** The peer acknowledged the stream: batches flow within its credit. */
    CONNECTED,
    /** The stream broke or could not open; a new one opens after a jittered backoff. */
    BACKING_OFF,
    /** The peer refused the stream for a cause only an operator fixes; retried rarely. */
    REFUSED,
    /** The transport is closed or the peer removed. */
    CLOSED
}
