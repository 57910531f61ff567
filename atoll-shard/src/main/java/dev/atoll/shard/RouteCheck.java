package dev.atoll.shard;

/** Whether a request routed by a client's cached shard descriptor reached the right shard. */
public sealed interface RouteCheck {
    /** The shard still holds the key at the epoch the client knew. */
    record Current(ShardDescriptor shard) implements RouteCheck {
    }

    /** The client's map is stale: {@code owner} holds the key now. The client updates its cache and retries. */
    record ShardMoved(ShardDescriptor owner) implements RouteCheck {
    }

    record UnknownKeyspace(String keyspace) implements RouteCheck {
    }
}
