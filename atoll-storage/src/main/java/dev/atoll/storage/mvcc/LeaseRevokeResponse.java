package dev.atoll.storage.mvcc;

/** etcd's LeaseRevokeResponse, plus how many attached keys were deleted (all at {@code revision}). */
public record LeaseRevokeResponse(long revision, long deleted) {
}
