/**
 * {@code atoll sim sharded}: a deterministic simulation of a sharded, multi-Raft cluster
 * ({@link dev.atoll.sim.sharded.ShardedSimulation}). Each simulated host runs many Raft groups
 * on the real {@code RaftNode}: the meta group, whose state machine holds the
 * {@link dev.atoll.shard.ShardMap}, and one group per shard, whose state machine is the pure
 * {@link dev.atoll.shard.replica.ShardReplica}. Network, disk, crash and pause faults are the
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
 *   <li>a replica move is AddLearner, PromoteLearner, RemoveReplica in the map, each followed by
 *       the same Raft membership change in the shard's group; the learner's replica is created
 *       empty by the first message of the group and installs a snapshot;</li>
 *   <li>a host never re-creates a replica it destroyed (tombstones survive crashes), so a stale
 *       message cannot bring a removed voter back with an empty log;</li>
 *   <li>the meta group's log and snapshots carry handles into the run's registry of map changes
 *       and states, a stand-in for the protobuf codec the server uses; shard groups carry
 *       {@link dev.atoll.shard.replica.ShardCodec} bytes.</li>
 * </ul>
 */
package dev.atoll.sim.sharded;
