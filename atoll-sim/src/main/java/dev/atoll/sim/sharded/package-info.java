/**
 * {@code atoll sim sharded}: a deterministic simulation of a sharded, multi-Raft cluster
 * ({@link dev.atoll.sim.sharded.ShardedSimulation}). Each simulated host runs many Raft groups
 * on the real {@code RaftNode}: the meta group, whose state machine holds the
 * {@link dev.atoll.shard.ShardMap}, and one group per shard, whose state machine is the pure
 * {@link dev.atoll.shard.replica.ShardReplica}; three keyspaces, sharded by range, by hash slots
 * and by a directory. Network, disk, crash and pause faults are the
 * single-group simulator's ({@link dev.atoll.sim.SimNetwork}, {@link dev.atoll.sim.SimDisk},
 * {@link dev.atoll.sim.FaultProfile}).
 *
 * <p>How the pieces meet:
 * <ul>
 *   <li>a split or merge goes through the meta group's log first (the map allocates the new
 *       shard's id, and from then on routes by the new spans), then the
 *       {@link dev.atoll.sim.sharded.PlacementDriver} replays it into the shard groups' logs; a
 *       replica, not the map, decides what it serves, so a client routed by the new map to a group
 *       that has not split yet is refused with its epoch and retries;</li>
 *   <li>a data move (hash slots moved, possibly to a shard AddShard created empty; a directory
 *       entry put or removed) goes through the meta group's log first: the map routes the keys to
 *       their target at once and raises the range version of every shard involved; the meta state
 *       records the move's keys per source and target as one relocation. The driver then replays
 *       it into the groups' logs: HandOff in each source (its keys are refused from then on,
 *       naming the target, and their rows frozen), Receive in each target (the keys are its own
 *       but refused until their rows are there), TakeOver chunks of rows read from a source
 *       replica that applied the HandOff, and Release in each source once every target's leader
 *       holds the rows. A client meets "shard moved" or a stale epoch while keys are in flight
 *       and retries. A shard's next span change waits for its moves in flight to end;</li>
 *   <li>a directory shard's replica spans every key: the directory routes, and every shard whose
 *       keys an edit changes takes the next range version, so a request routed by an older table
 *       is refused;</li>
 *   <li>a replica move is AddLearner, PromoteLearner, RemoveReplica in the map, each followed by
 *       the same Raft membership change in the shard's group; the learner's replica is created
 *       empty by the first message of the group and installs a snapshot;</li>
 *   <li>a host never re-creates a replica it destroyed (tombstones survive crashes), so a stale
 *       message cannot bring a removed voter back with an empty log;</li>
 *   <li>the meta group's log and snapshots carry handles into the run's registry of map changes
 *       and states, a stand-in for the protobuf codec the server uses; shard groups carry
 *       {@link dev.atoll.shard.replica.ShardCodec} bytes.</li>
 * </ul>
 *
 * <h2>Scans across shards, and what they promise</h2>
 * Clients scan every keyspace: a range [from, to) (from a client key or the keyspace's start, to
 * another key or its end) with a limit. The answer is stitched by the product's own pure
 * {@link dev.atoll.shard.ScanStitch}, the code the server's Range and the Java client run: a range
 * keyspace is read shard by shard in key order from a cursor, each shard asked for the range cut to
 * its span and for the rows still wanted; a hash or directory keyspace is read from every shard of
 * one map at once, each asked for the whole range and one row more than the limit, and the
 * answers are merged. Each part is one shard's Scan command, applied through its group's log at
 * the range version the client routed it with (a replica at another version, or with keys of the
 * range in flight, refuses it), so each part is a linearizable read of that shard. A refused part
 * is asked again: in key order from the same cursor by a refreshed map; every shard at once as a
 * whole new round of a refreshed map, since answers read under two maps could hold a moved key
 * twice or miss it.
 *
 * <p>The consistency promised, and checked ({@link dev.atoll.sim.sharded.ScanCheck}), is therefore
 * per key, not a snapshot: the rows are in strictly increasing key order, inside the range, at most
 * the limit ("more" only with exactly the limit); each row's value is one its key may hold at some
 * moment between the scan's invocation and its answer; and each key the answer covers (the whole
 * range, or up to the last row when the limit cut it) that is missing was absent at some such
 * moment. So a key acknowledged-written before the scan began and not deleted since is in the
 * answer. Two keys of different shards may be seen at different moments: the scan as a whole is
 * not atomic, and nothing checks that it is. Every key of the range is also recorded in the
 * history as a read over the scan's interval, which the linearizability check places among the
 * key's other operations.
 */
package dev.atoll.sim.sharded;
