package dev.atoll.core.protocol;

/**
 * A protocol that agrees on one totally ordered log of commands (Raft, Multi-Paxos, PBFT).
 * The simulator and the node runtime drive every such protocol through this interface, never
 * through a protocol's own types, so faults and checkers are shared.
 */
public interface ReplicatedLog<M> extends Protocol<M> {
    /**
     * Offers a command for the log. {@link ProposeResult.Accepted} names the index and term
     * the entry was appended at: the command is committed when an entry with that index
     * <em>and</em> term is applied; another term at that index means it was lost.
     * {@link ProposeResult.Forwarded}: a replica that is not the leader but knows it relayed the
     * command; a later Ready's {@link ProposalOutcome} with the same proposalId says what the
     * leader made of it (or nothing arrives and the driver times out). Proposal ids are unique
     * within one replica object: a restarted replica never receives an outcome meant for its
     * previous incarnation.
     */
    ProposeResult propose(byte[] command);

    /** Offers a membership change; at most one may be pending at a time. */
    ProposeResult proposeMembership(MembershipChange change);

    /**
     * Asks for a linearizable read barrier. When accepted, a later Ready carries a
     * {@link ReadState} with {@code readId}: the read may be served from the state machine
     * once it has applied up to that index. A read that never gets its ReadState failed and
     * had no effect. {@link ProposeResult.Forwarded}: a follower asked its leader for the read
     * index; the ReadState (or a {@link ReadRefusal}) comes in a later Ready, and the read is
     * served locally once applied, exactly as on the leader. The driver chooses {@code readId}
     * and must not reuse one within the life of this replica object.
     */
    ProposeResult requestRead(long readId);

    /**
     * The application saved a snapshot of its state machine at {@code index} (at most the
     * applied index); the core may drop log entries up to it and send the snapshot to
     * followers that fell behind.
     */
    void compact(long index, byte[] snapshotData);

    /** Asks the leader to hand leadership to {@code target}. */
    ProposeResult transferLeadership(dev.atoll.core.NodeId target);

    /** A consistent view of the core's state, for invariants, metrics and status pages. */
    LogStatus status();

    /** Read-only view of this replica's log, for invariant checks. */
    LogView log();

    /**
     * Whether this replica is quiesced: its group is idle and it runs no timer until some input
     * (a message, a proposal, a read, {@link #reportUnreachable}) wakes it, so a driver may skip
     * its ticks. Protocols that never quiesce say false.
     */
    default boolean isQuiesced() {
        return false;
    }

    /**
     * The driver's failure detector says {@code peer} cannot be reached (its node is down or
     * its link broken). A quiesced replica whose leader that is wakes; protocols without
     * quiescence may ignore it.
     */
    default void reportUnreachable(dev.atoll.core.NodeId peer) {
    }
}
