package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;
import dev.atoll.shard.GeoRegions;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardChange.AddLearner;
import dev.atoll.shard.ShardChange.CreateKeyspace;
import dev.atoll.shard.ShardChange.Merge;
import dev.atoll.shard.ShardChange.Operation;
import dev.atoll.shard.ShardChange.PromoteLearner;
import dev.atoll.shard.ShardChange.RemoveReplica;
import dev.atoll.shard.ShardChange.Split;
import dev.atoll.shard.ShardChange.TransferLeader;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.ShardStats;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SplitPlanner;
import dev.atoll.shard.SplitPlanner.SplitDecision;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;

/**
 * The placement driver's decisions, as TiKV's PD scheduler or CockroachDB's allocator make
 * them: given the nodes, the shard map and shard statistics, one {@link #plan} proposes a
 * bounded list of operations, in priority order:
 * <ol>
 *   <li>repair: give every shard its replication factor of voters on nodes that may hold them
 *       (replacing replicas on down or draining nodes or in the wrong region), spread over
 *       regions and zones;</li>
 *   <li>split shards over the size or load threshold, merge small cold neighbours;</li>
 *   <li>balance replicas across nodes by bytes (plus a per-replica overhead) relative to capacity;</li>
 *   <li>balance leaders across nodes.</li>
 * </ol>
 * A replica moves as add learner, promote, remove: a voter is removed only from a shard that
 * has more voters than its replication factor and keeps a live quorum without it, so no shard
 * ever drops below quorum by the rebalancer's hand. Every learner is taken for a move in
 * progress: it is promoted once caught up, or removed if its node may not hold the shard. Each
 * plan touches a shard at most once and names the epoch it read, so a plan made from a stale
 * view is refused by the map, not applied.
 *
 * <p>Balancing moves a replica only if that strictly lowers the sum over nodes of
 * load squared over capacity, and only between nodes outside the tolerance band around the
 * mean; leader moves likewise strictly lower the sum of squared leader counts. Both sums are
 * bounded below, so repeated plans converge instead of oscillating. Pure and deterministic:
 * the same state gives the same plan.
 */
public final class Rebalancer {
    private final RebalancerConfig config;
    private final SplitPlanner splitPlanner;

    public Rebalancer(RebalancerConfig config) {
        this.config = config;
        this.splitPlanner = new SplitPlanner(config.splitPolicy());
    }

    public RebalancerConfig config() {
        return config;
    }

    /** The next step of operations for {@code state}; empty when nothing needs doing. */
    public Plan plan(ClusterState state) {
        return new Step(state).run();
    }

    /** Where a new keyspace's shards go, or why they cannot go anywhere. */
    public sealed interface NewKeyspace {
        record Placed(CreateKeyspace change) implements NewKeyspace {
        }

        record Unplaceable(String reason) implements NewKeyspace {
        }
    }

    /**
     * Chooses voters for each initial shard of {@code spec} by the same constraints and balance
     * the rebalancer keeps, or says why the cluster cannot hold the keyspace.
     */
    public NewKeyspace placeKeyspace(KeyspaceSpec spec, ClusterState state) {
        var loads = new Loads(state);
        List<ShardSpan> spans = ShardMap.initialSpans(spec);
        GeoRegions geo = spec.sharding() instanceof Sharding.Geo g ? new GeoRegions(g) : null;
        var voters = new ArrayList<List<NodeId>>();
        for (ShardSpan span : spans) {
            String region = geo == null ? null : geo.regionOf((KeyRange) span).orElseThrow();
            var rules = new PlacementRules(spec, region, state.nodes());
            var chosen = new ArrayList<NodeId>();
            for (int i = 0; i < spec.replicationFactor(); i++) {
                NodeId best = null;
                PlacementRules.Score bestScore = null;
                for (NodeId n : state.nodes().keySet()) {
                    if (!rules.good(n) || chosen.contains(n)) {
                        continue;
                    }
                    var with = new ArrayList<>(chosen);
                    with.add(n);
                    PlacementRules.Score score = rules.score(with);
                    if (best == null || score.betterThan(bestScore)
                            || (score.compareTo(bestScore) == 0 && loads.normalizedWith(n, config.replicaOverheadBytes())
                            < loads.normalizedWith(best, config.replicaOverheadBytes()))) {
                        best = n;
                        bestScore = score;
                    }
                }
                if (best == null) {
                    return new NewKeyspace.Unplaceable("keyspace " + spec.name() + " needs " + spec.replicationFactor()
                            + " nodes" + (region == null ? "" : " in region " + region) + " that may hold replicas; found "
                            + chosen.size());
                }
                chosen.add(best);
                loads.add(best, config.replicaOverheadBytes());
            }
            voters.add(chosen);
        }
        return new NewKeyspace.Placed(new CreateKeyspace(spec, voters));
    }

