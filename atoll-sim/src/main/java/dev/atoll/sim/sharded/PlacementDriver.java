package dev.atoll.sim.sharded;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardReplica;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The simulator's placement driver (TiKV's PD, on the meta group's leader). Each round it reads
 * the map from the meta leader, then:
 * <ul>
 *   <li>reconciles, forward only, each shard group with the map: replays the map's last split or
 *       merge of the shard into the groups' logs (Split; PrepareMerge then CommitMerge), makes the
 *       group's Raft membership match the map's replicas one change at a time, and carries a
 *       replica move on (promote the caught-up learner, then remove the replaced voter, handing
 *       leadership away first if it leads);</li>
 *   <li>destroys replicas the map and the group no longer count: moved away (once the group's
 *       committed membership excludes them) or merged (once the target applied the merge);</li>
 *   <li>in the safety phase, now and then starts one operation on a settled shard: a split, a
 *       merge of two neighbours on the same nodes, a replica move (add a learner) or a leader
 *       transfer. Every step is idempotent, so a lost proposal is simply proposed again.</li>
 * </ul>
 */
final class PlacementDriver {
    private static final long ROUND_MICROS = 20_000;
    private static final int SHARDS_MAX = 40;

    private final ShardedSimulation sim;
    private final double operationChance;
    private final Map<ShardId, NodeId> moveSources = new HashMap<>();
    private long mapVersionSeen = -1;
    private ShardMap map;
    /** Operations started (proposed to the map, or to a group for a transfer) ... */
    int splits;
    int merges;
    int moves;
    int transfers;
    /** ... and those the map shows done, counted from one map to the next. */
    int splitsDone;
    int mergesDone;
    int movesDone;

    PlacementDriver(ShardedSimulation sim) {
        this.sim = sim;
        this.map = sim.initialMap;
        this.operationChance = sim.random.chance(0.5) ? 0.1 : 0.3;
    }

    void start() {
        sim.schedule(ROUND_MICROS, this::round);
    }

    int shardCount() {
        return map.shards().size();
    }

    private void round() {
        sim.schedule(ROUND_MICROS, this::round);
        MetaState meta = currentMeta();
        if (meta == null) {
            return;
        }
        for (ShardDescriptor s : new ArrayList<>(map.shards())) {
            reconcile(meta, s);
        }
        collectGarbage(meta);
        if (!sim.livenessPhase && sim.random.chance(operationChance)) {
            startOperation();
        }
    }

    /** The meta leader's state, if it is not older than what this driver already saw. */
    private MetaState currentMeta() {
        GroupReplica leader = sim.leaderOf(GroupReplica.META);
        if (leader == null || leader.meta.map().version() < mapVersionSeen) {
            return null;
        }
        mapVersionSeen = leader.meta.map().version();
        countDone(map, leader.meta.map());
        map = leader.meta.map();
        return leader.meta;
    }

    private void countDone(ShardMap before, ShardMap after) {
        for (ShardDescriptor s : after.shards()) {
            var old = before.shard(s.id());
            if (old.isEmpty()) {
                splitsDone++;
            } else if (s.voters().size() < old.get().voters().size()) {
                movesDone++;
            }
        }
        for (ShardDescriptor s : before.shards()) {
            if (after.shard(s.id()).isEmpty()) {
                mergesDone++;
            }
        }
    }

    // ---------------------------------------------------------------- reconciling groups with the map

    private void reconcile(MetaState meta, ShardDescriptor s) {
        GroupReplica leader = sim.leaderOf(s.id().value());
        if (leader == null || !leader.initialised()) {
            return;
        }
        long rv = leader.replica.bounds().epoch().rangeVersion();
        if (rv < s.epoch().rangeVersion()) {
            replayRangeChange(meta, s, leader, rv);
            return;
        }
        reconcileReplicas(s, leader);
    }

