package dev.atoll.shard.replica;

/**
 * Bytes that do not decode as a shard command or snapshot. {@link #CODE} is stable, for clients
 * and logs; nothing was changed by the input.
 */
public final class MalformedShardData extends IllegalArgumentException {
    public static final String CODE = "MALFORMED_SHARD_DATA";

    public MalformedShardData(String reason) {
        super(CODE + ": " + reason);
    }
}
