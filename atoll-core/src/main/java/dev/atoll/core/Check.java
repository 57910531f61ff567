package dev.atoll.core;

/**
 * Always-on invariant checks (the JVM's {@code assert} is off by default). The message
 * names the invariant; arguments are formatted only when the check fails.
 */
public final class Check {
    private Check() {
    }

    public static void check(boolean condition, String invariant) {
        if (!condition) {
            throw new InvariantViolation(invariant);
        }
    }

    public static void check(boolean condition, String invariant, Object... args) {
        if (!condition) {
            throw new InvariantViolation(String.format(invariant, args));
        }
    }

    public static void checkArgument(boolean condition, String message, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(String.format(message, args));
        }
    }
}