    /** Bytes on each node (data plus overhead per replica), relative to its capacity. */
    private final class Loads {
        private final Map<NodeId, Node> nodes;
        private final TreeMap<NodeId, Double> weightBytes = new TreeMap<>();

        Loads(ClusterState state) {
            this.nodes = state.nodes();
            for (NodeId n : nodes.keySet()) {
                weightBytes.put(n, 0.0);
            }
            for (ShardDescriptor s : state.map().shards()) {
                double w = weightOf(state, s);
                for (Replica r : s.replicas()) {
                    if (weightBytes.containsKey(r.node())) {
                        add(r.node(), w);
                    }
                }
            }
        }

        void add(NodeId n, double bytes) {
            weightBytes.merge(n, bytes, Double::sum);
        }

        double normalized(NodeId n) {
            return weightBytes.get(n) / nodes.get(n).capacityBytes();
        }

        double normalizedWith(NodeId n, double bytes) {
            return (weightBytes.get(n) + bytes) / nodes.get(n).capacityBytes();
        }

        double capacity(NodeId n) {
            return nodes.get(n).capacityBytes();
        }
    }

    private double weightOf(ClusterState state, ShardDescriptor s) {
        return state.sizeBytesOf(s) + (double) config.replicaOverheadBytes();
    }

    /** One plan in the making: what it proposes and what it has already decided about. */
    private final class Step {
        private final ClusterState state;
        private final ShardMap map;
        private final Loads loads;
        private final List<Operation> ops = new ArrayList<>();
        private final Set<ShardId> touched = new HashSet<>();
        private final List<ShardId> quorumLost = new ArrayList<>();
        private final List<ShardId> unplaceable = new ArrayList<>();
        private final TreeMap<ShardId, NodeId> replacing = new TreeMap<>();
        private final TreeMap<NodeId, Integer> incomingLearners = new TreeMap<>();
        /** Right side of an intended merge, by id, to the shard it will merge into. */
        private final TreeMap<ShardId, ShardDescriptor> mergeInto = new TreeMap<>();
        private final Set<ShardId> merging = new HashSet<>();

        Step(ClusterState state) {
            this.state = state;
            this.map = state.map();
            this.loads = new Loads(state);
            for (NodeId n : state.nodes().keySet()) {
                incomingLearners.put(n, 0);
            }
            for (ShardDescriptor s : map.shards()) {
                for (NodeId l : s.learners()) {
                    incomingLearners.computeIfPresent(l, (n, c) -> c + 1);
                }
            }
        }

        Plan run() {
            chooseMerges();
            var byUrgency = new ArrayList<>(map.shards());
            byUrgency.sort(Comparator.comparingInt((ShardDescriptor s) -> liveMargin(s)).thenComparing(ShardDescriptor::id));
            for (ShardDescriptor s : byUrgency) {
                if (full()) {
                    break;
                }
                repair(s);
            }
            splitAndMerge();
            balanceReplicas();
            balanceLeaders();
            check(ops.size() <= config.opsPerStepMax(), "a plan has at most %d operations: %d",
                    config.opsPerStepMax(), ops.size());
            return new Plan(ops, quorumLost, unplaceable, replacing);
        }

