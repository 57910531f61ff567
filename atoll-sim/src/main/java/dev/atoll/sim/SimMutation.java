package dev.atoll.sim;

/**
 * Bugs that belong to the driver rather than to a protocol core; only the simulator can
 * enable them. A campaign with one of these on must report a violation.
 */
public enum SimMutation {
    /** Linearizable reads served from whichever replica the client reached, from its local state. */
    FOLLOWER_LOCAL_READS,
    /** Messages sent and entries applied as soon as they are written, before the fsync completes. */
    ACK_BEFORE_PERSIST,
    /**
     * A follower serves a read as soon as the leader's read index arrives, without waiting until
     * its own state machine has applied up to that index.
     */
    FOLLOWER_READ_BEFORE_APPLY
}
