/**
 * Keyspaces other than {@code default}: the shard map in the meta group, one Raft group per
 * shard replica on each node, and the admin and KV APIs.
 *
 * <h2>The map</h2>
 * The meta group's {@link dev.atoll.server.runtime.MetaStateMachine} holds a {@link
 * dev.atoll.server.shard.ShardState}: atoll-shard's {@code ShardMap}, each keyspace's storage id,
 * and four kinds of intent: replica moves, leader transfers, merges and data moves. Every change is a protobuf meta
 * command ({@link dev.atoll.server.shard.ShardCodec}); its apply answers the proposer with the
 * map's {@code ChangeResult}, and a refusal changes nothing.
 *
 * <h2>Hosting</h2>
 * {@link dev.atoll.server.shard.ShardHost} runs a group (id: shard id + 1) for every shard with a
 * replica on the node, created and removed while the node runs. A shard at its first conf
 * version is founded by its voters, its log starting after the bootstrap snapshot at index 1
 * (the shard's bounds); a replica added later starts empty and installs the leader's snapshot.
 * All replicas of a node keep their data in one RocksDB ({@link
 * dev.atoll.server.shard.ShardStore}), each under its own prefix (keyspace, shard). A removed
 * replica's group is compacted at its applied index before its data is deleted, so hosting it
 * again continues from its own durable state.
 *
 * <h2>Changes, step by step</h2>
 * A replica move ({@code MoveShard}) is one meta command that adds a learner on the target and
 * records the move. The shard's leader ({@link dev.atoll.server.shard.ShardReconciler}) adds the
 * learner to its group ({@link dev.atoll.server.shard.ReplicaPlan}); the leader's snapshot
 * catches it up; once its match index is close to the commit index the leader proposes its
 * promotion to the map, then makes it a voter in the group, then proposes the source's removal
 * (handing leadership over first if it leads), then removes it from the group; the source node
 * drops its replica once out of the group (or after a grace period). Each map step names the
 * shard's epoch and each group step is derived from the map after a meta read barrier and only
 * moves forward, so a crash at any point is completed by the next leader. A leader transfer is
 * an intent the leader carries out; leaders report themselves to the map in batches.
 *
 * <h2>Balancing</h2>
 * {@link dev.atoll.server.shard.ShardBalancer} runs on the meta group's leader: every two seconds,
 * when no move is in flight and no transfer has been pending for long, it asks the pure {@code
 * Rebalancer} for a plan over the nodes (with the region, zone and capacity each published) and
 * turns a replica move into a move intent and leader transfers into transfer intents, which the
 * shards' leaders carry out as above. A node unreachable for a short while holds it back; one
 * unreachable for five minutes counts as down, and its replicas are made again on the others.
 *
 * <h2>Splits</h2>
 * {@code SplitShard} (admin API, {@code ./atoll shard split s3 [--at KEY | --at-slot N]}) cuts a
 * range (or geo) shard at a key (without one, the median key of the shard's data from one of its
 * replicas) and a hash shard at a slot, the new shard taking the shard's slots from it up (without
 * one, the weighted median slot by bytes of a replica's key sample, {@code KeySampler}, each
 * sampled key's slot by atoll-shard's {@code KeyHash}; the middle of its slots when it holds no
 * data). A key for a hash shard, or a slot for a range shard,
 * is refused {@code INVALID_REQUEST}; a point not strictly inside the shard {@code REJECTED}. The
 * placement driver splits range and hash shards alike ({@link dev.atoll.server.shard.ShardBalancer}).
 * Either way the meta group applies {@code ShardChange.Split}: the new shard's id, the next range
 * version for both. The shard's leader then sees a split in the map its group has not applied
 * and proposes the replica's {@code Split} at the replica's own epoch ({@link
 * dev.atoll.server.shard.SplitPlan} derives it from the map alone, so any later leader proposes
 * the same; a repeat meets another epoch and changes nothing). Each replica applying it writes,
 * in one batch, its cut and the new shard's first rows and state under the new shard's prefix (a
 * range shard's upper range, or a hash shard's rows whose slot is at or above the split slot,
 * deleted from the parent's prefix in the same batch); the node then hosts the new group from
 * that state, founded by the new shard's voters at index 1. Chosen for the three races:
 * <ul>
 *   <li>a replica that lags applies the split later, from its log: until then its node does not
 *       host the new group ({@code ShardHost} waits while a hosted replica of the keyspace still
 *       holds the new span at an older range version), and the new group's messages to it are
 *       dropped, so its peers retry;</li>
 *   <li>a restart between the split and the new group's creation finds the new shard's state in
 *       the store (written with the parent's cut) and hosts the group from it;</li>
 *   <li>a replica that installs a snapshot of the parent past the split never applies it: its
 *       node hosts the new shard empty and the new group's leader sends it a snapshot. If the
 *       parent applies the split after the new replica installed a snapshot, the split's rows
 *       for it are stale and not written.</li>
 * </ul>
 * Clients with the old map get "shard moved" (the replica refuses their range version) and retry.
 *
 * <h2>Merges</h2>
 * {@code MergeShards} (admin API, {@code ./atoll shard merge s3 s4}: s4 into s3) joins two shards
 * of one keyspace whose replicas are on the same nodes (no learners): adjacent range (or geo)
 * shards, or any two hash shards, whose slot sets are disjoint as every keyspace's shards are (the
 * map's {@code Merge} asks no more of them). One shard named alone takes its neighbour: for a range
 * shard the one its range touches, for a hash shard the owner of the slot just after its highest
 * (or, merged into the left, just before its lowest), which undoes a split of contiguous slots;
 * with none there, {@code MERGE_NOT_ADJACENT}. The steps are the same for both, in the order the
 * simulator's placement driver proves ({@code ./atoll sim sharded}), every step forward only and
 * derived from the meta group's state alone ({@link dev.atoll.server.shard.MergePlan}), so a crash
 * anywhere is completed by the next leader:
 * <ol>
 *   <li>the meta group applies {@code ShardChange.Merge} and, in the same command, records the
 *       intent ({@link dev.atoll.server.shard.ShardState.Merge}: the source's descriptor, the
 *       target's epoch before; in the snapshot too). The source leaves the map at once, the
 *       target spans both at the merged epoch; while the intent lasts every node keeps hosting
 *       its source replica ({@link dev.atoll.server.shard.ShardHost}, after a restart from its
 *       store) and neither shard takes a split, move or other merge;</li>
 *   <li>the source's leader proposes {@code PrepareMerge} at the source's epoch: from that entry
 *       on its replicas refuse every write ("shard moved", naming the target), so its rows are
 *       final: a write it acknowledged was applied before;</li>
 *   <li>the target's leader waits until the source replica on its own node (there is one: the
 *       replicas are co-located) has applied the freeze, takes its rows on the loop thread and
 *       proposes {@code CommitMerge} carrying them. Each target replica that applies it takes
 *       the rows and the merged span and epoch; the rows are in the entry, so a replica that
 *       lags (or was down) applies it later from its log without its node's copy of the source;</li>
 *   <li>once the target's leader has applied it (so it is committed) it proposes
 *       {@code FinishMerge}: the meta group forgets the intent;</li>
 *   <li>every node then removes its source group and deletes its data, as for a dropped shard
 *       (after a crash before the delete, the orphan sweep does it).</li>
 * </ol>
 * Between steps 1 and 3 the source's keys are unavailable: the map names the target, whose
 * replicas refuse the merged range version until they apply the commit, so clients retry on
 * "shard moved". The rows travel in one log entry, hence in one peer message: the admin API
 * refuses sources over {@link dev.atoll.server.shard.AdminService#MERGE_SOURCE_BYTES_MAX}
 * ({@code MERGE_TOO_LARGE}) as the source's leader counts them after a read barrier (a replica on
 * the node asked may lag its group), and the request waits (a while, also through a leader change)
 * until both groups have applied every split of the map. Other refusals: {@code MERGE_NOT_ADJACENT}, {@code
 * MERGE_KEYSPACE_MISMATCH}, {@code MERGE_NOT_RANGE} (directory shards, whose table is edited
 * instead), {@code MERGE_NOT_COLOCATED} (the replicas must first be moved onto the same nodes)
 * and {@code MERGE_IN_PROGRESS}. The placement driver ({@link dev.atoll.server.shard.ShardBalancer})
 * merges on its own through the same path, for two shards together small and cold whose ranges
 * stood for {@code --merge-after-seconds}, never below the shards their keyspace was created with.
 *
 * <h2>Data moves: directory edits and hash slots</h2>
 * {@code PutDirectoryEntry} / {@code RemoveDirectoryEntry} ({@code ./atoll directory put|remove})
 * and {@code MoveSlots} ({@code ./atoll shard move-slots}) change which shard holds some keys. One
 * meta command applies the map's change (every shard that gives or takes keys gets the next range
 * version) and records a {@link dev.atoll.server.shard.Relocation} (in the snapshot too): one leg
 * per source and target, with the keys it moves (slots, a key range, or a key range filtered by the
 * directory's default rule). Another edit of the keyspace, or a split or merge of its shards, is
 * refused ({@code DIRECTORY_MOVE_IN_PROGRESS}, {@code DATA_MOVE_IN_PROGRESS}) until it ends. The
 * shards' leaders then carry it out, each step derived from the intent and their own replica
 * ({@link dev.atoll.server.shard.RelocationPlan}), forward only:
 * <ol>
 *   <li>each source proposes {@code HandOff}: from that entry on its replicas refuse the moved keys
 *       ("shard moved", naming the target) and keep their rows, frozen; each target proposes
 *       {@code Receive}: the keys are its own but refused until their rows are there. The shards'
 *       other keys are served throughout;</li>
 *   <li>the target's leader reads the rows, a chunk at a time, from any source replica that applied
 *       the handoff ({@code FetchMoved}, between nodes: source and target need not share nodes) and
 *       proposes each chunk in a {@code TakeOver} entry, applied only where the intake stands (a
 *       repeat changes nothing); the rows travel in the entries, so a lagging or restarted replica
 *       gets them from its log. After the last chunk the keys are served, and the meta group is told
 *       the leg is taken;</li>
 *   <li>once every leg from a source is taken, the source proposes {@code Release} (its rows of the
 *       moved keys are deleted) and tells the meta group, which forgets the move when every source
 *       did.</li>
 * </ol>
 * A client routed with the map before the edit meets the new range version and is answered "shard
 * moved" with the owner, as after a split. Reads check the same (a directory shard's replica spans
 * every key, so a read must be routed at the replica's own range version); range reads over keys in
 * flight are answered "shard moved" rather than with a partial answer. Chunks bound each entry
 * ({@link dev.atoll.server.shard.ShardReconciler#TAKE_OVER_BYTES_MAX}), so a move of any size goes
 * through; the moved keys are unavailable between the handoff and the last chunk.
 *
 * <h2>Requests</h2>
 * {@link dev.atoll.server.shard.ShardKvService} routes by the node's map and serves locally or
 * forwards once; a stale client route is answered "shard moved" with the owner's descriptor.
 * The per-shard apply logic is the pure {@code dev.atoll.shard.replica.ShardReplica}, driven by
 * {@link dev.atoll.server.shard.ShardStateMachine}: each entry's rows and the replica's state
 * (bounds, applied index, merge state) are written in one batch, so a restart resumes from a
 * state some prefix of the log produced. The replica checks each command's shard, epoch and key
 * when it is applied; its refusals ({@code ShardMoved}, {@code StaleEpoch}) are answered "shard
 * moved", and other refusals carry a stable {@link dev.atoll.server.shard.ShardError} code.
 */
package dev.atoll.server.shard;
