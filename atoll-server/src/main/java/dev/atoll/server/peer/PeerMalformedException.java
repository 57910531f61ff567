package dev.atoll.server.peer;

/**
 * A message or batch from the network that cannot be turned into a protocol message. Thrown
 * only by decoding, which sees untrusted input; the receiver counts it, logs it and drops the
 * message, and the stream goes on. {@link #code()} is stable for logs and metrics.
 */
public final class PeerMalformedException extends IllegalArgumentException {
    /** The stable code every malformed-input error carries. */
    public static final String CODE = "PEER_MALFORMED";

    private final String reason;

    public PeerMalformedException(String reason) {
        super(CODE + ": " + reason);
        this.reason = reason;
    }

    public PeerMalformedException(String reason, Throwable cause) {
        super(CODE + ": " + reason, cause);
        this.reason = reason;
    }

    public String code() {
        return CODE;
    }

    /** What was wrong, without the code prefix. */
    public String reason() {
        return reason;
    }
}
