package dev.atoll.consensus.raft;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.LogView;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.Snapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.atoll.core.Check.check;

/**
 * A replica's in-memory log: the snapshot it starts after, then the entries after it. Entries
 * up to {@link #stableIndex()} are durable; those after {@link #offeredIndex()} have not yet
 * been handed to the driver in a Ready. Also tracks the membership in force after each
 * membership entry, since a replica uses the latest one in its log, committed or not
 * (thesis §4.1). Pure: no I/O, no clock.
 */
final class RaftLog implements LogView {
    /** A (index, term) pair; term is -1 when unknown. */
    record Position(long index, long term) {
    }

    private Snapshot snapshot;
    private final ArrayList<Entry> entries = new ArrayList<>();
    private long stableIndex;
    private long offeredIndex;
    /** Index of each membership entry still in the log, with the membership in force after it. */
    private final TreeMap<Long, Membership> membershipByIndex = new TreeMap<>();

    /** A log restored from disk: everything in it is already durable. */
    RaftLog(Snapshot snapshot, List<Entry> persisted) {
        this.snapshot = snapshot;
        this.stableIndex = snapshot.index();
        this.offeredIndex = snapshot.index();
        for (Entry e : persisted) {
            append(e);
        }
        this.stableIndex = lastIndex();
        this.offeredIndex = lastIndex();
    }

    // ---- LogView ----

    @Override
    public long snapshotIndex() {
        return snapshot.index();
    }

    @Override
    public long lastIndex() {
        return snapshot.index() + entries.size();
    }

    @Override
    public long term(long index) {
        if (index == snapshot.index()) {
            return snapshot.term();
        }
        if (index < snapshot.index() || index > lastIndex()) {
            return -1;
        }
        return entries.get((int) (index - snapshot.index() - 1)).term();
    }

    @Override
    public Entry entry(long index) {
        if (index <= snapshot.index() || index > lastIndex()) {
            return null;
        }
        return entries.get((int) (index - snapshot.index() - 1));
    }

    // ---- queries ----

    Snapshot snapshot() {
        return snapshot;
    }

    long lastTerm() {
        return term(lastIndex());
    }

    long stableIndex() {
        return stableIndex;
    }

    long offeredIndex() {
        return offeredIndex;
    }

    boolean matchTerm(long index, long term) {
        long t = term(index);
        return t >= 0 && t == term;
    }

    /** §5.4.1: a log is at least as up-to-date if its last term is higher, or equal with a longer log. */
    boolean isUpToDate(long otherLastIndex, long otherLastTerm) {
        return otherLastTerm > lastTerm() || (otherLastTerm == lastTerm() && otherLastIndex >= lastIndex());
    }

    /**
     * A node started with an empty membership that has not yet received a snapshot: it knows
     * nothing, not even the voters the group was bootstrapped with, so its index 0 cannot be
     * trusted to match anyone's.
     */
    boolean isUninitialized() {
        return snapshot.index() == 0 && entries.isEmpty()
                && snapshot.membership().voters().isEmpty() && snapshot.membership().learners().isEmpty();
    }

    /**
     * The last index at or below {@code index} (clamped to the log) whose term is at most
     * {@code term}, with that term; the snapshot point when none is found above it. Used on both
     * sides of the fast backtracking of §5.3.
     */
    Position findConflictByTerm(long index, long term) {
        long i = Math.min(index, lastIndex());
        while (i > snapshot.index()) {
            long t = term(i);
            if (t <= term) {
                return new Position(i, t);
            }
            i--;
        }
        if (i < snapshot.index()) {
            return new Position(i, -1);
        }
        return new Position(snapshot.index(), snapshot.term());
    }

