package dev.atoll.storage.mvcc;

/** etcd's LeaseGrantResponse: the id granted (picked by the store when asked for 0) and its TTL. */
public record LeaseGrantResponse(long revision, long id, long ttlSeconds) {
}
