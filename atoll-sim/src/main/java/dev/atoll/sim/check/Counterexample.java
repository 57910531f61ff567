package dev.atoll.sim.check;

import dev.atoll.sim.check.History.Operation;
import dev.atoll.sim.check.History.Outcome;

import java.util.ArrayList;
import java.util.List;

/**
 * Explains a violation in a few lines a person can check by hand: the key, where the longest
 * linearization stops, the operations none of which can go next and why, and the operations
 * around them. Never the whole history: every list below has a named bound.
 */
final class Counterexample {
    private static final int PREFIX_TAIL_MAX = 6;
    private static final int CANDIDATES_MAX = 8;
    private static final int FOLLOWING_MAX = 3;
    private static final int WRITES_SHOWN_MAX = 4;

    private Counterexample() {
    }

    /** The search exhausted every configuration; {@code prefix} is the longest linearization found. */
    static String notLinearizable(KeyHistory history, int[] prefix, long steps) {
        var text = new StringBuilder();
        int value = KeyHistory.ABSENT;
        String holds = History.quote(null);
        boolean[] linearized = new boolean[history.operationCount()];
        for (int op : prefix) {
            int after = history.apply(op, value);
            if (!history.isReadOnly(op)) {
                holds = History.quote(written(history.operations[op].op()));
            }
            value = after;
            linearized[op] = true;
        }
        text.append("key ").append(history.key).append(" is not linearizable (")
                .append(history.operationCount()).append(" operations searched in ").append(steps).append(" steps")
                .append(setAsideNote(history)).append(").\n");
        text.append("longest linearizable prefix: ").append(prefix.length).append(" operations, after which the register holds ")
                .append(holds).append(prefix.length == 0 ? ".\n" : "; it ends:\n");
        int tailStart = Math.max(0, prefix.length - PREFIX_TAIL_MAX);
        if (tailStart > 0) {
            text.append("  ... ").append(tailStart).append(" earlier\n");
        }
        for (int i = tailStart; i < prefix.length; i++) {
            text.append("  ").append(history.operations[prefix[i]]).append('\n');
        }

        // The completion that comes first among the rest is the deadline: its operation must
        // be linearized before it, and only operations invoked before it can go first.
        int deadline = -1;
        for (int op = 0; op < history.operationCount(); op++) {
            if (!linearized[op] && !history.isIndeterminate(op)
                    && (deadline < 0 || history.completeEvents[op] < history.completeEvents[deadline])) {
                deadline = op;
            }
        }
        if (deadline < 0) {
            return text.append("(no completed operation remains: the search ended on its budget)\n").toString();
        }
        var candidates = new ArrayList<Integer>();
        for (int op = 0; op < history.operationCount(); op++) {
            if (!linearized[op] && history.invokeEvents[op] < history.completeEvents[deadline]) {
                candidates.add(op);
            }
        }
        text.append("none of these can be linearized next (#").append(history.operations[deadline].id()).append(" completed first, so it had to take effect by then):\n");
        for (int i = 0; i < Math.min(CANDIDATES_MAX, candidates.size()); i++) {
            int op = candidates.get(i);
            text.append("  ").append(history.operations[op]).append("  ").append(whyNotNext(history, op, value, holds)).append('\n');
        }
        if (candidates.size() > CANDIDATES_MAX) {
            text.append("  ... and ").append(candidates.size() - CANDIDATES_MAX).append(" more\n");
        }
        List<Operation> following = new ArrayList<>();
        for (int op = 0; op < history.operationCount() && following.size() < FOLLOWING_MAX; op++) {
            if (history.invokeEvents[op] > history.completeEvents[deadline]) {
                following.add(history.operations[op]);
            }
        }
        if (!following.isEmpty()) {
            text.append("invoked next:\n");
            following.forEach(operation -> text.append("  ").append(operation).append('\n'));
        }
        return text.toString();
    }

