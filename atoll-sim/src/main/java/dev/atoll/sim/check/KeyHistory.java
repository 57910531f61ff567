package dev.atoll.sim.check;

import dev.atoll.core.Check;
import dev.atoll.sim.check.History.Operation;
import dev.atoll.sim.check.History.Outcome;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One key's operations reduced to what the register search needs. Values are interned to
 * small ints (0 = absent, the initial value). What is dropped, and why that is sound:
 * <ul>
 *   <li>failed operations: they did not take effect;</li>
 *   <li>indeterminate gets: a read that returned nothing to anyone constrains nothing;</li>
 *   <li>indeterminate writes nobody could observe ({@link #isUnobservable}): leaving them out
 *       is the outcome "never took effect", which is always allowed.</li>
 * </ul>
 * An indeterminate cas keeps only its swapping outcome: its non-swapping outcome has no
 * effect, which is the same as never being linearized. A completed put nobody could observe
 * is kept but marked {@link #unobservable}: the search places it right before another write.
 */
final class KeyHistory {
    static final int ABSENT = 0;
    static final int NOT_ALLOWED = -1;

    /** What an operation does to, and requires of, the register. */
    enum Kind {
        /** Put, completed or indeterminate: sets the value. */
        PUT,
        /** Completed get: requires the value it read. */
        GET,
        /** Completed cas that returned true: requires {@code expected}, sets the new value. */
        CAS_SWAPPED,
        /** Completed cas that returned false: requires any value but {@code expected}. */
        CAS_REFUSED,
        /** Indeterminate cas, if it took effect: requires {@code expected}, sets the new value. */
        CAS_MAYBE
    }

    final String key;
    /** Every operation on the key in invocation order, dropped ones included, for reports. */
    final List<Operation> all;
    /** The operations the search linearizes, in invocation order. */
    final Operation[] operations;
    final Kind[] kinds;
    /** The value a get read or a cas expected (interned). */
    final int[] required;
    /** The value a put or cas writes (interned). */
    final int[] written;
    final int[] invokeEvents;
    /** Completion event, or -1 for an indeterminate operation (its return is at +infinity). */
    final int[] completeEvents;
    /**
     * Completed puts of a value no get read and no cas expected, invoked after every refused
     * cas completed ({@link #isUnobservable}): the value they write is never seen, so a
     * linearization can always place them right before the next write, or last.
     */
    final boolean[] unobservable;
    /** Value names by id: id 0 is absent, {@link #unreadValue} stands for every value nothing reads. */
    final List<String> values;
    /** The id shared by all values no get read and no cas expected, or NOT_ALLOWED if none. */
    final int unreadValue;
    final int unobservableWriteCount;

    private KeyHistory(String key, List<Operation> all, List<Operation> kept, ValueTable table,
                       int unobservableWriteCount, boolean[] unobservable) {
        Map<String, Integer> valueIds = table.ids;
        this.unobservable = unobservable;
        this.key = key;
        this.all = List.copyOf(all);
        this.values = List.copyOf(table.names);
        this.unreadValue = table.unreadId;
        this.unobservableWriteCount = unobservableWriteCount;
        int count = kept.size();
        operations = kept.toArray(new Operation[0]);
        kinds = new Kind[count];
        required = new int[count];
        written = new int[count];
        invokeEvents = new int[count];
        completeEvents = new int[count];
        for (int i = 0; i < count; i++) {
            Operation operation = operations[i];
            kinds[i] = kindOf(operation);
            invokeEvents[i] = operation.invokeEvent();
            completeEvents[i] = operation.outcome() == Outcome.OK ? operation.completeEvent() : -1;
            switch (operation.op()) {
                case Op.Put put -> written[i] = valueIds.get(put.value());
                case Op.Get get -> required[i] = valueIds.get(operation.result());
                case Op.Cas cas -> {
                    required[i] = valueIds.get(cas.expected());
                    written[i] = valueIds.get(cas.value());
                }
            }
            if (i > 0) {
                Check.check(invokeEvents[i - 1] < invokeEvents[i], "key history is in invocation order");
            }
        }
    }

    /** Prepares one key's operations, given in invocation (id) order. */
    static KeyHistory of(String key, List<Operation> all) {
        var relevant = new ArrayList<Operation>();
        var requiredValues = new HashSet<String>();
        int lastRefusalEvent = -1;
        for (Operation operation : all) {
            Check.check(operation.op().key().equals(key), "operation #%d is on key %s", operation.id(), key);
            boolean dropped = operation.outcome() == Outcome.FAIL
                    || (operation.op() instanceof Op.Get && operation.outcome().isIndeterminate());
            if (dropped) {
                continue;
            }
            relevant.add(operation);
            switch (operation.op()) {
                case Op.Put put -> { }
                case Op.Get get -> requiredValues.add(operation.result());
                case Op.Cas cas -> requiredValues.add(cas.expected());
            }
            if (kindOf(operation) == Kind.CAS_REFUSED) {
                lastRefusalEvent = Math.max(lastRefusalEvent, operation.completeEvent());
            }
        }
        // Values no get read and no cas expected are all alike to the register model: one id.
        var table = new ValueTable(requiredValues);
        for (Operation operation : relevant) {
            switch (operation.op()) {
                case Op.Put put -> table.intern(put.value());
                case Op.Get get -> table.intern(operation.result());
                case Op.Cas cas -> {
                    table.intern(cas.expected());
                    table.intern(cas.value());
                }
            }
        }
        Map<String, Integer> valueIds = table.ids;
        boolean[] observed = new boolean[table.names.size()];
        for (Operation operation : relevant) {
            switch (kindOf(operation)) {
                case GET -> observed[valueIds.get(operation.result())] = true;
                case CAS_SWAPPED, CAS_MAYBE -> observed[valueIds.get(((Op.Cas) operation.op()).expected())] = true;
                case PUT, CAS_REFUSED -> { }
            }
        }
        var kept = new ArrayList<Operation>(relevant.size());
        var keptUnobservable = new boolean[relevant.size()];
        int setAside = 0;
        for (Operation operation : relevant) {
            boolean isUnobservable = isUnobservable(operation, observed, valueIds, lastRefusalEvent);
            if (isUnobservable && operation.outcome().isIndeterminate()) {
                setAside++;
            } else {
                keptUnobservable[kept.size()] = isUnobservable && operation.op() instanceof Op.Put;
                kept.add(operation);
            }
        }
        return new KeyHistory(key, all, kept, table, setAside, Arrays.copyOf(keptUnobservable, kept.size()));
    }

    /**
     * A write of a value no get read and no cas expected, invoked after every refused cas
     * completed. If it takes effect, the value it wrote can only be seen by a later write
     * (which overwrites it regardless) or by a refused cas (none can be linearized after it).
     * So in any linearization it is immediately followed by another write, or comes last:
     * if indeterminate, every linearization stays valid without it; if completed, it can be
     * moved to right before any write linearized while it is pending.
     */
    private static boolean isUnobservable(Operation operation, boolean[] observed,
                                          Map<String, Integer> valueIds, int lastRefusalEvent) {
        if (operation.invokeEvent() < lastRefusalEvent) {
            return false;
        }
        return switch (operation.op()) {
            case Op.Put put -> !observed[valueIds.get(put.value())];
            case Op.Cas cas -> operation.outcome().isIndeterminate() && !observed[valueIds.get(cas.value())];
            case Op.Get get -> false;
        };
    }

    /**
     * Interns values to ids: 0 for absent, one id per value some operation reads or expects,
     * and one shared id for all the values nothing reads.
     */
    private static final class ValueTable {
        final Map<String, Integer> ids = new HashMap<>();
        final List<String> names = new ArrayList<>();
        final Set<String> required;
        int unreadId = NOT_ALLOWED;

        ValueTable(Set<String> required) {
            this.required = required;
            ids.put(null, ABSENT);
            names.add("absent");
        }

        void intern(String value) {
            if (ids.containsKey(value)) {
                return;
            }
            if (required.contains(value)) {
                ids.put(value, names.size());
                names.add(History.quote(value));
                return;
            }
            if (unreadId == NOT_ALLOWED) {
                unreadId = names.size();
                names.add("a value nothing reads");
            }
            ids.put(value, unreadId);
        }
    }

    private static Kind kindOf(Operation operation) {
        return switch (operation.op()) {
            case Op.Put put -> Kind.PUT;
            case Op.Get get -> Kind.GET;
            case Op.Cas cas -> operation.outcome().isIndeterminate() ? Kind.CAS_MAYBE
                    : "true".equals(operation.result()) ? Kind.CAS_SWAPPED : Kind.CAS_REFUSED;
        };
    }

    int operationCount() {
        return operations.length;
    }

    int valueCount() {
        return values.size();
    }

    /** The register model: the value after operation {@code op} from {@code value}, or NOT_ALLOWED. */
    int apply(int op, int value) {
        return switch (kinds[op]) {
            case PUT -> written[op];
            case GET -> value == required[op] ? value : NOT_ALLOWED;
            case CAS_SWAPPED, CAS_MAYBE -> value == required[op] ? written[op] : NOT_ALLOWED;
            case CAS_REFUSED -> value != required[op] ? value : NOT_ALLOWED;
        };
    }

    /** Gets and refused cas: they require a value but never change it. */
    boolean isReadOnly(int op) {
        return kinds[op] == Kind.GET || kinds[op] == Kind.CAS_REFUSED;
    }

    String valueName(int value) {
        return values.get(value);
    }

    boolean isIndeterminate(int op) {
        return completeEvents[op] < 0;
    }

    /**
     * The first completed operation that reads or expects a value no put or cas invoked before
     * it completed could have written (failed writes excluded), or -1. Such an operation can
     * never be linearized: a cheap proof of a violation, found without searching.
     */
    int impossibleRead() {
        int[] firstWriteInvokeEvent = new int[valueCount()];
        Arrays.fill(firstWriteInvokeEvent, Integer.MAX_VALUE);
        firstWriteInvokeEvent[ABSENT] = -1;
        for (int op = 0; op < operationCount(); op++) {
            if (kinds[op] == Kind.PUT || kinds[op] == Kind.CAS_SWAPPED || kinds[op] == Kind.CAS_MAYBE) {
                firstWriteInvokeEvent[written[op]] = Math.min(firstWriteInvokeEvent[written[op]], invokeEvents[op]);
            }
        }
        // Unobservable writes were set aside, but none of them wrote a value anyone read.
        int impossible = -1;
        for (int op = 0; op < operationCount(); op++) {
            boolean reads = kinds[op] == Kind.GET || kinds[op] == Kind.CAS_SWAPPED;
            if (reads && firstWriteInvokeEvent[required[op]] > completeEvents[op]
                    && (impossible < 0 || completeEvents[op] < completeEvents[impossible])) {
                impossible = op;
            }
        }
        return impossible;
    }

    /**
     * Postcondition of a successful search: {@code order} is a linearization, that is every
     * completed operation appears once, the register allows each step, and no operation
     * comes before one that completed before it was invoked.
     */
    void checkLinearization(int[] order) {
        boolean[] seen = new boolean[operationCount()];
        int value = ABSENT;
        for (int op : order) {
            Check.check(!seen[op], "a linearization holds #%d once", operations[op].id());
            seen[op] = true;
            value = apply(op, value);
            Check.check(value != NOT_ALLOWED, "the register allows #%d in the linearization", operations[op].id());
        }
        for (int op = 0; op < operationCount(); op++) {
            Check.check(seen[op] || isIndeterminate(op), "a linearization holds completed #%d", operations[op].id());
        }
        int laterCompleteMin = Integer.MAX_VALUE;
        for (int i = order.length - 1; i >= 0; i--) {
            int op = order[i];
            Check.check(invokeEvents[op] < laterCompleteMin,
                    "a linearization respects real-time order at #%d", operations[op].id());
            if (!isIndeterminate(op)) {
                laterCompleteMin = Math.min(laterCompleteMin, completeEvents[op]);
            }
        }
    }

    /**
     * A completed read (a get, or a cas that swapped) whose every possible source was
     * overwritten before it began: for each write of the value it needs (or the initial
     * absent value), a write of another value that certainly took effect started after that
     * write completed and completed before the read was invoked. In every linearization that
     * overwrite sits between the source and the read, so the read cannot see the value.
     * {@code sources[i]} is -1 for the initial value; {@code overwrites[i]} hides it.
     */
    record StaleRead(int read, int[] sources, int[] overwrites) {
    }

    /** Reads with more possible sources than this are left to the search. */
    private static final int STALE_READ_SOURCES_MAX = 64;

    /** The first stale read by completion (see {@link StaleRead}), or null if there is none. */
    StaleRead staleRead() {
        var sourcesByValue = new ArrayList<List<Integer>>();
        for (int v = 0; v < valueCount(); v++) {
            sourcesByValue.add(new ArrayList<>());
        }
        sourcesByValue.get(ABSENT).add(-1);
        var definiteWrites = new ArrayList<Integer>();
        for (int op = 0; op < operationCount(); op++) {
            if (!isReadOnly(op)) {
                sourcesByValue.get(written[op]).add(op);
                if (kinds[op] == Kind.PUT && !isIndeterminate(op) || kinds[op] == Kind.CAS_SWAPPED) {
                    definiteWrites.add(op);
                }
            }
        }
        // Definite writes in invocation order; from each position on, the earliest completion
        // and the earliest completion of a write of another value than that one.
        int count = definiteWrites.size();
        int[] firstDone = new int[count + 1];
        int[] otherDone = new int[count + 1];
        firstDone[count] = NOT_ALLOWED;
        otherDone[count] = NOT_ALLOWED;
        for (int i = count - 1; i >= 0; i--) {
            int op = definiteWrites.get(i);
            int first = firstDone[i + 1];
            int other = otherDone[i + 1];
            if (first == NOT_ALLOWED || completeEvents[op] < completeEvents[first]) {
                if (first != NOT_ALLOWED && written[first] != written[op]) {
                    other = first;
                }
                first = op;
            } else if (written[op] != written[first]
                    && (other == NOT_ALLOWED || completeEvents[op] < completeEvents[other])) {
                other = op;
            }
            firstDone[i] = first;
            otherDone[i] = other;
        }
        StaleRead stale = null;
        for (int op = 0; op < operationCount(); op++) {
            boolean reads = kinds[op] == Kind.GET || kinds[op] == Kind.CAS_SWAPPED;
            if (!reads || (stale != null && completeEvents[op] > completeEvents[stale.read()])) {
                continue;
            }
            List<Integer> sources = sourcesByValue.get(required[op]);
            if (sources.size() > STALE_READ_SOURCES_MAX) {
                continue;
            }
            int[] sourceArray = new int[sources.size()];
            int[] overwriteArray = new int[sources.size()];
            int hidden = 0;
            for (int source : sources) {
                if (source == op) {
                    continue;
                }
                int sourceDone = source < 0 ? -1 : completeEvents[source];
                if (source >= 0 && isIndeterminate(source)) {
                    break; // its effect may come at any time: never hidden
                }
                int from = firstInvokedAfter(definiteWrites, sourceDone);
                int first = firstDone[from];
                int overwrite = first == NOT_ALLOWED ? NOT_ALLOWED
                        : written[first] == required[op] ? otherDone[from] : first;
                if (overwrite == NOT_ALLOWED || completeEvents[overwrite] > invokeEvents[op]) {
                    break;
                }
                sourceArray[hidden] = source;
                overwriteArray[hidden] = overwrite;
                hidden++;
            }
            int possibleSources = sources.contains(op) ? sources.size() - 1 : sources.size();
            if (hidden == possibleSources && hidden > 0) {
                stale = new StaleRead(op, Arrays.copyOf(sourceArray, hidden), Arrays.copyOf(overwriteArray, hidden));
            }
        }
        return stale;
    }

    /** Index of the first of {@code writes} (in invocation order) invoked after {@code event}. */
    private int firstInvokedAfter(List<Integer> writes, int event) {
        int low = 0;
        int high = writes.size();
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (invokeEvents[writes.get(middle)] > event) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return low;
    }
}