    /** Entries [from, toInclusive], at most {@code countMax} and {@code bytesMax} bytes, but at least one. */
    List<Entry> slice(long from, long toInclusive, int countMax, long bytesMax) {
        check(from > snapshot.index(), "slice starts after the snapshot: %d <= %d", from, snapshot.index());
        long to = Math.min(toInclusive, lastIndex());
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i <= to && out.size() < countMax; i++) {
            Entry e = entry(i);
            bytes += e.sizeBytes();
            if (!out.isEmpty() && bytes > bytesMax) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    Membership membership() {
        return membershipByIndex.isEmpty() ? snapshot.membership() : membershipByIndex.lastEntry().getValue();
    }

    /** The membership in force once entries up to {@code index} are in the log. */
    Membership membershipAt(long index) {
        Map.Entry<Long, Membership> e = membershipByIndex.floorEntry(index);
        return e == null ? snapshot.membership() : e.getValue();
    }

    /** Index of the latest membership entry (or the snapshot index if none is in the log). */
    long lastMembershipIndex() {
        return membershipByIndex.isEmpty() ? snapshot.index() : membershipByIndex.lastKey();
    }

    // ---- changes ----

    /** Appends one entry right after the last one. */
    void append(Entry e) {
        check(e.index() == lastIndex() + 1, "log has no gaps: appending %d after %d", e.index(), lastIndex());
        check(e.term() >= lastTerm(), "log terms never go down: %d after %d", e.term(), lastTerm());
        entries.add(e);
        if (e.kind() == Entry.Kind.MEMBERSHIP) {
            membershipByIndex.put(e.index(), applyChange(membership(), e));
        }
    }

    /**
     * Drops entries at and after {@code index}, which a leader's conflicting entries replace
     * (§5.3). The membership reverts to the latest one still in the log (thesis §4.1).
     */
    void truncateFrom(long index) {
        check(index > snapshot.index(), "never truncate into the snapshot: %d <= %d", index, snapshot.index());
        if (index > lastIndex()) {
            return;
        }
        entries.subList((int) (index - snapshot.index() - 1), entries.size()).clear();
        membershipByIndex.tailMap(index, true).clear();
        stableIndex = Math.min(stableIndex, index - 1);
        offeredIndex = Math.min(offeredIndex, index - 1);
    }

    /** Entries not yet handed to the driver; marks them handed. */
    List<Entry> takeUnstable() {
        if (offeredIndex >= lastIndex()) {
            return List.of();
        }
        List<Entry> out = List.copyOf(entries.subList((int) (offeredIndex - snapshot.index()), entries.size()));
        offeredIndex = lastIndex();
        return out;
    }

    boolean hasUnstable() {
        return offeredIndex < lastIndex();
    }

    /**
     * The driver made durable a Ready whose entries ended at {@code lastIndex}. Entries truncated
     * since it was taken lowered {@code offeredIndex}; only the prefix that survived is stable.
     */
    void stableTo(long lastIndex) {
        stableIndex = Math.max(stableIndex, Math.min(lastIndex, offeredIndex));
    }

    /**
     * The application snapshotted its state at {@code index}: drop entries up to it, keeping
     * the snapshot (with the membership in force there) for followers that fall behind (§7).
     */
    void compact(long index, byte[] data) {
        check(index > snapshot.index() && index <= stableIndex,
                "compaction index in (snapshotIndex, stableIndex]: %d not in (%d, %d]", index, snapshot.index(), stableIndex);
        Snapshot next = new Snapshot(index, term(index), membershipAt(index), data);
        entries.subList(0, (int) (index - snapshot.index())).clear();
        membershipByIndex.headMap(index, true).clear();
        snapshot = next;
    }

    /**
     * Replaces the log by a snapshot received from the leader (§7). Entries after it are kept
     * if the log holds the snapshot's last entry; they become unstable again, because the driver
     * replaces its whole persisted log with the snapshot followed by the Ready's entries.
     */
    void restore(Snapshot s) {
        List<Entry> kept = matchTerm(s.index(), s.term()) && s.index() <= lastIndex()
                ? List.copyOf(entries.subList((int) Math.max(0, s.index() - snapshot.index()), entries.size()))
                : List.of();
        entries.clear();
        membershipByIndex.clear();
        snapshot = s;
        stableIndex = s.index();
        offeredIndex = s.index();
        for (Entry e : kept) {
            append(e);
        }
    }

    /**
     * The membership after a membership entry. An entry that does not decode or make sense (only
     * a forged one can) changes nothing, on every replica alike.
     */
    static Membership applyChange(Membership before, Entry e) {
        try {
            return before.apply(MembershipChange.decode(e.data()));
        } catch (IllegalArgumentException malformed) {
            return before;
        }
    }
}
