package dev.atoll.sim.check;

import dev.atoll.core.Check;
import dev.atoll.sim.check.History.Operation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a key-value history is linearizable, each key being an independent register
 * (initially absent). By P-compositionality (Herlihy and Wing) a history is linearizable iff
 * each key's sub-history is, so keys are checked one by one, in order of first invocation,
 * each with the {@link RegisterSearch} bounded by a step budget. Two cheap pre-passes prove the
 * commonest violations without searching: a read of a value no write invoked before it
 * wrote, and a stale read whose every source was overwritten before it began.
 * Stateless and thread-safe.
 */
public final class Linearizability {
    /** About two seconds of search on one key at worst (some 2.5 million steps a second here). */
    public static final long STEPS_MAX_DEFAULT = 5_000_000;
    /** The memo holds one fingerprint per step at most: this keeps it under 4 GiB. */
    public static final long STEPS_MAX_LIMIT = 1L << 27;

    public enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN /* budget exceeded */ }

    /**
     * {@code key} is the offending key (null when linearizable); {@code explanation} is a short
     * readable report (a counterexample for NOT_LINEARIZABLE); {@code opsChecked} counts the
     * operations of the keys examined, which is all of them unless a violation stopped the check.
     */
    public record Result(Verdict verdict, String key, String explanation, long opsChecked) {
        public boolean isLinearizable() {
            return verdict == Verdict.LINEARIZABLE;
        }

        @Override
        public String toString() {
            return verdict + (key == null ? "" : " on key " + key) + " (" + opsChecked + " ops checked)\n" + explanation;
        }
    }

    private Linearizability() {
    }

    /** Checks with {@link #STEPS_MAX_DEFAULT} steps per key. */
    public static Result check(History history) {
        return check(history, STEPS_MAX_DEFAULT);
    }

    /**
     * Checks every key with at most {@code stepsMax} search steps each. Stops at the first key
     * found not linearizable. UNKNOWN if no key is found not linearizable but some key ran out
     * of budget: never LINEARIZABLE unless a linearization of every key was found.
     */
    public static Result check(History history, long stepsMax) {
        Check.checkArgument(stepsMax > 0 && stepsMax <= STEPS_MAX_LIMIT,
                "stepsMax must be in [1, %d]: %d", STEPS_MAX_LIMIT, stepsMax);
        Map<String, List<Operation>> byKey = new LinkedHashMap<>();
        for (Operation operation : history.operations()) {
            byKey.computeIfAbsent(operation.op().key(), key -> new ArrayList<>()).add(operation);
        }
        long opsChecked = 0;
        long steps = 0;
        Result firstUnknown = null;
        for (var keyOperations : byKey.entrySet()) {
            String key = keyOperations.getKey();
            KeyHistory keyHistory = KeyHistory.of(key, keyOperations.getValue());
            opsChecked += keyOperations.getValue().size();
            int impossible = keyHistory.impossibleRead();
            if (impossible >= 0) {
                return new Result(Verdict.NOT_LINEARIZABLE, key,
                        Counterexample.impossibleRead(keyHistory, impossible), opsChecked);
            }
            KeyHistory.StaleRead staleRead = keyHistory.staleRead();
            if (staleRead != null) {
                return new Result(Verdict.NOT_LINEARIZABLE, key, Counterexample.staleRead(keyHistory, staleRead), opsChecked);
            }
            RegisterSearch.Outcome outcome = RegisterSearch.run(keyHistory, stepsMax);
            steps += outcome.steps();
            switch (outcome.verdict()) {
                case LINEARIZABLE -> keyHistory.checkLinearization(outcome.linearization());
                case NOT_LINEARIZABLE -> {
                    return new Result(Verdict.NOT_LINEARIZABLE, key,
                            Counterexample.notLinearizable(keyHistory, outcome.linearization(), outcome.steps()),
                            opsChecked);
                }
                case UNKNOWN -> {
                    if (firstUnknown == null) {
                        firstUnknown = new Result(Verdict.UNKNOWN, key,
                                Counterexample.budgetExceeded(keyHistory, outcome.linearization(), stepsMax), 0);
                    }
                }
            }
        }
        if (firstUnknown != null) {
            return new Result(Verdict.UNKNOWN, firstUnknown.key(), firstUnknown.explanation(), opsChecked);
        }
        return new Result(Verdict.LINEARIZABLE, null, "all " + opsChecked + " operations on " + byKey.size()
                + " keys are linearizable (" + steps + " search steps)", opsChecked);
    }
}
