package dev.atoll.sim;

import dev.atoll.core.RandomSource;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.Snapshot;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A replica's disk as a write-ahead log sees it: writes land in order, become durable only at
 * fsync, and a crash keeps a random prefix of the unsynced writes — possibly with the last
 * batch torn (some of its entries written, the rest lost, the torn record dropped by its CRC).
 * Within one batch the order is snapshot, entries, hard state, as a WAL writes them.
 */
public final class SimDisk {
    /** One batch of writes: what one Ready asked to persist. */
    record Batch(long seq, Snapshot snapshot, List<Entry> entries, HardState hardState) {
    }

    private HardState hardState;
    private Snapshot snapshot;
    private final ArrayList<Entry> entries = new ArrayList<>();
    private final ArrayDeque<Batch> unsynced = new ArrayDeque<>();
    private long nextBatchSeq = 1;
    private long fsyncCount;

    public SimDisk(PersistentState initial) {
        this.hardState = initial.hardState();
        this.snapshot = initial.snapshot();
        this.entries.addAll(initial.entries());
    }

    /** Queues a write; returns its sequence number for {@link #syncThrough(long)}. */
    public long write(Snapshot snap, List<Entry> newEntries, HardState hs) {
        var b = new Batch(nextBatchSeq++, snap, List.copyOf(newEntries), hs);
        unsynced.addLast(b);
        return b.seq();
    }

    /** fsync completed: every batch up to {@code seq} is durable. */
    public void syncThrough(long seq) {
        fsyncCount++;
        while (!unsynced.isEmpty() && unsynced.peekFirst().seq() <= seq) {
            applyDurably(unsynced.pollFirst(), Integer.MAX_VALUE);
        }
    }

    /** The application saved a snapshot of its state machine and compacted the log (synced at once). */
    public void saveSnapshot(Snapshot snap) {
        if (snap.index() <= snapshot.index()) {
            return;
        }
        installSnapshot(snap);
    }

    /**
     * Power loss: unsynced writes are lost, except a random prefix that had reached the platter;
     * the last surviving batch may be torn.
     */
    public void crash(RandomSource random, boolean tornWrites) {
        if (tornWrites && !unsynced.isEmpty()) {
            int keep = random.nextInt(unsynced.size() + 1);
            for (int i = 0; i < keep; i++) {
                applyDurably(unsynced.pollFirst(), Integer.MAX_VALUE);
            }
            if (!unsynced.isEmpty()) {
                Batch torn = unsynced.pollFirst();
                // entries are written before the hard state: a torn batch keeps a prefix of them
                applyDurably(new Batch(torn.seq(), torn.snapshot(), torn.entries(), null),
                        random.nextInt(torn.entries().size() + 1));
            }
        }
        unsynced.clear();
    }

    public PersistentState load() {
        return new PersistentState(hardState, snapshot, entries);
    }

    public boolean hasUnsynced() {
        return !unsynced.isEmpty();
    }

    public long fsyncCount() {
        return fsyncCount;
    }

    private void applyDurably(Batch b, int entryCountMax) {
        if (b.snapshot() != null && b.snapshot().index() >= snapshot.index()) {
            // a received snapshot replaces the whole log; the Ready re-sends any entries kept after it
            snapshot = b.snapshot();
            entries.clear();
        }
        int written = 0;
        for (Entry e : b.entries()) {
            if (written++ >= entryCountMax) {
                break;
            }
            appendTruncating(e);
        }
        if (b.hardState() != null) {
            hardState = b.hardState();
        }
    }

    private void installSnapshot(Snapshot snap) {
        // keep the entries after the snapshot only if they continue it
        var kept = new ArrayList<Entry>();
        for (Entry e : entries) {
            if (e.index() > snap.index()) {
                kept.add(e);
            }
        }
        boolean continues = kept.isEmpty()
                || (kept.get(0).index() == snap.index() + 1 && termAt(snap.index()) == snap.term());
        entries.clear();
        if (continues) {
            entries.addAll(kept);
        }
        snapshot = snap;
    }

    private long termAt(long index) {
        if (index == snapshot.index()) {
            return snapshot.term();
        }
        long first = entries.isEmpty() ? snapshot.index() + 1 : entries.get(0).index();
        int pos = (int) (index - first);
        return pos >= 0 && pos < entries.size() ? entries.get(pos).term() : -1;
    }

    private void appendTruncating(Entry e) {
        if (e.index() <= snapshot.index()) {
            return;
        }
        long next = snapshot.index() + 1 + entries.size();
        if (e.index() > next) {
            // a gap can only come from a write that lost its predecessor (the ack-before-persist
            // mutation); the log must stay contiguous, so the entry is dropped as a torn record
            return;
        }
        int pos = (int) (e.index() - snapshot.index() - 1);
        while (entries.size() > pos) {
            entries.remove(entries.size() - 1);
        }
        entries.add(e);
    }
}
