/**
 * Sharding, pure: keyspaces ({@link dev.atoll.shard.KeyspaceSpec}), shards
 * ({@link dev.atoll.shard.ShardDescriptor} with a TiKV-style {@link dev.atoll.shard.ShardEpoch}),
 * the versioned {@link dev.atoll.shard.ShardMap}, the four partitioners behind the sealed
 * {@link dev.atoll.shard.Partitioner} (range, hash slots, directory, geo), the
 * {@link dev.atoll.shard.SlotTable} for hash resharding and the {@link dev.atoll.shard.SplitPlanner}.
 * No threads, I/O, clocks or randomness.
 *
 * <p>A driver (the meta group's state machine and the router in atoll-server):
 * <ol>
 *   <li>keeps the current {@code ShardMap} as the meta group's state; applies each committed
 *       {@link dev.atoll.shard.ShardChange} with {@code apply} and keeps the map of an
 *       {@code Applied}; a refused change ({@code StaleEpoch}, {@code Rejected}, ...) changes
 *       nothing and is the answer to whoever proposed it;</li>
 *   <li>routes a request with {@code lookup(keyspace, key)}; a replica receiving a request
 *       checks it with {@code checkRoute} and answers {@code ShardMoved} with the owner's
 *       descriptor, which the client caches before retrying;</li>
 *   <li>carries out the {@link dev.atoll.shard.DataMove}s an {@code Applied} lists (directory
 *       edits, slot moves) by copying the keys to the target shard and deleting them from the
 *       source;</li>
 *   <li>runs a split or merge through the affected groups' logs as well, so each group's
 *       state machine cuts or joins its data at the same point in its log as the map; that state
 *       machine is {@link dev.atoll.shard.replica.ShardReplica} (see its package for the split
 *       and merge protocols).</li>
 * </ol>
 */
package dev.atoll.shard;
