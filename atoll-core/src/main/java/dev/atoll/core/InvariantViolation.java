package dev.atoll.core;

/**
 * An invariant of a protocol or data structure does not hold: a bug, never an expected
 * outcome. Never caught and ignored; the simulator reports it with the seed that produced it.
 */
public final class InvariantViolation extends RuntimeException {
    public InvariantViolation(String message) {
        super(message);
    }
}
