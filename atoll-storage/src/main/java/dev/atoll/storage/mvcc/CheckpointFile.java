package dev.atoll.storage.mvcc;

/** One file of a checkpoint directory, for chunked streaming to a follower. */
public record CheckpointFile(String name, long sizeBytes) {
}