        private boolean full() {
            return ops.size() >= config.opsPerStepMax();
        }

        private void emit(Operation op) {
            check(!full(), "a plan stays within its operation budget");
            check(touched.add(op.shard()), "one operation per shard per plan: %s", op);
            if (op instanceof Merge m) {
                check(touched.add(m.right()), "one operation per shard per plan: %s", op);
            }
            ops.add(op);
        }

        private KeyspaceSpec specOf(ShardDescriptor s) {
            return map.keyspace(s.keyspace()).orElseThrow();
        }

        private PlacementRules rulesOf(ShardDescriptor s) {
            return new PlacementRules(specOf(s), map.regionOf(s).orElse(null), state.nodes());
        }

        /** Live voters beyond quorum: the shards closest to losing quorum are repaired first. */
        private int liveMargin(ShardDescriptor s) {
            var rules = rulesOf(s);
            int alive = (int) s.voters().stream().filter(rules::alive).count();
            return alive - s.quorum();
        }

        private int aliveVoters(ShardDescriptor s, PlacementRules rules) {
            return (int) s.voters().stream().filter(rules::alive).count();
        }

        private static int quorumOf(int voterCount) {
            return voterCount / 2 + 1;
        }

        private boolean canReceive(NodeId n) {
            return incomingLearners.getOrDefault(n, 0) < config.learnersPerNodeMax();
        }

        private void addLearner(ShardDescriptor s, NodeId n) {
            emit(new AddLearner(s.id(), s.epoch(), n));
            incomingLearners.merge(n, 1, Integer::sum);
            loads.add(n, weightOf(state, s));
        }

        /** A learner on {@code n} meant to replace the voter on {@code replaced}: a replica move. */
        private void moveReplica(ShardDescriptor s, NodeId replaced, NodeId n) {
            addLearner(s, n);
            replacing.put(s.id(), replaced);
        }

        private List<NodeId> without(List<NodeId> nodes, NodeId out) {
            var l = new ArrayList<>(nodes);
            l.remove(out);
            return l;
        }

        private List<NodeId> with(List<NodeId> nodes, NodeId in) {
            var l = new ArrayList<>(nodes);
            l.add(in);
            return l;
        }

        /** Whether {@code s} is healthy and idle: its voters, all where they may be, and nothing in flight. */
        private boolean settled(ShardDescriptor s) {
            if (touched.contains(s.id()) || merging.contains(s.id()) || !s.learners().isEmpty()
                    || s.voters().size() != specOf(s).replicationFactor()) {
                return false;
            }
            var rules = rulesOf(s);
            return s.voters().stream().allMatch(rules::good);
        }

        /**
         * Pairs of small cold shards to merge, never taking a keyspace below the shards it was
         * created with (or one per region it spans). The left shard must be settled; the right one has
         * its replicas aligned onto the left one's nodes by repair before the merge is proposed.
         */
        private void chooseMerges() {
            for (String keyspace : map.keyspaces().keySet()) {
                KeyspaceSpec spec = map.keyspace(keyspace).orElseThrow();
                List<ShardDescriptor> candidates;
                switch (spec.sharding()) {
                    case Sharding.Directory d -> {
                        continue;
                    }
                    case Sharding.Hash h -> {
                        candidates = new ArrayList<>(map.shards(keyspace));
                        candidates.sort(Comparator.comparingLong((ShardDescriptor s) -> state.sizeBytesOf(s))
                                .thenComparing(ShardDescriptor::id));
                    }
                    default -> {
                        candidates = new ArrayList<>(map.shards(keyspace));
                        candidates.sort(Comparator.comparing(s -> s.keyRange().start()));
                    }
                }
                boolean ranges = !(spec.sharding() instanceof Sharding.Hash);
                // never below the shards the keyspace was created with (one per region for geo):
                // merges undo splits, not an operator's choice of initial shards
                long floor = Math.max(spec.initialShardCount(), candidates.stream().map(map::regionOf).distinct().count());
                long room = candidates.size() - floor;
                for (int i = 0; i + 1 < candidates.size() && room > 0; i++) {
                    ShardDescriptor left = candidates.get(i);
                    ShardDescriptor right = candidates.get(i + 1);
                    if (merging.contains(left.id()) || !mayMerge(left, right, ranges)) {
                        continue;
                    }
                    mergeInto.put(right.id(), left);
                    merging.add(left.id());
                    merging.add(right.id());
                    room--;
                    i++;
                }
            }
        }

