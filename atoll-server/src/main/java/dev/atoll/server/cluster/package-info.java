/**
 * Cluster membership: who the members are, and how a change reaches every Raft group.
 *
 * <h2>Where membership lives</h2>
 * The meta group's {@link dev.atoll.server.cluster.MemberTable member table} is the authority:
 * each member's etcd id, name (its Raft node id, once it has started), peer and client URLs,
 * learner flag, and a tombstone once removed. etcd's Cluster API reads and changes it; the Raft
 * memberships of the meta group and of the {@code default} group follow it. A founding member's
 * id is derived from its name; a member added through the API gets etcd's id (from its peer URLs
 * and the second of the request) and has no name until it starts and publishes itself, as in
 * etcd ("unstarted"). Only started members are placed in Raft groups, so a member that is added
 * but never started never counts towards any quorum.
 *
 * <h2>A change, step by step</h2>
 * <ol>
 *   <li>The node that leads the {@code default} group (the meta group's leadership follows it)
 *       checks the request as etcd does ({@link dev.atoll.server.cluster.ReconfigChecks}: started
 *       members, connected voters, a learner in sync) on a fresh table (a ReadIndex on the meta
 *       group), and proposes a member command to the meta group. Applying it validates it again
 *       (etcd's apply-time validation), so two racing requests cannot both pass. The address book
 *       entry is committed here, before any group changes: every member's
 *       {@link dev.atoll.server.cluster.MemberAddresses peer transport} dials a newcomer as soon as
 *       it has started, and forgets a removed member once no local group holds it.</li>
 *   <li>The {@link dev.atoll.server.cluster.MembershipReconciler reconciler} on the node leading
 *       both groups carries the table into the groups, one Raft change at a time
 *       ({@link dev.atoll.server.cluster.MembershipPlan}): an addition or promotion reaches the
 *       meta group first and the {@code default} group second; a removal the {@code default}
 *       group first and the meta group second. So the {@code default} group never holds a member
 *       the meta group does not, and a newcomer has the table before it serves data.</li>
 *   <li>The request is answered once the {@code default} group's committed membership shows the
 *       change (etcd answers a configuration change once applied). A leader being removed hands
 *       leadership over first; its successor removes it.</li>
 * </ol>
 *
 * <h2>Crash recovery</h2>
 * The committed table is the intent; every Raft step is derived from it, is idempotent, and only
 * moves forward (absent, learner, voter, then absent for good), so a plan made on an older table
 * can delay a step but never undo one, and the reconciler acts only after a ReadIndex on the
 * meta group. A crash before the table commit leaves nothing (the client's request failed or
 * timed out, like any etcd request). A crash after it, between the two groups, or before the
 * answer, leaves a table ahead of the groups: whichever node leads both groups next (a new
 * leader, or the same node restarted from its WAL) plans again and completes the change.
 *
 * <h2>Joining</h2>
 * A member started with {@code --initial-cluster-state existing} publishes itself through the
 * members its initial-cluster names ({@link dev.atoll.server.cluster.MemberPublisher#join}),
 * learns the cluster id and the members, and starts its groups empty; the leader sends it the
 * log, or a snapshot when the log is compacted. The cluster id is kept in the data directory
 * ({@link dev.atoll.server.cluster.ClusterIdentity}), so a restart needs neither initial-cluster
 * nor the other members.
 */
package dev.atoll.server.cluster;
