package dev.atoll.sim.check;

import dev.atoll.core.Check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The operations clients invoked against the database and how each completed, in the
 * real-time order one thread (the simulator) observed them. Operation A precedes B in real
 * time iff A's completion was recorded before B's invocation; the recording order decides,
 * not the time values, which may be equal. Each operation is invoked once and completes at
 * most once. Not thread-safe: one recorder, then any number of checks.
 */
public final class History {
    public static final int OPERATIONS_MAX_DEFAULT = 1 << 20;

    /** How an operation ended. {@link #INFO} and {@link #PENDING} are both indeterminate. */
    public enum Outcome {
        /** Not completed (yet): may take effect at any point after its invocation, or never. */
        PENDING,
        /** Took effect between its invocation and its completion, with the recorded result. */
        OK,
        /** Definitely did not take effect. */
        FAIL,
        /** Indeterminate: may take effect at any point after its invocation, or never. */
        INFO;

        public boolean isIndeterminate() {
            return this == PENDING || this == INFO;
        }
    }

    /**
     * One operation. {@code invokeEvent} and {@code completeEvent} are positions in the
     * recording order (completeEvent is -1 while pending); times are the simulator's.
     */
    public record Operation(int id, int clientId, Op op, long invokeTime, int invokeEvent,
                            Outcome outcome, long completeTime, int completeEvent, String result) {

        /** True iff this operation completed (ok) before {@code other} was invoked. */
        public boolean precedes(Operation other) {
            return outcome == Outcome.OK && completeEvent < other.invokeEvent;
        }

        /** One line: {@code #57 c2 get x -> "1"  [t=140..150 ok]}. */
        @Override
        public String toString() {
            var line = new StringBuilder();
            line.append('#').append(id).append(" c").append(clientId).append(' ').append(describe(op));
            if (outcome == Outcome.OK && !(op instanceof Op.Put)) {
                line.append(" -> ").append(op instanceof Op.Get ? quote(result) : result);
            }
            line.append("  [t=").append(invokeTime);
            switch (outcome) {
                case PENDING -> line.append(".. never completed]");
                case OK -> line.append("..").append(completeTime).append(" ok]");
                case FAIL -> line.append("..").append(completeTime).append(" fail]");
                case INFO -> line.append("..").append(completeTime).append(" info]");
            }
            return line.toString();
        }
    }

    private final int operationsMax;
    private final List<Operation> operations = new ArrayList<>();
    private int eventCount;
    private long lastTime = Long.MIN_VALUE;

    public History() {
        this(OPERATIONS_MAX_DEFAULT);
    }

    public History(int operationsMax) {
        Check.checkArgument(operationsMax > 0, "operationsMax must be positive: %d", operationsMax);
        this.operationsMax = operationsMax;
    }

    /** Records that {@code clientId} invoked {@code op} at {@code time}; returns the operation id. */
    public int invoke(int clientId, long time, Op op) {
        Check.checkArgument(op != null, "an invocation needs an operation");
        if (operations.size() >= operationsMax) {
            throw new IllegalStateException("history is full: operationsMax=" + operationsMax);
        }
        advanceTime(time);
        int id = operations.size();
        operations.add(new Operation(id, clientId, op, time, eventCount++, Outcome.PENDING, 0, -1, null));
        return id;
    }

    /**
     * Records that operation {@code opId} took effect and returned {@code result}: for a get the
     * value read ({@code null} = absent), for a cas "true" or "false", for a put {@code null}.
     */
    public void ok(int opId, long time, String result) {
        Operation pending = pending(opId);
        switch (pending.op()) {
            case Op.Put put -> Check.checkArgument(result == null,
                    "a put completes with no result, got %s for #%d", result, opId);
            case Op.Cas cas -> Check.checkArgument("true".equals(result) || "false".equals(result),
                    "a cas completes with \"true\" or \"false\", got %s for #%d", result, opId);
            case Op.Get get -> { }
        }
        complete(pending, time, Outcome.OK, result);
    }

    /** Records that operation {@code opId} definitely did not take effect. */
    public void fail(int opId, long time) {
        complete(pending(opId), time, Outcome.FAIL, null);
    }

    /** Records that operation {@code opId} may or may not take effect, at any point after its invocation. */
    public void info(int opId, long time) {
        complete(pending(opId), time, Outcome.INFO, null);
    }

    public int size() {
        return operations.size();
    }

    /** Number of invocations and completions recorded. */
    public int eventCount() {
        return eventCount;
    }

    public Operation operation(int opId) {
        Check.checkArgument(opId >= 0 && opId < operations.size(), "no operation #%d", opId);
        return operations.get(opId);
    }

    /** All operations, indexed by id (which is also invocation order). */
    public List<Operation> operations() {
        return Collections.unmodifiableList(operations);
    }

    /** The history as recorded, one event per line. */
    @Override
    public String toString() {
        var byEvent = new Operation[eventCount];
        for (Operation operation : operations) {
            byEvent[operation.invokeEvent()] = operation;
            if (operation.completeEvent() >= 0) {
                byEvent[operation.completeEvent()] = operation;
            }
        }
        var text = new StringBuilder();
        text.append("history: ").append(operations.size()).append(" operations, ")
                .append(eventCount).append(" events\n");
        for (int event = 0; event < eventCount; event++) {
            Operation operation = byEvent[event];
            boolean isInvoke = operation.invokeEvent() == event;
            long time = isInvoke ? operation.invokeTime() : operation.completeTime();
            String kind = isInvoke ? "invoke" : operation.outcome().name().toLowerCase(java.util.Locale.ROOT);
            text.append(String.format("%6d t=%-8d c%-3d %-6s #%d %s", event, time,
                    operation.clientId(), kind, operation.id(), describe(operation.op())));
            if (!isInvoke && operation.outcome() == Outcome.OK && !(operation.op() instanceof Op.Put)) {
                text.append(" -> ").append(operation.op() instanceof Op.Get
                        ? quote(operation.result()) : operation.result());
            }
            text.append('\n');
        }
        return text.toString();
    }

    private Operation pending(int opId) {
        Operation operation = operation(opId);
        Check.check(operation.outcome() == Outcome.PENDING,
                "an operation completes at most once: #%d already completed as %s", opId, operation.outcome());
        return operation;
    }

    private void complete(Operation pending, long time, Outcome outcome, String result) {
        advanceTime(time);
        operations.set(pending.id(), new Operation(pending.id(), pending.clientId(), pending.op(),
                pending.invokeTime(), pending.invokeEvent(), outcome, time, eventCount++, result));
    }

    private void advanceTime(long time) {
        Check.check(time >= lastTime, "history time never goes backwards: %d after %d", time, lastTime);
        lastTime = time;
    }

    static String describe(Op op) {
        return switch (op) {
            case Op.Put put -> "put " + put.key() + " " + quote(put.value());
            case Op.Get get -> "get " + get.key();
            case Op.Cas cas -> "cas " + cas.key() + " " + quote(cas.expected()) + "->" + quote(cas.value());
        };
    }

    /** A value as the checker prints it: quoted, or {@code absent} for null. */
    static String quote(String value) {
        return value == null ? "absent" : '"' + value + '"';
    }
}