        private boolean mayMerge(ShardDescriptor left, ShardDescriptor right, boolean ranges) {
            ShardStats ls = state.stats().get(left.id());
            ShardStats rs = state.stats().get(right.id());
            if (ls == null || rs == null || !splitPlanner.shouldMerge(left, ls, right, rs)) {
                return false;
            }
            if (ranges && (!left.keyRange().end().equals(right.keyRange().start())
                    || !map.regionOf(left).equals(map.regionOf(right)))) {
                return false;
            }
            if (!settled(left)) {
                return false;
            }
            var rules = rulesOf(right);
            return right.nodes().stream().allMatch(rules::good)
                    && aliveVoters(right, rules) >= right.quorum();
        }

        /** At most one operation that brings {@code s} closer to its placement. */
        private void repair(ShardDescriptor s) {
            KeyspaceSpec spec = specOf(s);
            PlacementRules rules = rulesOf(s);
            List<NodeId> voters = s.voters();
            int alive = aliveVoters(s, rules);
            if (alive < s.quorum()) {
                // No conf change can commit without a quorum: recovery is an operator's decision.
                quorumLost.add(s.id());
                touched.add(s.id());
                return;
            }
            int rf = spec.replicationFactor();
            ShardDescriptor into = mergeInto.get(s.id());
            Set<NodeId> alignTo = into == null ? null : new TreeSet<>(into.nodes());
            ShardStats stats = state.stats().get(s.id());

            for (NodeId learner : s.learners()) {
                if (!rules.good(learner) || (alignTo != null && !alignTo.contains(learner))) {
                    emit(new RemoveReplica(s.id(), s.epoch(), learner));
                    return;
                }
                if (stats != null && stats.catchingUp().contains(learner)) {
                    touched.add(s.id());
                    return;
                }
                check(alive + 1 >= quorumOf(voters.size() + 1), "promoting a live learner keeps quorum");
                emit(new PromoteLearner(s.id(), s.epoch(), learner));
                return;
            }

            if (voters.size() > rf) {
                removeOneVoter(s, rules, alive, alignTo);
                return;
            }

            if (voters.size() < rf || alignTo != null) {
                if (alignTo != null && new TreeSet<>(voters).equals(alignTo)) {
                    return;
                }
                NodeId target = alignTo != null ? alignmentTarget(s, alignTo) : bestTarget(s, rules, voters);
                if (target == null) {
                    unplaceable.add(s.id());
                    touched.add(s.id());
                } else {
                    addLearner(s, target);
                }
                return;
            }

            // As many voters as asked: replace one if another node makes the placement better.
            PlacementRules.Score current = rules.score(voters);
            NodeId bestNode = null;
            NodeId bestReplaced = null;
            PlacementRules.Score bestScore = current;
            for (NodeId t : state.nodes().keySet()) {
                if (!rules.good(t) || s.hasReplicaOn(t) || !canReceive(t)) {
                    continue;
                }
                for (NodeId r : voters) {
                    PlacementRules.Score score = rules.score(with(without(voters, r), t));
                    if (score.betterThan(bestScore) || (bestNode != null && score.compareTo(bestScore) == 0
                            && loads.normalized(t) < loads.normalized(bestNode))) {
                        bestNode = t;
                        bestReplaced = r;
                        bestScore = score;
                    }
                }
            }
            if (bestNode != null) {
                moveReplica(s, bestReplaced, bestNode);
                return;
            }
            if (current.misplaced() > 0) {
                unplaceable.add(s.id());
            }
            NodeId leader = s.leaderHint();
            if (leader != null && rules.alive(leader) && !rules.good(leader)) {
                NodeId to = leaderTarget(s, rules, leader);
                if (to != null) {
                    emit(new TransferLeader(s.id(), s.epoch(), to));
                }
            }
        }