    /** A completed read of a value no write invoked before its completion wrote. */
    static String impossibleRead(KeyHistory history, int op) {
        Operation read = history.operations[op];
        String readValue = read.op() instanceof Op.Cas cas ? cas.expected() : read.result();
        String verb = read.op() instanceof Op.Cas ? "expects " : "reads ";
        var text = new StringBuilder();
        text.append("key ").append(history.key).append(" is not linearizable: a completed operation ")
                .append(verb.trim()).append(" a value that no write invoked before it completed wrote.\n");
        text.append("  ").append(read).append('\n');
        var sameValueWrites = new ArrayList<Operation>();
        var earlierWrites = new ArrayList<Operation>();
        for (Operation operation : history.all) {
            String writes = switch (operation.op()) {
                case Op.Put put -> put.value();
                case Op.Cas cas -> cas.value();
                case Op.Get get -> null;
            };
            if (operation.op() instanceof Op.Get || operation == read) {
                continue;
            }
            if (java.util.Objects.equals(writes, readValue)) {
                sameValueWrites.add(operation);
            } else if (operation.invokeEvent() < read.completeEvent() && operation.outcome() != Outcome.FAIL) {
                earlierWrites.add(operation);
            }
        }
        text.append("it ").append(verb).append(History.quote(readValue)).append(", but ");
        if (sameValueWrites.isEmpty()) {
            text.append("nothing ever wrote that value.\n");
        } else {
            text.append("the writes of that value failed or came later:\n");
            sameValueWrites.stream().limit(WRITES_SHOWN_MAX)
                    .forEach(operation -> text.append("  ").append(operation).append('\n'));
        }
        if (!earlierWrites.isEmpty()) {
            text.append("the last writes invoked before it completed:\n");
            earlierWrites.subList(Math.max(0, earlierWrites.size() - WRITES_SHOWN_MAX), earlierWrites.size())
                    .forEach(operation -> text.append("  ").append(operation).append('\n'));
        }
        return text.toString();
    }

    /** A read whose every possible source was overwritten before it began. */
    static String staleRead(KeyHistory history, KeyHistory.StaleRead stale) {
        Operation read = history.operations[stale.read()];
        String verb = read.op() instanceof Op.Cas ? "expects " : "reads ";
        var text = new StringBuilder();
        text.append("key ").append(history.key).append(" is not linearizable: a stale read.\n");
        text.append("  ").append(read).append('\n');
        text.append("it ").append(verb).append(history.valueName(history.required[stale.read()]))
                .append(", but every write of that value was overwritten before it was invoked:\n");
        for (int i = 0; i < Math.min(WRITES_SHOWN_MAX, stale.sources().length); i++) {
            int source = stale.sources()[i];
            text.append("  ").append(source < 0 ? "(the initial value)" : history.operations[source].toString())
                    .append("\n    then ").append(history.operations[stale.overwrites()[i]]).append('\n');
        }
        if (stale.sources().length > WRITES_SHOWN_MAX) {
            text.append("  ... and ").append(stale.sources().length - WRITES_SHOWN_MAX).append(" more writes of that value\n");
        }
        return text.toString();
    }

    static String budgetExceeded(KeyHistory history, int[] prefix, long stepsMax) {
        return "key " + history.key + ": search stopped at its budget of " + stepsMax + " steps ("
                + history.operationCount() + " operations searched" + setAsideNote(history)
                + "; longest linearizable prefix found: " + prefix.length
                + " operations). The history may or may not be linearizable.";
    }

    private static String whyNotNext(KeyHistory history, int op, int value, String holds) {
        if (history.apply(op, value) != KeyHistory.NOT_ALLOWED) {
            return "allowed here, but no way on from it works";
        }
        String butHolds = ", but the register holds " + holds;
        return switch (history.kinds[op]) {
            case GET -> "reads " + history.valueName(history.required[op]) + butHolds;
            case CAS_SWAPPED, CAS_MAYBE -> "expects " + history.valueName(history.required[op]) + butHolds;
            case CAS_REFUSED -> "refused, but the register holds its expected " + holds;
            case PUT -> "a put is always allowed";
        };
    }

    private static String written(Op op) {
        return switch (op) {
            case Op.Put put -> put.value();
            case Op.Cas cas -> cas.value();
            case Op.Get get -> throw new IllegalArgumentException("a get writes nothing");
        };
    }

    private static String setAsideNote(KeyHistory history) {
        return history.unobservableWriteCount == 0 ? ""
                : "; " + history.unobservableWriteCount + " unobserved indeterminate writes left out";
    }
}
