/**
 * The state machine of one shard's Raft group, pure and reusable by the server:
 * {@link dev.atoll.shard.replica.ShardReplica} applies {@link dev.atoll.shard.replica.ShardCommand}s
 * (encoded by {@link dev.atoll.shard.replica.ShardCodec}) to a
 * {@link dev.atoll.shard.replica.ShardStore}, entry by entry, and answers each with a
 * {@link dev.atoll.shard.replica.ShardResult}. No threads, I/O, clocks or randomness.
 *
 * <h2>Routing</h2>
 * Every command names the shard and the epoch its sender took from its copy of the meta group's
 * map. A replica refuses, changing nothing, a data command whose range version is not its own
 * ({@code StaleEpoch}) or whose key is outside its span ({@code ShardMoved}), with its own bounds
 * for the client's cache. The check runs when the entry is applied, so a write proposed before a
 * split and applied after it is refused, not written into the wrong shard.
 *
 * <h2>Lifecycle of a group</h2>
 * A shard group's log starts after its bootstrap snapshot at
 * {@link dev.atoll.shard.replica.ShardReplica#INITIAL_INDEX}, which holds the shard's bounds and
 * first rows (none for a new keyspace). A replica added later (a learner) starts with an empty
 * log and always installs a snapshot first, since the log's first entry follows index 1.
 *
 * <h2>Split</h2>
 * The meta group applies {@code ShardChange.Split} first (allocating the new shard's id); a
 * reconciler then proposes {@link dev.atoll.shard.replica.ShardCommand.Split} to the shard's
 * group, planned against the same epoch. Each replica that applies it cuts its span, moves the
 * upper part's rows out of its store and returns them as the new shard's bootstrap snapshot
 * ({@code ShardResult.Split}): every replica of the new group starts from exactly the parent's
 * data at that log position, since every parent replica applied the same entries before it.
 * The driver creates the new group's replica on the node from that snapshot. A node whose new
 * replica already exists keeps it: it was created by a message of the new group and is either
 * still empty (the driver then initialises it from the split, keeping its Raft hard state) or
 * has installed a newer snapshot of the new group (the split's rows are stale and dropped).
 * A replica that installs a snapshot of its parent past the split never applies it; its node
 * gets the new shard's replica from the new group's leader, by snapshot.
 *
 * <h2>Merge (a simpler protocol than TiKV's)</h2>
 * A merge joins a source shard into a target whose replicas are on the same nodes:
 * <ol>
 *   <li>the meta group applies {@code ShardChange.Merge} (target keeps its id, source goes);</li>
 *   <li>{@link dev.atoll.shard.replica.ShardCommand.PrepareMerge} in the source's log freezes it:
 *       from that entry on, the source refuses every data command ({@code ShardMoved} naming the
 *       target), so its rows are final. A write the source acknowledged was applied before the
 *       freeze; a write after it changed nothing;</li>
 *   <li>a reconciler takes a snapshot of any source replica that applied the freeze (they are
 *       all equal) and proposes {@link dev.atoll.shard.replica.ShardCommand.CommitMerge} carrying
 *       it in the target's log; each target replica that applies it checks the snapshot is the
 *       frozen source for this target at the planned epochs, inserts its rows and takes the
 *       union span and the merged epoch. The rows travel in the entry itself, so a lagging
 *       target replica never depends on its node's copy of the source;</li>
 *   <li>once the target group has applied the commit, the source group is destroyed.</li>
 * </ol>
 * Keys of the source are unavailable between the freeze and the commit. Every step is
 * idempotent (a repeated step meets another epoch and is refused), so a reconciler simply
 * retries. The entry carries at most {@link dev.atoll.shard.replica.ShardReplica#MERGE_BYTES_MAX}
 * bytes of rows: merges are for small shards (TiKV's catch-up of the source's log on the target's
 * nodes would lift this bound).
 *
 * <h2>Data moves (directory edits, hash slots moved)</h2>
 * Some keys ({@link dev.atoll.shard.replica.MovedKeys}: slots, a key range, or a key range filtered
 * by a directory's default rule) go from source shards to a target whose replicas need not be on
 * the same nodes. Each group takes one step at the new range version the meta group's map gave it:
 * {@link dev.atoll.shard.replica.ShardCommand.HandOff} in a source (the keys are refused from then
 * on, "shard moved" naming the target, and their rows kept, frozen) and
 * {@link dev.atoll.shard.replica.ShardCommand.Receive} in the target (the keys are its own but
 * refused until their rows arrived; its other keys are served throughout). The target's leader then
 * reads the frozen rows from any source replica that applied the handoff
 * ({@link dev.atoll.shard.replica.ShardReplica#handedOffRows}) and proposes them chunk by chunk
 * ({@link dev.atoll.shard.replica.ShardCommand.TakeOver}), each applied only where the intake stands,
 * so a repeat or a stale chunk changes nothing; the rows travel in the entries. Once every target
 * holds them, {@link dev.atoll.shard.replica.ShardCommand.Release} deletes them from the source.
 * Snapshots carry the keys in flight and the handed-off rows. A shard with keys in flight takes no
 * split or merge ({@code MOVING}).
 */
package dev.atoll.shard.replica;