        /** The last step of a move: drop the voter whose removal leaves the best placement. */
        private void removeOneVoter(ShardDescriptor s, PlacementRules rules, int alive, Set<NodeId> alignTo) {
            List<NodeId> voters = s.voters();
            List<NodeId> candidates = voters;
            if (alignTo != null && voters.stream().anyMatch(v -> !alignTo.contains(v))) {
                candidates = voters.stream().filter(v -> !alignTo.contains(v)).toList();
            }
            double w = weightOf(state, s);
            NodeId victim = null;
            PlacementRules.Score victimScore = null;
            for (NodeId v : candidates) {
                PlacementRules.Score score = rules.score(without(voters, v));
                boolean better = victim == null || score.betterThan(victimScore)
                        || (score.compareTo(victimScore) == 0 && betterToRemove(v, victim, w, s.leaderHint()));
                if (better) {
                    victim = v;
                    victimScore = score;
                }
            }
            if (victim.equals(s.leaderHint())) {
                // Raft lets a leader remove itself, but the group is leaderless until the next
                // election: hand leadership over first and remove it in a later step.
                NodeId to = leaderTarget(s, rules, victim);
                if (to != null) {
                    emit(new TransferLeader(s.id(), s.epoch(), to));
                } else {
                    touched.add(s.id());
                }
                return;
            }
            int aliveAfter = alive - (rules.alive(victim) ? 1 : 0);
            if (aliveAfter < quorumOf(voters.size() - 1)) {
                touched.add(s.id());
                return;
            }
            check(voters.size() > specOf(s).replicationFactor(),
                    "a voter is removed only from a shard with more voters than its replication factor: %s", s);
            emit(new RemoveReplica(s.id(), s.epoch(), victim));
            loads.add(victim, -weightOf(state, s));
        }

        /**
         * Ties on placement: remove the replica whose removal lowers the balance potential (sum of
         * load squared over capacity) the most, which is the source of the move the balancer
         * planned, never its new replica; on equal gains, a follower before the leader.
         */
        private boolean betterToRemove(NodeId a, NodeId b, double w, NodeId leader) {
            double ga = removalGain(a, w);
            double gb = removalGain(b, w);
            if (ga != gb) {
                return ga > gb;
            }
            return b.equals(leader) && !a.equals(leader);
        }

        /**
         * Whether moving weight w from {@code from} to {@code to} strictly lowers the potential:
         * removing it from {@code from} gains more than adding it to {@code to} costs,
         * (2 L_from - w) / C_from > (2 L_to + w) / C_to. The cost of the addition is, term for
         * term, the {@link #removalGain} of the new replica once it exists, so the removal that
         * ends the move picks the source and not the new replica; the margin keeps float
         * rounding from planning a move on an exact tie.
         */
        private boolean lowersPotential(NodeId from, NodeId to, double w) {
            double gain = removalGain(from, w);
            double cost = (2 * loads.weightBytes.get(to) + w) / loads.capacity(to);
            return gain > cost * (1 + 1e-9);
        }

