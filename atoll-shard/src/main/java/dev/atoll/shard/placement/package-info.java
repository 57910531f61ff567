/**
 * Placement and rebalancing, pure: the {@link dev.atoll.shard.placement.Rebalancer} turns a
 * {@link dev.atoll.shard.placement.ClusterState} (nodes with region, zone, capacity and state;
 * the shard map; shard statistics) into a bounded {@link dev.atoll.shard.placement.Plan}.
 *
 * <p>A driver (the meta group's leader):
 * <ol>
 *   <li>builds the state from node heartbeats and shard leaders' statistics, reporting
 *       learners still receiving their snapshot in {@code ShardStats.catchingUp};</li>
 *   <li>runs each planned operation on the shard's Raft group (add learner, promote = add voter,
 *       remove, leadership transfer; split and merge through the log) and then records it in the
 *       map with the epoch the plan named, which refuses it if the shard changed meanwhile;</li>
 *   <li>plans again when the operations are done or have failed: the rebalancer keeps no state
 *       between plans, so a failed or refused operation is simply planned again if still
 *       needed.</li>
 * </ol>
 */
package dev.atoll.shard.placement;
