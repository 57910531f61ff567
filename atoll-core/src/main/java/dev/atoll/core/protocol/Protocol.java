package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

/**
 * A pure protocol core: a deterministic state machine with no threads, I/O, clocks or
 * randomness of its own (DESIGN.md section 2). A driver (the node runtime or the simulator)
 * feeds it ticks and messages and carries out the effects it returns, in the
 * Ready/Advance style of etcd-io/raft:
 *
 * <pre>
 *   tick() / step(m) / propose(...)   any number of times
 *   if (hasReady()) {
 *       Ready r = ready();             // take the effects; no new Ready until advance
 *       send r.messagesBeforePersist() // optional: they do not depend on this Ready's writes
 *       persist r (hard state, snapshot, entries) durably
 *       send r.messagesAfterPersist(); apply r.committed(); serve r.reads()
 *       advance(r);
 *   }
 * </pre>
 *
 * Messages after the persist and committed entries depend on what the same Ready persists: a
 * driver sends and applies them only once the persisted part is durable ({@link Ready} says
 * which messages may go earlier). Not thread-safe: one driver thread.
 *
 * @param <M> the protocol's message type
 */
public interface Protocol<M> {
    NodeId id();

    /** Logical time advances one step; the driver decides how long a tick is. */
    void tick();

    /** A message from a peer arrived. Messages may be late, duplicated, reordered or forged. */
    void step(Envelope<M> envelope);

    /** Whether {@link #ready()} has anything to do. */
    boolean hasReady();

    /** Takes the pending effects. Call {@link #advance(Ready)} once they are carried out. */
    Ready<M> ready();

    /** The driver persisted, sent and applied everything in {@code ready}. */
    void advance(Ready<M> ready);
}
