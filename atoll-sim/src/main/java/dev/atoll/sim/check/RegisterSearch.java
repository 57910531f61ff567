package dev.atoll.sim.check;

import dev.atoll.core.Check;
import dev.atoll.core.SeededRandom;
import dev.atoll.sim.check.Linearizability.Verdict;

import java.util.Arrays;

/**
 * Wing–Gong/Lowe search for one key's register history, with the memo of configurations
 * (linearized set, register value) of Lowe ("Testing for linearizability", 2017) as Porcupine
 * and Knossos use it. Invocations and completions form a doubly linked list in recording order;
 * the operations that may be linearized next are those invoked before the first completion
 * still in the list (the deadline). The search linearizes one of them, lifts it out of the
 * list, and goes on; when none is left to try it backtracks. Indeterminate operations have no
 * completion (it is at +infinity): the search succeeds once every completed operation is
 * linearized, which leaves the others as "never took effect".
 *
 * <p>Two reductions keep the number of configurations small without losing a linearization:
 * <ul>
 *   <li>Read-only operations (gets, refused cas) that the register allows now are linearized
 *       now, all at once, with no alternative tried: they change nothing, and a valid order
 *       that has them later stays valid with them moved here.</li>
 *   <li>Puts nobody could observe ({@link KeyHistory#unobservable}) are linearized together
 *       right before the next put, or alone only when their completion is the deadline.</li>
 *   <li>An indeterminate write is a candidate only if an operation waiting in the window would
 *       accept the value it writes: otherwise it is followed by a write or by nothing, and
 *       leaving it out ("never took effect") changes nothing.</li>
 * </ul>
 * Among writes, those that let the deadline operation go next are tried first, then those that
 * complete first: they most likely took effect first.
 */
final class RegisterSearch {
    /** Fixed, so that one history always takes the same path and the same number of steps. */
    private static final long FINGERPRINT_SEED = 0xA7011L;
    private static final int NONE = -1;

    /** What the search found; {@code linearization} holds operation indices of the key history. */
    record Outcome(Verdict verdict, long steps, int[] linearization) {
    }

    private final KeyHistory history;
    private final long stepsMax;
    private final int head;
    private final int[] next;
    private final int[] prev;
    /** Entry code: operation index << 1, low bit set for a completion. */
    private final int[] entryCodes;
    private final int[] callEntries;
    private final int[] returnEntries;

    // Fingerprints: Zobrist hashes, one random pair per operation and per value.
    private final long[] opHigh;
    private final long[] opLow;
    private final long[] valueHigh;
    private final long[] valueLow;
    private final FingerprintSet memo = new FingerprintSet();

    // The linearization so far; frame f added order[frameOrderStart[f], frameOrderStart[f + 1]).
    private final int[] order;
    private int orderLength;

    // One frame per configuration on the path: the candidates still to try from it, and the
    // operations to linearize together with any of them (read-only or unobservable ones).
    private final int[] frameOrderStart;
    private final int[] frameValue;
    private final int[] frameCandidateStart;
    private final int[] frameCandidateEnd;
    private final int[] frameCursor;
    private final int[] frameCompanionEnd;
    private int frameCount;
    private int[] lists = new int[1024];

    private static final long OP_MASK = (1L << 31) - 1;
    private final long[] sortScratch;
    // Per frame: which values the window's gets and cas require, and what its refused cas expected.
    private final int[] requiredStamps;
    private int requiredStamp;
    private final int[] refusedExpected;

    // The current configuration: the register's value, and the XOR of the linearized
    // operations' hashes (a configuration's fingerprint also mixes in the value's hash).
    private int value = KeyHistory.ABSENT;
    private long high;
    private long low;

    private RegisterSearch(KeyHistory history, long stepsMax) {
        this.history = history;
        this.stepsMax = stepsMax;
        int opCount = history.operationCount();
        int completedCount = 0;
        for (int op = 0; op < opCount; op++) {
            completedCount += history.isIndeterminate(op) ? 0 : 1;
        }
        int entryCount = opCount + completedCount;
        long[] entries = new long[entryCount];
        int filled = 0;
        for (int op = 0; op < opCount; op++) {
            entries[filled++] = ((long) history.invokeEvents[op] << 32) | ((long) op << 1);
            if (!history.isIndeterminate(op)) {
                Check.check(history.completeEvents[op] > history.invokeEvents[op],
                        "an operation completes after it is invoked");
                entries[filled++] = ((long) history.completeEvents[op] << 32) | ((long) op << 1) | 1;
            }
        }
        Arrays.sort(entries);
        head = entryCount;
        next = new int[entryCount + 1];
        prev = new int[entryCount + 1];
        entryCodes = new int[entryCount];
        callEntries = new int[opCount];
        returnEntries = new int[opCount];
        Arrays.fill(returnEntries, NONE);
        for (int entry = 0; entry < entryCount; entry++) {
            int code = (int) entries[entry];
            entryCodes[entry] = code;
            if ((code & 1) == 0) {
                callEntries[code >>> 1] = entry;
            } else {
                returnEntries[code >>> 1] = entry;
            }
            next[entry] = entry + 1 < entryCount ? entry + 1 : NONE;
            prev[entry] = entry == 0 ? head : entry - 1;
        }
        next[head] = entryCount > 0 ? 0 : NONE;

        var random = new SeededRandom(FINGERPRINT_SEED);
        opHigh = randomLongs(random, opCount);
        opLow = randomLongs(random, opCount);
        valueHigh = randomLongs(random, history.valueCount());
        valueLow = randomLongs(random, history.valueCount());

        order = new int[opCount];
        frameOrderStart = new int[opCount + 1];
        frameValue = new int[opCount + 1];
        frameCandidateStart = new int[opCount + 1];
        frameCandidateEnd = new int[opCount + 1];
        frameCursor = new int[opCount + 1];
        frameCompanionEnd = new int[opCount + 1];
        sortScratch = new long[opCount];
        requiredStamps = new int[history.valueCount()];
        refusedExpected = new int[opCount];
    }

