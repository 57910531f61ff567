package dev.atoll.storage.mvcc;

/**
 * A lease as the store keeps it: the TTL it was granted and the remaining TTL last
 * checkpointed by the runtime (0 = never checkpointed). Expiry timing is the runtime's job.
 */
public record Lease(long id, long grantedTtlSeconds, long remainingTtlSeconds) {
}
