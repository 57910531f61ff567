package dev.atoll.storage.mvcc;

/**
 * A request is refused. Thrown only inside the store, from a check deep in a transaction, and
 * caught in exactly one place (MvccStore's apply and read entry points) which discards the
 * whole write batch and answers {@link Outcome.Refused}: that is what makes a refused request
 * change nothing. Never escapes the package.
 */
final class Refusal extends RuntimeException {
    final MvccError error;

    Refusal(MvccError error, String detail) {
        super(detail, null, false, false);
        this.error = error;
    }

    <R> Outcome<R> outcome() {
        return Outcome.refused(error, getMessage());
    }
}