    private void replayRangeChange(MetaState meta, ShardDescriptor s, GroupReplica leader, long rv) {
        MetaState.RangeChange rc = meta.rangeChanges().get(s.id());
        if (rc == null) {
            return;
        }
        switch (rc.change()) {
            case ShardChange.Split sp when sp.epoch().rangeVersion() == rv ->
                    sim.proposeShard(leader, new ShardCommand.Split(s.id(), sp.epoch(), sp.at(), rc.child()));
            case ShardChange.Merge m when m.shard().equals(s.id()) && m.epoch().rangeVersion() == rv -> {
                GroupReplica source = sim.leaderOf(m.right().value());
                if (source == null || !source.initialised()) {
                    return;
                }
                if (source.replica.pendingMerge().isPresent()) {
                    sim.proposeShard(leader, new ShardCommand.CommitMerge(s.id(), m.epoch(), m.rightEpoch(),
                            source.replica.snapshot()));
                } else if (source.replica.bounds().epoch().rangeVersion() == m.rightEpoch().rangeVersion()) {
                    sim.proposeShard(source, new ShardCommand.PrepareMerge(m.right(), m.rightEpoch(), s.id(), m.epoch()));
                }
            }
            default -> { }
        }
    }

    /** One step toward the map's replicas, or of a move in progress; nothing while a change is in flight. */
    private void reconcileReplicas(ShardDescriptor s, GroupReplica leader) {
        Membership m = leader.raft.status().membership();
        if (!m.equals(leader.raft.committedMembership())) {
            return;
        }
        for (NodeId x : s.learners()) {
            if (sim.hosts.get(x).tombstones.contains(s.id().value())) {
                // the target destroyed a replica of this shard after the move was planned (one a
                // late split had made there): a destroyed replica never comes back, so the move is abandoned
                sim.proposeMeta(new ShardChange.RemoveReplica(s.id(), s.epoch(), x));
                return;
            }
        }
        for (NodeId x : s.learners()) {
            if (!m.isMember(x)) {
                sim.proposeMembership(leader, new MembershipChange(MembershipChange.Type.ADD_LEARNER, x));
                return;
            }
        }
        for (NodeId x : s.voters()) {
            if (!m.isVoter(x)) {
                sim.proposeMembership(leader, new MembershipChange(m.isMember(x)
                        ? MembershipChange.Type.ADD_VOTER : MembershipChange.Type.ADD_LEARNER, x));
                return;
            }
        }
        for (NodeId x : m.sortedMembers()) {
            if (!s.hasReplicaOn(x)) {
                if (x.equals(leader.host.id)) {
                    handOver(leader, s);
                } else {
                    sim.proposeMembership(leader, new MembershipChange(MembershipChange.Type.REMOVE, x));
                }
                return;
            }
        }
        // the group matches the map: carry a move on, in the map
        for (NodeId x : s.learners()) {
            Long match = leader.raft.matchIndexes().get(x);
            GroupReplica learner = sim.hosts.get(x).group(s.id().value());
            if (match != null && match >= leader.raft.status().commitIndex() && learner != null && learner.initialised()) {
                sim.proposeMeta(new ShardChange.PromoteLearner(s.id(), s.epoch(), x));
            }
            return;
        }
        if (s.voters().size() > ShardedSimulation.REPLICATION_FACTOR) {
            NodeId victim = moveSources.get(s.id());
            if (victim == null || !s.voters().contains(victim)) {
                victim = s.voters().get(sim.random.nextInt(s.voters().size()));
            }
            if (victim.equals(leader.host.id)) {
                handOver(leader, s);
            } else {
                sim.proposeMeta(new ShardChange.RemoveReplica(s.id(), s.epoch(), victim));
            }
        }
    }

    /** The leader is to leave the group: hand leadership to another voter the map keeps. */
    private void handOver(GroupReplica leader, ShardDescriptor s) {
        var others = new ArrayList<NodeId>();
        for (NodeId v : new TreeSet<>(leader.raft.committedMembership().voters())) {
            if (!v.equals(leader.host.id) && s.voters().contains(v)) {
                others.add(v);
            }
        }
        if (!others.isEmpty()) {
            sim.transferLeadership(leader, others.get(sim.random.nextInt(others.size())));
        }
    }

