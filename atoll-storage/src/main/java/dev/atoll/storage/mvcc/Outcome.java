package dev.atoll.storage.mvcc;

/**
 * What became of a request: done with a response, refused with a stable error, or (for a
 * mutating call) skipped because its Raft index was already applied. Expected outcomes are
 * values, never exceptions.
 */
public sealed interface Outcome<R> permits Outcome.Done, Outcome.Refused, Outcome.AlreadyApplied {

    /** The response; throws {@link IllegalStateException} when the outcome is not {@link Done}. */
    R response();

    record Done<R>(R response) implements Outcome<R> {
    }

    /** The request was refused and changed no data. */
    record Refused<R>(MvccError error, String detail) implements Outcome<R> {
        @Override
        public R response() {
            throw new IllegalStateException("refused: " + error.code() + " " + detail);
        }
    }

    /**
     * The log entry's index is not above the store's applied index: it was applied before
     * (possibly before a restart) and applying it again would break exactly-once.
     */
    record AlreadyApplied<R>(LogPosition applied) implements Outcome<R> {
        @Override
        public R response() {
            throw new IllegalStateException("already applied up to " + applied);
        }
    }

    static <R> Outcome<R> done(R response) {
        return new Done<>(response);
    }

    static <R> Outcome<R> refused(MvccError error, String detail) {
        return new Refused<>(error, detail);
    }
}
