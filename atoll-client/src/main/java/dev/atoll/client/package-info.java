/**
 * The Java client of Atoll's sharded keyspaces: {@link dev.atoll.client.AtollClient} caches each
 * keyspace's shard map, sends every request with its shard's route token straight to the shard's
 * leader, and retries on "shard moved", "no leader" and unreachable nodes within explicit bounds
 * ({@link dev.atoll.client.ClientOptions}). Refusals are {@link dev.atoll.client.AtollException}s
 * carrying the server's stable code.
 */
package dev.atoll.client;