    private void collectGarbage(MetaState meta) {
        for (Host h : sim.hosts.values()) {
            if (!h.running()) {
                continue;
            }
            for (long group : new ArrayList<>(h.groups.keySet())) {
                if (group != GroupReplica.META && garbage(meta, h, group)) {
                    sim.destroy(h, group);
                }
            }
        }
    }

    private boolean garbage(MetaState meta, Host h, long group) {
        ShardMap m = meta.map();
        ShardId id = ShardId.of(group);
        var d = m.shard(id);
        if (d.isEmpty()) {
            if (group >= m.nextShardId()) {
                return false; // not in this map yet
            }
            MetaState.RangeChange rc = meta.rangeChanges().get(id);
            if (!(rc != null && rc.change() instanceof ShardChange.Merge merge && merge.right().equals(id))) {
                return false;
            }
            var target = m.shard(merge.shard());
            if (target.isEmpty()) {
                return true;
            }
            GroupReplica tl = sim.leaderOf(merge.shard().value());
            return tl != null && tl.initialised()
                    && tl.replica.bounds().epoch().rangeVersion() >= merge.epoch().rangeVersion() + 1;
        }
        if (d.get().hasReplicaOn(h.id)) {
            return false;
        }
        GroupReplica leader = sim.leaderOf(group);
        return leader != null && !leader.raft.status().membership().isMember(h.id)
                && !leader.raft.committedMembership().isMember(h.id);
    }

    // ---------------------------------------------------------------- starting operations

    /** A shard whose group has caught up with the map: same range version, same replicas, nothing in flight. */
    private boolean settled(ShardDescriptor s) {
        GroupReplica leader = sim.leaderOf(s.id().value());
        if (leader == null || !leader.initialised() || leader.replica.pendingMerge().isPresent()) {
            return false;
        }
        ShardBounds b = leader.replica.bounds();
        Membership m = leader.raft.status().membership();
        return b.epoch().rangeVersion() == s.epoch().rangeVersion() && m.equals(leader.raft.committedMembership())
                && m.voters().equals(Set.copyOf(s.voters())) && m.learners().equals(Set.copyOf(s.learners()));
    }

    private void startOperation() {
        var settled = new ArrayList<ShardDescriptor>();
        for (ShardDescriptor s : map.shards()) {
            if (settled(s)) {
                settled.add(s);
            }
        }
        if (settled.isEmpty()) {
            return;
        }
        ShardDescriptor s = settled.get(sim.random.nextInt(settled.size()));
        switch (sim.random.nextInt(4)) {
            case 0 -> {
                SplitPoint at = map.shards().size() < SHARDS_MAX ? splitPoint(s) : null;
                if (at != null) {
                    splits++;
                    sim.proposeMeta(new ShardChange.Split(s.id(), s.epoch(), at));
                }
            }
            case 1 -> {
                ShardDescriptor right = mergePartner(s, settled);
                if (right != null) {
                    merges++;
                    sim.proposeMeta(new ShardChange.Merge(s.id(), s.epoch(), right.id(), right.epoch()));
                }
            }
            case 2 -> {
                if (!s.learners().isEmpty() || s.voters().size() != ShardedSimulation.REPLICATION_FACTOR) {
                    return;
                }
                var targets = new ArrayList<NodeId>();
                for (NodeId x : sim.universe) {
                    if (!s.hasReplicaOn(x) && !sim.hosts.get(x).tombstones.contains(s.id().value())) {
                        targets.add(x);
                    }
                }
                if (!targets.isEmpty()) {
                    moves++;
                    moveSources.put(s.id(), s.voters().get(sim.random.nextInt(s.voters().size())));
                    sim.proposeMeta(new ShardChange.AddLearner(s.id(), s.epoch(),
                            targets.get(sim.random.nextInt(targets.size()))));
                }
            }
            default -> {
                GroupReplica leader = sim.leaderOf(s.id().value());
                var voters = new ArrayList<>(new TreeSet<>(leader.raft.committedMembership().voters()));
                voters.remove(leader.host.id);
                if (!voters.isEmpty()) {
                    transfers++;
                    sim.transferLeadership(leader, voters.get(sim.random.nextInt(voters.size())));
                }
            }
        }
    }

