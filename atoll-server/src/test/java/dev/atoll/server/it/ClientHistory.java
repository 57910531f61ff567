package dev.atoll.server.it;

import dev.atoll.sim.check.History;
import dev.atoll.sim.check.Op;

/**
 * A history that client threads record into concurrently (each call under the history's lock),
 * timed with {@link System#nanoTime}, for {@code Linearizability.check}.
 */
final class ClientHistory {
    private final History history = new History();

    /** The operation {@code op} is sent by client {@code clientId} now; returns its handle. */
    int invoke(int clientId, Op op) {
        synchronized (history) {
            return history.invoke(clientId, System.nanoTime(), op);
        }
    }

    /** It was answered: ok with {@code result} (a get's value, null for absent or a put), or failed without effect. */
    void complete(int op, boolean ok, String result) {
        synchronized (history) {
            if (ok) {
                history.ok(op, System.nanoTime(), result);
            } else {
                history.fail(op, System.nanoTime());
            }
        }
    }

    /** It ended without an answer: it may or may not have taken effect. */
    void indeterminate(int op) {
        synchronized (history) {
            history.info(op, System.nanoTime());
        }
    }

    /** The history so far; read it once the clients have stopped. */
    History history() {
        return history;
    }
}
