package dev.atoll.sim.check;

import dev.atoll.core.Check;

/**
 * A key-value operation a client invokes, as the linearizability checker sees it. Keys and
 * values are strings; a {@code null} value means the key is absent. Each key is an independent
 * register whose initial value is absent.
 */
public sealed interface Op permits Op.Put, Op.Get, Op.Cas {
    String key();

    /** Sets the key to {@code value} ({@code null} deletes it). Completes with no result. */
    record Put(String key, String value) implements Op {
        public Put {
            Check.checkArgument(key != null, "a put needs a key");
        }
    }

    /** Reads the key. Completes with the value read, {@code null} if the key is absent. */
    record Get(String key) implements Op {
        public Get {
            Check.checkArgument(key != null, "a get needs a key");
        }
    }

    /**
     * Compare-and-set: if the key holds {@code expected} ({@code null} = absent), set it to
     * {@code value}. Completes with "true" if it swapped, "false" if it did not.
     */
    record Cas(String key, String expected, String value) implements Op {
        public Cas {
            Check.checkArgument(key != null, "a cas needs a key");
        }
    }
}
