package dev.atoll.sim.check;

import dev.atoll.core.Check;
import dev.atoll.core.RandomSource;
import dev.atoll.core.SeededRandom;
import dev.atoll.sim.check.History.Outcome;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Generates linearizable histories by running clients against an atomic register: each
 * operation takes effect at a random instant between its invocation and its completion, and
 * its result is what the register held then. Failed operations never take effect;
 * indeterminate ones (info, or never completed) take effect or not, at random. Values are
 * unique per write, so one corrupted read can be made a certain violation.
 */
final class RegisterWorkload {
    /** Shape of a workload; latencies and gaps are in ticks. */
    record Shape(int clientCount, int operationCount, int keyCount, int latencyTicksMax, int thinkTicksMax,
                 double failRate, double infoRate, double pendingRate) {
        static Shape of(int clientCount, int operationCount) {
            return new Shape(clientCount, operationCount, 1, 20, 10, 0, 0, 0);
        }

        Shape withKeys(int keys) {
            return new Shape(clientCount, operationCount, keys, latencyTicksMax, thinkTicksMax, failRate, infoRate, pendingRate);
        }

        Shape withFaults(double fail, double info, double pending) {
            return new Shape(clientCount, operationCount, keyCount, latencyTicksMax, thinkTicksMax, fail, info, pending);
        }
    }

    /** One recorded event, in real-time order. */
    record Event(int opIndex, int clientId, long time, Op op, Outcome kind, String result) {
        boolean isInvoke() {
            return kind == Outcome.PENDING;
        }
    }

    private final List<Event> events;

    private RegisterWorkload(List<Event> events) {
        this.events = events;
    }

    List<Event> events() {
        return events;
    }

    History history() {
        return replay(-1, null);
    }

    /**
     * The same history except that one completed get, after an earlier write was overwritten
     * by a later write that completed before the get began, returns the overwritten value:
     * a stale read no search can linearize. The value was written, so no pre-pass catches it.
     */
    History withStaleRead(RandomSource random) {
        record Write(int opIndex, String value, long invokeEvent, long completeEvent) {
        }
        var writes = new ArrayList<Write>();
        var reads = new ArrayList<Integer>();
        var invokeEventOf = new HashMap<Integer, Integer>();
        for (int event = 0; event < events.size(); event++) {
            Event e = events.get(event);
            if (e.isInvoke()) {
                invokeEventOf.put(e.opIndex(), event);
            } else if (e.kind() == Outcome.OK) {
                switch (e.op()) {
                    case Op.Put put -> writes.add(new Write(e.opIndex(), put.value(), invokeEventOf.get(e.opIndex()), event));
                    case Op.Cas cas when "true".equals(e.result()) ->
                            writes.add(new Write(e.opIndex(), cas.value(), invokeEventOf.get(e.opIndex()), event));
                    case Op.Get get -> reads.add(event);
                    default -> { }
                }
            }
        }
        for (int attempt = 0; attempt < 1000; attempt++) {
            int readCompleteEvent = reads.get(reads.size() / 2 + random.nextInt(Math.max(1, reads.size() / 2)));
            Event read = events.get(readCompleteEvent);
            int readInvokeEvent = invokeEventOf.get(read.opIndex());
            String key = read.op().key();
            Write overwriting = null;
            for (Write write : writes) {
                if (events.get((int) write.completeEvent()).op().key().equals(key) && write.completeEvent() < readInvokeEvent
                        && (overwriting == null || write.completeEvent() > overwriting.completeEvent())) {
                    overwriting = write;
                }
            }
            Write overwritten = null;
            for (Write write : writes) {
                if (overwriting != null && events.get((int) write.completeEvent()).op().key().equals(key)
                        && write.completeEvent() < overwriting.invokeEvent() && write.value() != null) {
                    overwritten = write;
                }
            }
            if (overwritten != null && !overwritten.value().equals(read.result())) {
                return replay(readCompleteEvent, overwritten.value());
            }
        }
        throw new IllegalStateException("no read can be made stale in this workload");
    }

