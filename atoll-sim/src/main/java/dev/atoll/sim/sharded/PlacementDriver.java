package dev.atoll.sim.sharded;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.Handoff;
import dev.atoll.shard.replica.Intake;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardReplica;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The simulator's placement driver (TiKV's PD, on the meta group's leader). Each round it reads
 * the map from the meta leader, then:
 * <ul>
 *   <li>starts the groups of shards {@code AddShard} created, empty, on their first voters;</li>
 *   <li>reconciles, forward only, each shard group with the map: replays the map's span changes
 *       of the shard into the group's log in the map's order (Split; PrepareMerge then
 *       CommitMerge; HandOff on a data move's source, Receive on its target), makes the group's
 *       Raft membership match the map's replicas one change at a time, and carries a replica move
 *       on (promote the caught-up learner, then remove the replaced voter, handing leadership away
 *       first if it leads);</li>
 *   <li>carries each data move on: a target takes the handed-off rows over in TakeOver chunks read
 *       from a source replica that applied its HandOff; a source releases its rows once every
 *       target's leader holds them;</li>
 *   <li>destroys replicas the map and the group no longer count: moved away (once the group's
 *       committed membership excludes them) or merged (once the target applied the merge);</li>
 *   <li>in the safety phase, now and then starts one operation on settled shards: a split, a
 *       merge of two neighbours on the same nodes, a replica move (add a learner), a leader
 *       transfer, a new (empty) shard, a move of hash slots, or a directory entry put or removed.
 *       Every step is idempotent, so a lost proposal is simply proposed again.</li>
 * </ul>
 */
final class PlacementDriver {
    private static final long ROUND_MICROS = 20_000;
    private static final int SHARDS_MAX = 40;
    private static final List<String> DIRECTORY_ENTRY_PREFIXES = List.of("a/", "b", "b/", "ba/", "c/");

    private final ShardedSimulation sim;
    private final double operationChance;
    /** Most bytes of rows one TakeOver chunk carries: small for some seeds, so that moves take many chunks. */
    private final long chunkBytesMax;
    private final Set<Long> relocationsSeenDone = new HashSet<>();
    private final Map<ShardId, NodeId> moveSources = new HashMap<>();
    private long mapVersionSeen = -1;
    private ShardMap map;
    /** Operations started (proposed to the map, or to a group for a transfer) ... */
    int splits;
    int merges;
    int moves;
    int transfers;
    int relocations;
    int addShards;
    /** ... and those the map shows done, counted from one map to the next. */
    int splitsDone;
    int mergesDone;
    int movesDone;
    int relocationsDone;

    PlacementDriver(ShardedSimulation sim) {
        this.sim = sim;
        this.map = sim.initialMap;
        this.operationChance = sim.random.chance(0.5) ? 0.1 : 0.3;
        long[] chunkChoices = {16, 256, 1 << 16};
        this.chunkBytesMax = chunkChoices[sim.random.nextInt(chunkChoices.length)];
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
        startAddedShards(meta);
        for (ShardDescriptor s : new ArrayList<>(map.shards())) {
            reconcile(meta, s);
        }
        collectGarbage(meta);
        countRelocationsDone(meta);
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

    /**
     * The shards {@code AddShard} created start empty on their founding voters (the map's, while
     * its replicas have not changed since), at the bounds they had when created: the group then
     * replays the map's later span changes, as any other.
     */
    private void startAddedShards(MetaState meta) {
        for (ShardDescriptor s : meta.map().shards()) {
            if (!meta.added().contains(s.id()) || s.epoch().confVersion() != ShardEpoch.INITIAL.confVersion()) {
                continue;
            }
            Sharding sharding = meta.map().keyspace(s.keyspace()).orElseThrow().sharding();
            ShardBounds created = sharding instanceof Sharding.Hash h
                    ? new ShardBounds(s.id(), HashSlots.NONE, ShardEpoch.INITIAL, h.slotCount())
                    : new ShardBounds(s.id(), KeyRange.ALL, ShardEpoch.INITIAL, 0);
            for (NodeId x : s.voters()) {
                Host h = sim.hosts.get(x);
                GroupReplica g = h.groups.get(s.id().value());
                if (h.running() && (g == null || !g.initialised())) {
                    sim.initialise(h, s.id().value(), Membership.ofVoters(new TreeSet<>(s.voters())),
                            ShardReplica.initial(created), "AddShard");
                }
            }
        }
    }

    private void reconcile(MetaState meta, ShardDescriptor s) {
        GroupReplica leader = sim.leaderOf(s.id().value());
        if (leader == null || !leader.initialised()) {
            return;
        }
        carryMovesOn(meta, leader);
        long rv = leader.replica.bounds().epoch().rangeVersion();
        if (rv < s.epoch().rangeVersion()) {
            // While data moves are in flight through the shard its group refuses the next span
            // change (MOVING), which is proposed again each round. Those moves are all older in the
            // map's order and each ends without a later change, so no two shards wait on each other.
            replayRangeChange(meta, s, leader, rv);
            return;
        }
        reconcileReplicas(s, leader);
    }

    private void replayRangeChange(MetaState meta, ShardDescriptor s, GroupReplica leader, long rv) {
        MetaState.RangeChange rc = meta.rangeChange(s.id(), rv).orElse(null);
        if (rc == null) {
            return;
        }
        switch (rc) {
            case MetaState.Split(ShardChange.Split sp, ShardId child) ->
                    sim.proposeShard(leader, new ShardCommand.Split(s.id(), sp.epoch(), sp.at(), child));
            case MetaState.Merge(ShardChange.Merge m) when m.shard().equals(s.id()) -> {
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
            case MetaState.Merge m -> { } // the merge's source: its target's reconciling freezes it
            case MetaState.Relocation r -> sim.proposeShard(leader, firstMoveStep(r, s.id()));
        }
    }

    /** A data move's first step on {@code shard}: HandOff of what it gives, or Receive of what it takes. */
    private static ShardCommand firstMoveStep(MetaState.Relocation r, ShardId shard) {
        ShardEpoch before = r.before().get(shard);
        ShardEpoch after = r.after().get(shard);
        List<MetaState.Leg> out = r.legsFrom(shard);
        if (!out.isEmpty()) {
            return new ShardCommand.HandOff(shard, before, after,
                    out.stream().map(l -> new Handoff(r.id(), l.target(), l.keys())).toList());
        }
        return new ShardCommand.Receive(shard, before, after,
                r.legsTo(shard).stream().map(l -> new Intake(r.id(), l.source(), l.keys(), Key.MIN)).toList());
    }

    /**
     * The next step of each data move in flight through the shard {@code leader} leads: the next
     * chunk of rows for each intake, read from the source's leader once it applied its HandOff
     * (the rows are final from then on); the Release of each handoff every target holds.
     */
    private void carryMovesOn(MetaState meta, GroupReplica leader) {
        ShardReplica replica = leader.replica;
        ShardId shard = replica.bounds().shard();
        for (Intake intake : replica.intakes()) {
            GroupReplica source = sim.leaderOf(intake.source().value());
            if (source == null || !source.initialised()) {
                continue;
            }
            Optional<ShardReplica.Chunk> chunk = ShardReplica.handedOffRows(source.replica.state(), source.store,
                    intake.relocation(), shard, intake.resumeAt(), chunkBytesMax);
            if (chunk.isPresent()) {
                sim.proposeShard(leader, new ShardCommand.TakeOver(shard, replica.bounds().epoch(), intake.relocation(),
                        intake.source(), intake.resumeAt(), chunk.get().rows(), chunk.get().resumeAt()));
            }
        }
        var released = new TreeSet<Long>();
        for (Handoff handoff : replica.handoffs()) {
            MetaState.Relocation r = meta.relocations().get(handoff.relocation());
            if (r != null && !released.contains(r.id()) && r.legsFrom(shard).stream()
                    .allMatch(l -> tookOver(meta, r, l))) {
                released.add(r.id());
                sim.proposeShard(leader, new ShardCommand.Release(shard, replica.bounds().epoch(), r.id()));
            }
        }
    }

    /**
     * Whether {@code leg}'s target holds its keys: its leader applied the Receive and every chunk
     * (a leader's applied state is committed), or the target has since been frozen for a merge or
     * merged away, which its group allows only once nothing is arriving.
     */
    private boolean tookOver(MetaState meta, MetaState.Relocation r, MetaState.Leg leg) {
        if (meta.map().shard(leg.target()).isEmpty()) {
            return mergedAway(meta, leg.target());
        }
        GroupReplica target = sim.leaderOf(leg.target().value());
        if (target == null || !target.initialised()) {
            return false;
        }
        ShardReplica t = target.replica;
        return t.pendingMerge().isPresent() || t.bounds().epoch().rangeVersion() >= r.after().get(leg.target())
                .rangeVersion() && t.intakes().stream().noneMatch(i -> i.relocation() == r.id()
                && i.source().equals(leg.source()));
    }

    /** Counts the relocations whose every shard has applied all its steps (or left the map). */
    private void countRelocationsDone(MetaState meta) {
        for (MetaState.Relocation r : meta.relocations().values()) {
            if (relocationsSeenDone.contains(r.id())) {
                continue;
            }
            boolean done = true;
            for (var e : r.after().entrySet()) {
                GroupReplica leader = meta.map().shard(e.getKey()).isEmpty() ? null : sim.leaderOf(e.getKey().value());
                if (meta.map().shard(e.getKey()).isPresent() && (leader == null || !leader.initialised()
                        || leader.replica.bounds().epoch().rangeVersion() < e.getValue().rangeVersion()
                        || leader.replica.handoffs().stream().anyMatch(h -> h.relocation() == r.id())
                        || leader.replica.intakes().stream().anyMatch(i -> i.relocation() == r.id()))) {
                    done = false;
                }
            }
            if (done) {
                relocationsSeenDone.add(r.id());
                relocationsDone++;
            }
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
            return group < m.nextShardId() && mergedAway(meta, id); // else not in this map yet
        }
        if (d.get().hasReplicaOn(h.id)) {
            return false;
        }
        GroupReplica leader = sim.leaderOf(group);
        return leader != null && !leader.raft.status().membership().isMember(h.id)
                && !leader.raft.committedMembership().isMember(h.id);
    }

    /** Whether {@code id}, gone from the map, was merged into a shard whose group has taken it in (or is gone too). */
    private boolean mergedAway(MetaState meta, ShardId id) {
        ShardMap m = meta.map();
        for (MetaState.RangeChange rc : meta.rangeChanges().values()) {
            if (rc instanceof MetaState.Merge(ShardChange.Merge merge) && merge.right().equals(id)) {
                if (m.shard(merge.shard()).isEmpty()) {
                    return true;
                }
                GroupReplica tl = sim.leaderOf(merge.shard().value());
                return tl != null && tl.initialised()
                        && tl.replica.bounds().epoch().rangeVersion() >= merge.epoch().rangeVersion() + 1;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- starting operations

    /**
     * A shard whose group has caught up with the map: same range version, same replicas, no
     * merge or data move in flight.
     */
    private boolean settled(ShardDescriptor s) {
        GroupReplica leader = sim.leaderOf(s.id().value());
        if (leader == null || !leader.initialised() || leader.replica.pendingMerge().isPresent()
                || !leader.replica.handoffs().isEmpty() || !leader.replica.intakes().isEmpty()) {
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
        boolean directed = s.span() instanceof ShardSpan.Directed;
        switch (sim.random.nextInt(8)) {
            case 0 -> {
                SplitPoint at = map.shards().size() < SHARDS_MAX && !directed ? splitPoint(s) : null;
                if (at != null) {
                    splits++;
                    sim.proposeMeta(new ShardChange.Split(s.id(), s.epoch(), at));
                }
            }
            case 1 -> {
                ShardDescriptor right = directed ? null : mergePartner(s, settled);
                if (right != null) {
                    merges++;
                    sim.proposeMeta(new ShardChange.Merge(s.id(), s.epoch(), right.id(), right.epoch()));
                }
            }
            case 2 -> startReplicaMove(s);
            case 3 -> {
                GroupReplica leader = sim.leaderOf(s.id().value());
                var voters = new ArrayList<>(new TreeSet<>(leader.raft.committedMembership().voters()));
                voters.remove(leader.host.id);
                if (!voters.isEmpty()) {
                    transfers++;
                    sim.transferLeadership(leader, voters.get(sim.random.nextInt(voters.size())));
                }
            }
            case 4 -> {
                if (map.shards().size() < SHARDS_MAX) {
                    addShards++;
                    sim.proposeMeta(new ShardChange.AddShard(sim.random.chance(0.5) ? ShardedSimulation.HASH_KEYSPACE
                            : ShardedSimulation.DIRECTORY_KEYSPACE, sim.pickNodes(ShardedSimulation.REPLICATION_FACTOR)));
                }
            }
            case 5 -> startSlotMove(s, settled);
            default -> startDirectoryEdit();
        }
    }

    private void startReplicaMove(ShardDescriptor s) {
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
            sim.proposeMeta(new ShardChange.AddLearner(s.id(), s.epoch(), targets.get(sim.random.nextInt(targets.size()))));
        }
    }

    /** Moves a run of a settled hash shard's slots (all of them, now and then) to another settled hash shard. */
    private void startSlotMove(ShardDescriptor s, List<ShardDescriptor> settled) {
        if (!(s.span() instanceof HashSlots own) || own.isEmpty()) {
            return;
        }
        var targets = settled.stream().filter(o -> o.span() instanceof HashSlots && !o.id().equals(s.id())).toList();
        if (targets.isEmpty()) {
            return;
        }
        ShardDescriptor to = targets.get(sim.random.nextInt(targets.size()));
        BitSet bits = own.toBitSet();
        int n = bits.cardinality();
        int count = sim.random.chance(0.1) ? n : 1 + sim.random.nextInt(Math.max(1, n / 2));
        int first = bits.nextSetBit(0);
        for (int skip = sim.random.nextInt(n - count + 1); skip > 0; skip--) {
            first = bits.nextSetBit(first + 1);
        }
        var moved = new BitSet();
        for (int slot = first, i = 0; i < count; slot = bits.nextSetBit(slot + 1), i++) {
            moved.set(slot);
        }
        relocations++;
        sim.proposeMeta(new ShardChange.MoveSlots(s.id(), s.epoch(), to.id(), to.epoch(), HashSlots.of(moved)));
    }

    /**
     * Puts a directory entry (an exact key or a prefix, to a shard of the keyspace) or removes
     * one, if that moves data. A directory edit names no epoch and the shards it touches may
     * still have moves in flight (keys can move to a shard and straight back): their groups take
     * its steps in the map's order, each once the older moves through it have ended.
     */
    private void startDirectoryEdit() {
        Directory directory = map.directory(ShardedSimulation.DIRECTORY_KEYSPACE).orElseThrow();
        var entries = new ArrayList<Directory.Match>();
        directory.exactEntries().keySet().forEach(k -> entries.add(new Directory.Exact(k)));
        directory.prefixEntries().keySet().forEach(k -> entries.add(new Directory.Prefix(k)));
        ShardChange change;
        if (!entries.isEmpty() && sim.random.chance(0.35)) {
            change = new ShardChange.RemoveDirectoryEntry(ShardedSimulation.DIRECTORY_KEYSPACE,
                    entries.get(sim.random.nextInt(entries.size())));
        } else {
            List<Key> keys = sim.keys.get(ShardedSimulation.DIRECTORY_KEYSPACE);
            Directory.Match match = sim.random.chance(0.5) ? new Directory.Exact(keys.get(sim.random.nextInt(keys.size())))
                    : new Directory.Prefix(Key.utf8(DIRECTORY_ENTRY_PREFIXES.get(
                    sim.random.nextInt(DIRECTORY_ENTRY_PREFIXES.size()))));
            List<ShardDescriptor> shards = map.shards(ShardedSimulation.DIRECTORY_KEYSPACE);
            change = new ShardChange.PutDirectoryEntry(ShardedSimulation.DIRECTORY_KEYSPACE, match,
                    shards.get(sim.random.nextInt(shards.size())).id());
        }
        if (!(map.apply(change) instanceof ChangeResult.Applied applied) || applied.moves().isEmpty()) {
            return;
        }
        relocations++;
        sim.proposeMeta(change);
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
                    : o.span() instanceof HashSlots && o.keyspace().equals(s.keyspace()) && !o.id().equals(s.id());
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
                        + (l.replica == null ? "uninitialised" : l.replica + " handoffs=" + l.replica.handoffs()
                        + " intakes=" + l.replica.intakes()) + " "
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
