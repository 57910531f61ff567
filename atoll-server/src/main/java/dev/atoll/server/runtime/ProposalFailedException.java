package dev.atoll.server.runtime;

/**
 * A proposal or read did not complete: dropped by Raft (transfer in progress, too large, too
 * many pending), lost to a leader change, or the node is stopping. {@code definite} tells
 * whether the command certainly did not take effect.
 */
public final class ProposalFailedException extends RuntimeException {
    private final boolean definite;

    public ProposalFailedException(String message, boolean definite) {
        super(message, null, false, false);
        this.definite = definite;
    }

    public boolean definite() {
        return definite;
    }
}