    /**
     * The same history except that one get, invoked after another get read the value of a
     * write w2, returns the value of a write w1 that completed before w2 began: it goes back in
     * time. Chosen so that neither pre-pass proves it (w2 is still running when the get starts),
     * leaving the proof to the search.
     */
    History withReadGoingBackInTime(RandomSource random) {
        var invokeEventOf = new HashMap<Integer, Integer>();
        var writerOf = new HashMap<String, Integer>();
        var completeEventOf = new HashMap<Integer, Integer>();
        var readsByEvent = new ArrayList<Integer>();
        for (int event = 0; event < events.size(); event++) {
            Event e = events.get(event);
            if (e.isInvoke()) {
                invokeEventOf.put(e.opIndex(), event);
                if (e.op() instanceof Op.Put put) {
                    writerOf.put(put.value(), e.opIndex());
                }
            } else {
                completeEventOf.put(e.opIndex(), event);
                if (e.kind() == Outcome.OK && e.op() instanceof Op.Get && e.result() != null) {
                    readsByEvent.add(event);
                }
            }
        }
        for (int attempt = 0; attempt < 10_000; attempt++) {
            // r2 reads u written by w2; r starts after r2 completed but before w2 completed.
            Event r2 = events.get(readsByEvent.get(random.nextInt(readsByEvent.size() / 4)));
            Integer w2 = writerOf.get(r2.result());
            if (w2 == null || !completeEventOf.containsKey(w2)
                    || events.get(completeEventOf.get(w2)).kind() != Outcome.OK) {
                continue;
            }
            int r2Done = completeEventOf.get(r2.opIndex());
            int w2Done = completeEventOf.get(w2);
            for (int event = r2Done + 1; event < w2Done; event++) {
                Event r = events.get(event);
                if (!r.isInvoke() || !(r.op() instanceof Op.Get) || !r.op().key().equals(r2.op().key())
                        || !completeEventOf.containsKey(r.opIndex())
                        || events.get(completeEventOf.get(r.opIndex())).kind() != Outcome.OK) {
                    continue;
                }
                for (var writer : writerOf.entrySet()) {
                    int w1 = writer.getValue();
                    Event w1Invoke = events.get(invokeEventOf.get(w1));
                    boolean precedesW2 = completeEventOf.containsKey(w1)
                            && events.get(completeEventOf.get(w1)).kind() == Outcome.OK
                            && completeEventOf.get(w1) < invokeEventOf.get(w2);
                    if (!precedesW2 || !w1Invoke.op().key().equals(r.op().key())) {
                        continue;
                    }
                    History corrupted = replay(completeEventOf.get(r.opIndex()), writer.getKey());
                    var keyHistory = KeyHistory.of(r.op().key(), corrupted.operations().stream()
                            .filter(operation -> operation.op().key().equals(r.op().key())).toList());
                    if (keyHistory.impossibleRead() < 0 && keyHistory.staleRead() == null) {
                        return corrupted;
                    }
                }
            }
        }
        throw new IllegalStateException("no read can be sent back in time in this workload");
    }

    private History replay(int corruptedEvent, String corruptedResult) {
        var history = new History();
        var ids = new HashMap<Integer, Integer>();
        for (int event = 0; event < events.size(); event++) {
            Event e = events.get(event);
            String result = event == corruptedEvent ? corruptedResult : e.result();
            switch (e.kind()) {
                case PENDING -> ids.put(e.opIndex(), history.invoke(e.clientId(), e.time(), e.op()));
                case OK -> history.ok(ids.get(e.opIndex()), e.time(), result);
                case FAIL -> history.fail(ids.get(e.opIndex()), e.time());
                case INFO -> history.info(ids.get(e.opIndex()), e.time());
            }
        }
        return history;
    }