        /** How much removing weight w from node n lowers the potential, up to the factor w: (2L - w) / C. */
        private double removalGain(NodeId n, double w) {
            if (!state.nodes().containsKey(n)) {
                return Double.MAX_VALUE;
            }
            return (2 * loads.weightBytes.get(n) - w) / loads.capacity(n);
        }

        /** The node that best completes {@code base} for {@code s}: placement first, then the lightest. */
        private NodeId bestTarget(ShardDescriptor s, PlacementRules rules, List<NodeId> base) {
            double w = weightOf(state, s);
            NodeId best = null;
            PlacementRules.Score bestScore = null;
            for (NodeId t : state.nodes().keySet()) {
                if (!rules.good(t) || s.hasReplicaOn(t) || !canReceive(t)) {
                    continue;
                }
                PlacementRules.Score score = rules.score(with(base, t));
                if (best == null || score.betterThan(bestScore)
                        || (score.compareTo(bestScore) == 0 && loads.normalizedWith(t, w) < loads.normalizedWith(best, w))) {
                    best = t;
                    bestScore = score;
                }
            }
            return best;
        }

        private NodeId alignmentTarget(ShardDescriptor s, Set<NodeId> alignTo) {
            NodeId best = null;
            for (NodeId t : alignTo) {
                if (!s.hasReplicaOn(t) && canReceive(t) && (best == null || loads.normalized(t) < loads.normalized(best))) {
                    best = t;
                }
            }
            return best;
        }

        /** A voter other than {@code from} on a node that may hold the shard, leading the fewest shards. */
        private NodeId leaderTarget(ShardDescriptor s, PlacementRules rules, NodeId from) {
            Map<NodeId, Integer> leaders = leaderCounts();
            NodeId best = null;
            for (NodeId v : s.voters()) {
                if (!v.equals(from) && rules.good(v)
                        && (best == null || leaders.getOrDefault(v, 0) < leaders.getOrDefault(best, 0))) {
                    best = v;
                }
            }
            return best;
        }

        private TreeMap<NodeId, Integer> leaderCounts() {
            var counts = new TreeMap<NodeId, Integer>();
            for (ShardDescriptor s : map.shards()) {
                if (s.leaderHint() != null) {
                    counts.merge(s.leaderHint(), 1, Integer::sum);
                }
            }
            return counts;
        }

        private void splitAndMerge() {
            for (ShardDescriptor s : map.shards()) {
                if (full()) {
                    return;
                }
                ShardStats stats = state.stats().get(s.id());
                if (stats == null || touched.contains(s.id()) || merging.contains(s.id()) || !s.learners().isEmpty()) {
                    continue;
                }
                if (splitPlanner.decideSplit(specOf(s), s, stats) instanceof SplitDecision.Split split) {
                    emit(new Split(s.id(), s.epoch(), split.at()));
                }
            }
            for (Map.Entry<ShardId, ShardDescriptor> e : mergeInto.entrySet()) {
                if (full()) {
                    return;
                }
                ShardDescriptor left = e.getValue();
                ShardDescriptor right = map.shard(e.getKey()).orElseThrow();
                if (!touched.contains(left.id()) && !touched.contains(right.id())
                        && left.replicas().equals(right.replicas())) {
                    emit(new Merge(left.id(), left.epoch(), right.id(), right.epoch()));
                }
            }
        }

        /**
         * Moves replicas from nodes above the mean load to nodes below it while a move strictly
         * lowers the sum of load squared over capacity: with load L and capacity C, moving
         * weight w from s to t does when L_s/C_s - L_t/C_t > (w/2)(1/C_s + 1/C_t).
         */
        private void balanceReplicas() {
            List<NodeId> up = state.nodes().values().stream().filter(n -> n.state() == Node.State.UP).map(Node::id).toList();
            if (up.size() < 2) {
                return;
            }
            double totalWeight = 0;
            double totalCapacity = 0;
            for (ShardDescriptor s : map.shards()) {
                totalWeight += weightOf(state, s) * specOf(s).replicationFactor();
            }
            for (NodeId n : up) {
                totalCapacity += loads.capacity(n);
            }
            double mean = totalWeight / totalCapacity;
            double high = mean * (1 + config.balanceToleranceRatio());
            double low = mean * (1 - config.balanceToleranceRatio());
            while (!full() && moveOneReplica(up, mean, high, low)) {
                // each pass proposes one move
            }
        }