    /** Searches with at most {@code stepsMax} steps (a step: one candidate tried, or one backtrack). */
    static Outcome run(KeyHistory history, long stepsMax) {
        return new RegisterSearch(history, stepsMax).search();
    }

    private Outcome search() {
        // longest[0, longestLength) is the longest linearization seen; it agrees with order[]
        // below sharedLength, so a new maximum copies only what changed since.
        int[] longest = new int[order.length];
        int longestLength = 0;
        int sharedLength = 0;
        long steps = 0;
        if (!pushFrame()) {
            return new Outcome(Verdict.LINEARIZABLE, steps, Arrays.copyOf(order, orderLength));
        }
        while (true) {
            if (++steps > stepsMax) {
                return new Outcome(Verdict.UNKNOWN, steps - 1, Arrays.copyOf(longest, longestLength));
            }
            int frame = frameCount - 1;
            if (frameCursor[frame] == frameCandidateEnd[frame]) {
                if (frame == 0) {
                    return new Outcome(Verdict.NOT_LINEARIZABLE, steps, Arrays.copyOf(longest, longestLength));
                }
                popFrame();
                sharedLength = Math.min(sharedLength, orderLength);
                continue;
            }
            int candidate = lists[frameCursor[frame]++];
            int after = history.apply(candidate, value);
            Check.check(after != KeyHistory.NOT_ALLOWED, "candidates are allowed by the register");
            long nextHigh = high ^ opHigh[candidate] ^ valueHigh[after];
            long nextLow = low ^ opLow[candidate] ^ valueLow[after];
            // Unobservable puts ride along before a put, never before a cas: a cas needs the
            // value they would hide.
            int companionStart = frameCandidateEnd[frame];
            int companionEnd = history.kinds[candidate] == KeyHistory.Kind.CAS_SWAPPED
                    || history.kinds[candidate] == KeyHistory.Kind.CAS_MAYBE ? companionStart : frameCompanionEnd[frame];
            for (int i = companionStart; i < companionEnd; i++) {
                int companion = lists[i];
                if (companion != candidate) {
                    nextHigh ^= opHigh[companion];
                    nextLow ^= opLow[companion];
                }
            }
            if (!memo.add(nextHigh, nextLow)) {
                continue;
            }
            for (int i = companionStart; i < companionEnd; i++) {
                if (lists[i] != candidate) {
                    linearize(lists[i]);
                }
            }
            linearize(candidate);
            value = after;
            if (orderLength > longestLength) {
                System.arraycopy(order, sharedLength, longest, sharedLength, orderLength - sharedLength);
                longestLength = orderLength;
                sharedLength = orderLength;
            }
            if (!pushFrame()) {
                return new Outcome(Verdict.LINEARIZABLE, steps, Arrays.copyOf(order, orderLength));
            }
        }
    }

