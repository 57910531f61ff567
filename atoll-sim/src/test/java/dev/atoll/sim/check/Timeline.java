package dev.atoll.sim.check;

/**
 * Writes a history as a scenario: every call is the next event, one tick after the last, so a
 * test reads top to bottom in real-time order.
 */
final class Timeline {
    private final History history = new History();
    private long now;

    static Op put(String key, String value) {
        return new Op.Put(key, value);
    }

    static Op get(String key) {
        return new Op.Get(key);
    }

    static Op cas(String key, String expected, String value) {
        return new Op.Cas(key, expected, value);
    }

    int invoke(int client, Op op) {
        return history.invoke(client, ++now, op);
    }

    /** Completes a put. */
    Timeline ok(int opId) {
        history.ok(opId, ++now, null);
        return this;
    }

    /** Completes a get with the value read, or a cas with "true"/"false". */
    Timeline ok(int opId, String result) {
        history.ok(opId, ++now, result);
        return this;
    }

    Timeline fail(int opId) {
        history.fail(opId, ++now);
        return this;
    }

    Timeline info(int opId) {
        history.info(opId, ++now);
        return this;
    }

    /** An operation that runs alone: invoked, then completed with {@code result}. */
    Timeline alone(int client, Op op, String result) {
        int id = invoke(client, op);
        history.ok(id, ++now, result);
        return this;
    }

    Linearizability.Result check() {
        return Linearizability.check(history);
    }

    History history() {
        return history;
    }
}