    /** A key (range) or slot (hash) strictly inside the shard, or null if there is none to cut at. */
    private SplitPoint splitPoint(ShardDescriptor s) {
        if (s.span() instanceof KeyRange r) {
            var candidates = new ArrayList<Key>();
            for (Key k : sim.keys.get(s.keyspace())) {
                if (r.contains(k) && !k.equals(r.start())) {
                    candidates.add(k);
                }
            }
            Key random = Key.of(new byte[]{(byte) sim.random.nextInt(256), (byte) sim.random.nextInt(256)});
            if (r.contains(random) && !random.equals(r.start())) {
                candidates.add(random);
            }
            return candidates.isEmpty() ? null : new SplitPoint.AtKey(candidates.get(sim.random.nextInt(candidates.size())));
        }
        BitSet bits = ((HashSlots) s.span()).toBitSet();
        int n = bits.cardinality();
        if (n < 2) {
            return null;
        }
        int skip = 1 + sim.random.nextInt(n - 1);
        int slot = bits.nextSetBit(0);
        for (int i = 0; i < skip; i++) {
            slot = bits.nextSetBit(slot + 1);
        }
        return new SplitPoint.AtSlot(slot);
    }

    /** A settled shard to merge into {@code s}: its right neighbour (range) or any other (hash), on the same nodes. */
    private ShardDescriptor mergePartner(ShardDescriptor s, List<ShardDescriptor> settled) {
        var partners = new ArrayList<ShardDescriptor>();
        for (ShardDescriptor o : settled) {
            boolean joins = s.span() instanceof KeyRange r ? o.span() instanceof KeyRange or && r.end().equals(or.start())
                    : o.keyspace().equals(s.keyspace()) && !o.id().equals(s.id());
            if (joins && o.replicas().equals(s.replicas()) && s.learners().isEmpty()) {
                partners.add(o);
            }
        }
        if (partners.isEmpty()) {
            return null;
        }
        ShardDescriptor partner = partners.get(sim.random.nextInt(partners.size()));
        // the source's rows travel in the CommitMerge entry: merge only what fits, with room to grow
        GroupReplica source = sim.leaderOf(partner.id().value());
        return source.replica.snapshot().dataBytes() <= ShardReplica.MERGE_BYTES_MAX / 8 ? partner : null;
    }

    // ---------------------------------------------------------------- convergence

    /** Whether every shard group matches the latest map and every stray replica is gone. */
    boolean settled() {
        return unsettled() == null;
    }

    /** Why the cluster has not settled yet (for the liveness report), or null. */
    String unsettled() {
        GroupReplica metaLeader = sim.leaderOf(GroupReplica.META);
        if (metaLeader == null) {
            return "no meta leader";
        }
        MetaState meta = metaLeader.meta;
        for (ShardDescriptor s : meta.map().shards()) {
            if (!settled(s) || !s.learners().isEmpty() || s.voters().size() != ShardedSimulation.REPLICATION_FACTOR) {
                GroupReplica l = sim.leaderOf(s.id().value());
                return "unsettled " + s + " group leader " + (l == null ? "none" : l.host.id + " "
                        + (l.replica == null ? "uninitialised" : l.replica.toString()) + " "
                        + l.raft.status().membership());
            }
        }
        for (Host h : sim.hosts.values()) {
            for (long group : h.groups.keySet()) {
                if (group != GroupReplica.META && (meta.map().shard(ShardId.of(group)).isEmpty()
                        || !meta.map().shard(ShardId.of(group)).get().hasReplicaOn(h.id))) {
                    return "stray replica " + h.id + "/s" + group;
                }
            }
        }
        return null;
    }
}