    /**
     * Opens a frame for the current configuration and lists what may be linearized next.
     * Returns false if no completed operation is left: the linearization is complete.
     */
    private boolean pushFrame() {
        int frame = frameCount;
        int deadline = NONE;
        int windowSize = 0;
        for (int entry = next[head]; entry != NONE; entry = next[entry]) {
            int code = entryCodes[entry];
            if ((code & 1) == 1) {
                deadline = code >>> 1;
                break;
            }
            sortScratch[windowSize++] = code >>> 1;
        }
        if (deadline == NONE) {
            return false;
        }
        frameCount++;
        frameOrderStart[frame] = orderLength;
        frameValue[frame] = value;
        int start = frame == 0 ? 0 : frameCompanionEnd[frame - 1];
        ensureListCapacity(start + 2 * windowSize + 1);
        frameCandidateStart[frame] = start;
        frameCursor[frame] = start;

        // Read-only operations the register allows now: one candidate, the rest its companions.
        int end = start;
        for (int i = 0; i < windowSize; i++) {
            int op = (int) sortScratch[i];
            if (history.isReadOnly(op) && history.apply(op, value) != KeyHistory.NOT_ALLOWED) {
                lists[end++] = op;
            }
        }
        if (end > start) {
            frameCandidateEnd[frame] = start + 1;
            frameCompanionEnd[frame] = end;
            return true;
        }
        // Otherwise writes. An indeterminate write is only worth linearizing right before an
        // operation that needs its value: one followed by a write or by nothing can be left
        // out ("never took effect") without changing any other operation's view.
        requiredStamp++;
        int refusedCount = 0;
        for (int i = 0; i < windowSize; i++) {
            int op = (int) sortScratch[i];
            switch (history.kinds[op]) {
                case GET, CAS_SWAPPED, CAS_MAYBE -> requiredStamps[history.required[op]] = requiredStamp;
                case CAS_REFUSED -> refusedExpected[refusedCount++] = history.required[op];
                case PUT -> { }
            }
        }
        // Writes that let the deadline operation go next are tried first, then the rest by
        // earliest completion (the likeliest to have taken effect first).
        // Indeterminate puts of values nothing reads are interchangeable: which of them is
        // used first does not matter, so only the earliest invoked is tried.
        int writeCount = 0;
        boolean unreadPutTried = false;
        for (int i = 0; i < windowSize; i++) {
            int op = (int) sortScratch[i];
            int after = history.apply(op, value);
            boolean isInterchangeable = history.isIndeterminate(op) && history.kinds[op] == KeyHistory.Kind.PUT
                    && history.written[op] == history.unreadValue;
            boolean isCandidate = after != KeyHistory.NOT_ALLOWED && !history.isReadOnly(op)
                    && (!history.unobservable[op] || op == deadline)
                    && (!history.isIndeterminate(op) || isNeeded(history.written[op], refusedCount))
                    && !(isInterchangeable && unreadPutTried);
            unreadPutTried |= isCandidate && isInterchangeable;
            if (isCandidate) {
                long rank = history.apply(deadline, after) != KeyHistory.NOT_ALLOWED ? 0 : 1;
                long completion = history.isIndeterminate(op) ? Integer.MAX_VALUE : history.completeEvents[op];
                sortScratch[writeCount++] = (rank << 62) | (completion << 31) | op;
            }
        }
        // Unobservable puts in the window ride along as companions.
        int companionEnd = start + writeCount;
        for (int entry = next[head]; entry != NONE && (entryCodes[entry] & 1) == 0; entry = next[entry]) {
            int op = entryCodes[entry] >>> 1;
            if (history.unobservable[op]) {
                lists[companionEnd++] = op;
            }
        }
        Arrays.sort(sortScratch, 0, writeCount);
        for (int i = 0; i < writeCount; i++) {
            lists[start + i] = (int) (sortScratch[i] & OP_MASK);
        }
        frameCandidateEnd[frame] = start + writeCount;
        frameCompanionEnd[frame] = companionEnd;
        return true;
    }

    /** Whether some operation in the window would accept {@code writtenValue} where it stands. */
    private boolean isNeeded(int writtenValue, int refusedCount) {
        if (requiredStamps[writtenValue] == requiredStamp) {
            return true;
        }
        for (int i = 0; i < refusedCount; i++) {
            if (refusedExpected[i] != writtenValue) {
                return true;
            }
        }
        return false;
    }

    private void popFrame() {
        frameCount--;
        int frame = frameCount - 1;
        // Undo what the step out of the (now) top frame linearized, in reverse.
        while (orderLength > frameOrderStart[frame]) {
            unlinearize(order[--orderLength]);
        }
        value = frameValue[frame];
    }

    private void linearize(int op) {
        order[orderLength++] = op;
        high ^= opHigh[op];
        low ^= opLow[op];
        unlink(callEntries[op]);
        if (returnEntries[op] != NONE) {
            unlink(returnEntries[op]);
        }
    }

    private void unlinearize(int op) {
        high ^= opHigh[op];
        low ^= opLow[op];
        if (returnEntries[op] != NONE) {
            relink(returnEntries[op]);
        }
        relink(callEntries[op]);
    }

    private void unlink(int entry) {
        next[prev[entry]] = next[entry];
        if (next[entry] != NONE) {
            prev[next[entry]] = prev[entry];
        }
    }

    private void relink(int entry) {
        next[prev[entry]] = entry;
        if (next[entry] != NONE) {
            prev[next[entry]] = entry;
        }
    }

    private void ensureListCapacity(int capacity) {
        if (capacity > lists.length) {
            lists = Arrays.copyOf(lists, Math.max(capacity, 2 * lists.length));
        }
    }

    private static long[] randomLongs(SeededRandom random, int count) {
        long[] longs = new long[count];
        for (int i = 0; i < count; i++) {
            longs[i] = random.nextLong();
        }
        return longs;
    }
}
