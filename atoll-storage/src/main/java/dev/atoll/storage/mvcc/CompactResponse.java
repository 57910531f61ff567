package dev.atoll.storage.mvcc;

/** etcd's CompactionResponse: the current revision, and the revision compacted at. */
public record CompactResponse(long revision, long compactedRevision) {
}
