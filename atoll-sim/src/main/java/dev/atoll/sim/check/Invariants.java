package dev.atoll.sim.check;

import dev.atoll.core.InvariantViolation;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.LogView;
import dev.atoll.core.protocol.ReplicatedLog;
import dev.atoll.core.protocol.Role;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The safety properties of a replicated log (Raft paper Figure 3), checked by the simulator
 * after every event through the protocol SPI only:
 * <ul>
 *   <li>election safety: at most one leader per term;</li>
 *   <li>log matching: two logs with an entry of the same index and term hold the same command
 *       there and agree on the term before it (so, by induction, on the whole prefix);</li>
 *   <li>leader completeness: a new leader's log holds every entry any replica has applied,
 *       when that entry was committed in an earlier term (the committing leader's term is at
 *       most the highest leader term seen when the entry was first applied);</li>
 *   <li>state machine safety: no two replicas apply different entries at one index;</li>
 *   <li>commit monotonicity: a replica's commit index never goes back while it runs.</li>
 * </ul>
 * Each violation throws {@link InvariantViolation} naming the property.
 */
public final class Invariants {
    private record EntryKey(long index, long term) {
    }

    private record Seen(NodeId by, byte[] data, long prevTerm) {
    }

    private static final class Replica {
        long commitIndex;
        long checkedIndex;
        long[] checkedTerms = new long[64];
        long leaderTermChecked;
    }

    private final Map<Long, NodeId> leaderByTerm = new HashMap<>();
    private final Map<EntryKey, Seen> entriesSeen = new HashMap<>();
    private final Map<Long, Entry> applied = new HashMap<>();
    /** Per applied index: the highest leader term seen when it was first applied, a bound on its commit term. */
    private final Map<Long, Long> commitTermBound = new HashMap<>();
    private long leaderTermMax;
    private final Map<NodeId, NodeId> appliedBy = new HashMap<>();
    private final Map<NodeId, Replica> replicas = new HashMap<>();
    private long appliedIndexMax;

    /** The replica restarted from its disk: its in-memory history begins again. */
    public void onRestart(NodeId id) {
        replicas.put(id, new Replica());
    }

    /** Checks every property that can change when {@code replica} handled an event. */
    public void afterEvent(ReplicatedLog<?> replica) {
        LogStatus s = replica.status();
        Replica r = replicas.computeIfAbsent(s.id(), k -> new Replica());
        checkCommitMonotonic(s, r);
        checkLogMatching(s.id(), replica.log(), r);
        if (s.role() == Role.LEADER) {
            checkElectionSafety(s);
            if (r.leaderTermChecked != s.term()) {
                r.leaderTermChecked = s.term();
                checkLeaderCompleteness(s, replica.log());
            }
        }
    }

    /** A replica applied {@code entry} to its state machine. */
    public void onApply(NodeId id, Entry entry) {
        Entry before = applied.putIfAbsent(entry.index(), entry);
        if (before == null) {
            commitTermBound.put(entry.index(), Math.max(leaderTermMax, entry.term()));
        }
        if (before != null && !before.equals(entry)) {
            throw new InvariantViolation(String.format(
                    "state machine safety: %s applied %s at index %d but %s applied %s there",
                    id, entry, entry.index(), appliedBy.get(id), before));
        }
        appliedIndexMax = Math.max(appliedIndexMax, entry.index());
        appliedBy.putIfAbsent(id, id);
    }

    public long appliedIndexMax() {
        return appliedIndexMax;
    }

    private void checkCommitMonotonic(LogStatus s, Replica r) {
        if (s.commitIndex() < r.commitIndex) {
            throw new InvariantViolation(String.format("commit index went back on %s: %d after %d",
                    s.id(), s.commitIndex(), r.commitIndex));
        }
        r.commitIndex = s.commitIndex();
    }

    private void checkElectionSafety(LogStatus s) {
        leaderTermMax = Math.max(leaderTermMax, s.term());
        NodeId other = leaderByTerm.putIfAbsent(s.term(), s.id());
        if (other != null && !other.equals(s.id())) {
            throw new InvariantViolation(String.format("election safety: %s and %s are both leader of term %d",
                    other, s.id(), s.term()));
        }
    }

    private void checkLogMatching(NodeId id, LogView log, Replica r) {
        long snapshotIndex = log.snapshotIndex();
        long last = log.lastIndex();
        // walk back over entries that were truncated or replaced since the last check
        long from = Math.min(r.checkedIndex, last);
        while (from > snapshotIndex && log.term(from) != r.checkedTerms[(int) from]) {
            from--;
        }
        if (from < snapshotIndex) {
            from = snapshotIndex;
        }
        for (long i = from + 1; i <= last; i++) {
            Entry e = log.entry(i);
            if (e == null || e.index() != i) {
                throw new InvariantViolation(String.format("log view of %s has no entry at %d in (%d, %d]",
                        id, i, snapshotIndex, last));
            }
            long prevTerm = log.term(i - 1);
            Seen seen = entriesSeen.putIfAbsent(new EntryKey(i, e.term()), new Seen(id, e.data(), prevTerm));
            if (seen != null && (!Arrays.equals(seen.data(), e.data()) || seen.prevTerm() != prevTerm)) {
                throw new InvariantViolation(String.format(
                        "log matching: %s and %s both hold an entry at index %d term %d, but %s",
                        seen.by(), id, i, e.term(),
                        Arrays.equals(seen.data(), e.data())
                                ? "the terms before it differ (" + seen.prevTerm() + " vs " + prevTerm + ")"
                                : "with different commands"));
            }
            remember(r, i, e.term());
        }
        r.checkedIndex = last;
    }

    private static void remember(Replica r, long index, long term) {
        if (index >= r.checkedTerms.length) {
            r.checkedTerms = Arrays.copyOf(r.checkedTerms, (int) Math.max(index + 1, r.checkedTerms.length * 2L));
        }
        r.checkedTerms[(int) index] = term;
    }

    private void checkLeaderCompleteness(LogStatus s, LogView log) {
        long snapshotIndex = log.snapshotIndex();
        for (var a : applied.entrySet()) {
            long index = a.getKey();
            if (index <= snapshotIndex || commitTermBound.get(index) >= s.term()) {
                continue; // compacted, or possibly committed in this leader's term or later
            }
            Entry mine = index <= log.lastIndex() ? log.entry(index) : null;
            if (mine == null || !mine.equals(a.getValue())) {
                throw new InvariantViolation(String.format(
                        "leader completeness: %s leads term %d without applied entry %s (it holds %s)",
                        s.id(), s.term(), a.getValue(), mine));
            }
        }
    }
}
