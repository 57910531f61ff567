package dev.atoll.client;

/**
 * The answer to a put or a delete.
 *
 * @param shard    the shard that applied it
 * @param index    the log index of the write in the shard's group (0 for a delete)
 * @param existed  for a delete: the key was there
 * @param endpoint the node (host:port) that answered the last attempt
 * @param attempts how many requests it took, the answered one included
 */
public record Written(long shard, long index, boolean existed, String endpoint, int attempts) {
}