        private boolean moveOneReplica(List<NodeId> up, double mean, double high, double low) {
            var sources = new ArrayList<>(up);
            sources.sort(Comparator.comparingDouble((NodeId n) -> -loads.normalized(n)).thenComparing(n -> n));
            var targets = new ArrayList<>(up);
            targets.sort(Comparator.comparingDouble(loads::normalized).thenComparing(n -> n));
            for (NodeId from : sources) {
                var onSource = new ArrayList<ShardDescriptor>();
                for (ShardDescriptor s : map.shards()) {
                    if (s.voters().contains(from) && settled(s)) {
                        onSource.add(s);
                    }
                }
                onSource.sort(Comparator.comparingDouble((ShardDescriptor s) -> -weightOf(state, s))
                        .thenComparing(ShardDescriptor::id));
                for (ShardDescriptor s : onSource) {
                    double w = weightOf(state, s);
                    PlacementRules rules = rulesOf(s);
                    PlacementRules.Score current = rules.score(s.voters());
                    for (NodeId to : targets) {
                        if (to.equals(from) || s.hasReplicaOn(to) || !rules.good(to) || !canReceive(to)) {
                            continue;
                        }
                        double ls = loads.normalized(from);
                        double lt = loads.normalized(to);
                        // From above the mean to below it, one of them outside the band: moving
                        // between two nodes on the same side is churn, not progress.
                        if (ls <= mean || lt >= mean || (ls <= high && lt >= low)) {
                            continue;
                        }
                        if (!lowersPotential(from, to, w)) {
                            continue;
                        }
                        if (rules.score(with(without(s.voters(), from), to)).compareTo(current) > 0) {
                            continue;
                        }
                        moveReplica(s, from, to);
                        loads.add(from, -w);
                        return true;
                    }
                }
            }
            return false;
        }

        /** Moves leadership from the nodes leading the most shards to voters on nodes leading fewer. */
        private void balanceLeaders() {
            var counts = new TreeMap<NodeId, Integer>();
            for (Node n : state.nodes().values()) {
                if (n.state() == Node.State.UP) {
                    counts.put(n.id(), 0);
                }
            }
            for (ShardDescriptor s : map.shards()) {
                if (s.leaderHint() != null) {
                    counts.computeIfPresent(s.leaderHint(), (n, c) -> c + 1);
                }
            }
            while (!full() && moveOneLeader(counts)) {
                // each pass proposes one transfer
            }
        }

        private boolean moveOneLeader(TreeMap<NodeId, Integer> counts) {
            var sources = new ArrayList<>(counts.keySet());
            sources.sort(Comparator.comparingInt((NodeId n) -> -counts.get(n)).thenComparing(n -> n));
            for (NodeId from : sources) {
                for (ShardDescriptor s : map.shards()) {
                    if (!from.equals(s.leaderHint()) || !settled(s)) {
                        continue;
                    }
                    NodeId best = null;
                    for (NodeId v : s.voters()) {
                        if (!v.equals(from) && counts.containsKey(v) && (best == null || counts.get(v) < counts.get(best))) {
                            best = v;
                        }
                    }
                    if (best != null && counts.get(from) - counts.get(best) > 1) {
                        emit(new TransferLeader(s.id(), s.epoch(), best));
                        counts.merge(from, -1, Integer::sum);
                        counts.merge(best, 1, Integer::sum);
                        return true;
                    }
                }
            }
            return false;
        }
    }
}
