package dev.atoll.core.protocol;

import java.util.List;

/**
 * One batch of effects from a core, carried out in this order:
 * <ol>
 *   <li>persist {@code hardState} (if not null), {@code snapshot} (if not null) and
 *       {@code entries} (which replace any persisted entries at or after the first one's
 *       index), durably;</li>
 *   <li>send {@code messages};</li>
 *   <li>install {@code snapshot} in the state machine, then apply {@code committed} in order;</li>
 *   <li>serve each {@code reads} entry once the state machine has applied its index.</li>
 * </ol>
 */
public record Ready<M>(
        HardState hardState,
        Snapshot snapshot,
        List<Entry> entries,
        List<Envelope<M>> messages,
        List<Entry> committed,
        List<ReadState> reads) {

    public Ready {
        entries = List.copyOf(entries);
        messages = List.copyOf(messages);
        committed = List.copyOf(committed);
        reads = List.copyOf(reads);
    }

    public boolean mustPersist() {
        return hardState != null || snapshot != null || !entries.isEmpty();
    }
}