    static RegisterWorkload generate(long seed, Shape shape) {
        var random = new SeededRandom(seed);
        // Per operation: invoke < effect < complete, in ticks. Sorting all instants by tick
        // (ties: invokes, then effects, then completions) gives one real-time order.
        record Instant(long tick, int phase, int opIndex) {
        }
        var instants = new ArrayList<Instant>();
        var ops = new ArrayList<Op>();
        var clients = new ArrayList<Integer>();
        var outcomes = new ArrayList<Outcome>();
        var takesEffect = new ArrayList<Boolean>();
        long[] clientTicks = new long[shape.clientCount()];
        int writeCount = 0;
        for (int opIndex = 0; opIndex < shape.operationCount(); opIndex++) {
            int client = random.nextInt(shape.clientCount());
            long invokeTick = clientTicks[client] + random.nextInt(shape.thinkTicksMax() + 1);
            long effectTick = invokeTick + 1 + random.nextInt(shape.latencyTicksMax());
            long completeTick = effectTick + 1 + random.nextInt(shape.latencyTicksMax());
            clientTicks[client] = completeTick;
            String key = "k" + random.nextInt(shape.keyCount());
            double dice = random.nextDouble();
            Op op = dice < 0.5 ? new Op.Get(key)
                    : dice < 0.8 ? new Op.Put(key, "v" + writeCount++)
                    : new Op.Cas(key, null, "v" + writeCount++); // expected chosen at run time below
            double fault = random.nextDouble();
            Outcome outcome = fault < shape.failRate() ? Outcome.FAIL
                    : fault < shape.failRate() + shape.infoRate() ? Outcome.INFO
                    : fault < shape.failRate() + shape.infoRate() + shape.pendingRate() ? Outcome.PENDING
                    : Outcome.OK;
            ops.add(op);
            clients.add(client);
            outcomes.add(outcome);
            takesEffect.add(outcome == Outcome.OK || (outcome != Outcome.FAIL && random.chance(0.5)));
            instants.add(new Instant(invokeTick, 0, opIndex));
            instants.add(new Instant(effectTick, 1, opIndex));
            if (outcome != Outcome.PENDING) {
                instants.add(new Instant(completeTick, 2, opIndex));
            }
        }
        instants.sort(Comparator.comparingLong(Instant::tick).thenComparingInt(Instant::phase)
                .thenComparingInt(Instant::opIndex));

        Map<String, String> register = new HashMap<>();
        var recentValues = new ArrayList<String>();
        var results = new HashMap<Integer, String>();
        var events = new ArrayList<Event>();
        for (Instant instant : instants) {
            int opIndex = instant.opIndex();
            Op op = ops.get(opIndex);
            switch (instant.phase()) {
                case 0 -> {
                    if (op instanceof Op.Cas cas) {
                        // Expect the current value or a recent one, so cas both swaps and is refused.
                        String expected = random.chance(0.6) || recentValues.isEmpty()
                                ? register.get(cas.key()) : recentValues.get(random.nextInt(recentValues.size()));
                        op = new Op.Cas(cas.key(), expected, cas.value());
                        ops.set(opIndex, op);
                    }
                    events.add(new Event(opIndex, clients.get(opIndex), instant.tick(), op, Outcome.PENDING, null));
                }
                case 1 -> {
                    if (takesEffect.get(opIndex)) {
                        results.put(opIndex, applyAtomically(op, register));
                        String current = register.get(op.key());
                        if (current != null) {
                            recentValues.add(current);
                            if (recentValues.size() > 8) {
                                recentValues.remove(0);
                            }
                        }
                    }
                }
                default -> events.add(new Event(opIndex, clients.get(opIndex), instant.tick(), op,
                        outcomes.get(opIndex), outcomes.get(opIndex) == Outcome.OK ? results.get(opIndex) : null));
            }
        }
        Check.check(events.size() >= shape.operationCount(), "every operation is invoked");
        return new RegisterWorkload(events);
    }

    private static String applyAtomically(Op op, Map<String, String> register) {
        return switch (op) {
            case Op.Put put -> {
                register.put(put.key(), put.value());
                yield null;
            }
            case Op.Get get -> register.get(get.key());
            case Op.Cas cas -> {
                if (java.util.Objects.equals(register.get(cas.key()), cas.expected())) {
                    register.put(cas.key(), cas.value());
                    yield "true";
                }
                yield "false";
            }
        };
    }
}
