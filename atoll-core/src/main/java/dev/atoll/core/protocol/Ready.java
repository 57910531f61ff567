package dev.atoll.core.protocol;

import java.util.List;

import static dev.atoll.core.Check.checkArgument;

/**
 * One batch of effects from a core, carried out in this order:
 * <ol>
 *   <li>optionally, send {@link #messagesBeforePersist()} (see below);</li>
 *   <li>persist {@code hardState} (if not null), {@code snapshot} (if not null) and
 *       {@code entries} (which replace any persisted entries at or after the first one's
 *       index), durably;</li>
 *   <li>send {@link #messagesAfterPersist()} (or all of {@code messages}, if none went out
 *       early);</li>
 *   <li>move the waiters of forwarded proposals as {@code proposalOutcomes} say (before
 *       applying, so an entry applied in this very Ready finds its waiter);</li>
 *   <li>install {@code snapshot} in the state machine, then apply {@code committed} in order;</li>
 *   <li>serve each {@code reads} entry once the state machine has applied its index; fail each
 *       {@code readsRefused} read at once.</li>
 * </ol>
 *
 * <p><b>Messages before persisting</b> (Raft thesis §10.2.1). The first
 * {@code messagesBeforePersistCount} of {@code messages} depend on nothing this Ready persists:
 * they are a leader's AppendEntries, Heartbeats, InstallSnapshot chunks and answers to
 * forwarded proposals and reads, in a term whose hard state (term and vote) an earlier Ready
 * already made durable. A driver may send them before (or while) it persists this Ready, which
 * takes one fsync off the latency of a write: followers store the leader's new entries in
 * parallel with the leader. The core counts its own entries toward a commit quorum only once
 * they are durable (after {@code advance}). Vote responses, append acknowledgements and every
 * other message come after them and must wait for the persist. A driver that sends everything
 * after persisting is also correct; the early messages are always a prefix, so per-link order is
 * the same either way.
 */
public record Ready<M>(
        HardState hardState,
        Snapshot snapshot,
        List<Entry> entries,
        List<Envelope<M>> messages,
        int messagesBeforePersistCount,
        List<Entry> committed,
        List<ReadState> reads,
        List<ReadRefusal> readsRefused,
        List<ProposalOutcome> proposalOutcomes) {

    public Ready {
        entries = List.copyOf(entries);
        messages = List.copyOf(messages);
        committed = List.copyOf(committed);
        reads = List.copyOf(reads);
        readsRefused = List.copyOf(readsRefused);
        proposalOutcomes = List.copyOf(proposalOutcomes);
        checkArgument(messagesBeforePersistCount >= 0 && messagesBeforePersistCount <= messages.size(),
                "messagesBeforePersistCount %d outside [0, %d]", messagesBeforePersistCount, messages.size());
    }

    /** A Ready whose messages all wait for the persist, with no forwarded outcomes or refusals. */
    public Ready(HardState hardState, Snapshot snapshot, List<Entry> entries, List<Envelope<M>> messages,
                 List<Entry> committed, List<ReadState> reads) {
        this(hardState, snapshot, entries, messages, 0, committed, reads, List.of(), List.of());
    }

    public boolean mustPersist() {
        return hardState != null || snapshot != null || !entries.isEmpty();
    }

    /** The messages a driver may send before it persists this Ready (a prefix of {@code messages}). */
    public List<Envelope<M>> messagesBeforePersist() {
        return messages.subList(0, messagesBeforePersistCount);
    }

    /** The messages that must wait until this Ready is durable (the rest of {@code messages}). */
    public List<Envelope<M>> messagesAfterPersist() {
        return messages.subList(messagesBeforePersistCount, messages.size());
    }
}
