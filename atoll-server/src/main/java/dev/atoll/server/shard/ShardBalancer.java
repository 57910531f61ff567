package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.shardkv.NodeShardStatsResponse;
import dev.atoll.proto.shardkv.ReplicaStatsRecord;
import dev.atoll.proto.shardkv.SampledKeyRecord;
import dev.atoll.proto.shardmap.ShardMapCommand;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.cluster.MemberTable;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeySample;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.ShardStats;
import dev.atoll.shard.SplitPlanner;
import dev.atoll.shard.SplitPolicy;
import dev.atoll.shard.placement.ClusterState;
import dev.atoll.shard.placement.Node;
import dev.atoll.shard.placement.Plan;
import dev.atoll.shard.placement.Rebalancer;
import dev.atoll.shard.placement.RebalancerConfig;
import dev.atoll.shard.replica.ShardBounds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The placement driver (TiKV's PD, CockroachDB's allocator) on the meta group's leader: every
 * period it asks atoll-shard's pure {@link Rebalancer} for a plan and carries out the parts the
 * server runs whole: a replica move (a learner that replaces a named voter) becomes a move
 * intent, which the shard's leader completes ({@link ShardReconciler}: learner, snapshot,
 * promote, remove the source), and a leader transfer becomes a transfer intent.
 *
 * <p>Each round first gathers shard statistics from every node ({@code NodeShardStats}): each
 * replica's approximate size and the requests the node served from it, and, for a range or hash
 * shard over the split size or load threshold, a sample of its keys. A shard over a threshold is
 * split where the sample halves its bytes (or its rows, for load): a range shard at a sampled
 * key, a hash shard at the weighted median of its sampled keys' slots; the meta group applies
 * the split and the shard's leader cuts its group at the same key or slot. Replicas are weighed
 * by their bytes relative to each node's capacity (plus a per-replica overhead), so the plan
 * spreads data and leaders over the nodes, by region and zone first. It waits while things are in flight
 * (a move, a merge, a data move, transfers pending for less than {@link #TRANSFER_PATIENCE_MILLIS}, its own
 * proposals) and while a node is unreachable for less than {@code downAfterMillis}: a node that
 * restarts is not emptied. A node unreachable for longer counts as down, and the plan replaces
 * its replicas on the others (never dropping a shard below quorum). Two neighbours (range) or two
 * hash shards that are together small and cold, and whose ranges have not changed for the policy's
 * {@code mergeRangeAgeTicksMin} (counted here in seconds since this node first saw the range), are
 * merged once their replicas share nodes (the plan moves them together first), through the same
 * path as an admin merge ({@link Merger}); never below the shards a keyspace was created with.
 * Directory shards never split or merge (their table is edited instead).
 */
public final class ShardBalancer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardBalancer.class);
    /** A transfer not observed done by then no longer holds the balancer back. */
    static final long TRANSFER_PATIENCE_MILLIS = 20_000;
    private static final long PROPOSAL_TIMEOUT_MILLIS = 5_000;
    /** A round (statistics, plan, proposals) that takes longer is given up; the next one starts afresh. */
    private static final long ROUND_TIMEOUT_MILLIS = 30_000;

    /** Merges {@code right} into {@code left} as an admin merge does, refusals included. */
    @FunctionalInterface
    public interface Merger {
        CompletableFuture<?> merge(ShardId left, ShardId right);
    }

    /** A node's {@code NodeShardStats}: its replicas' sizes and request counts, with samples of the shards named. */
    @FunctionalInterface
    public interface StatsSource {
        CompletableFuture<NodeShardStatsResponse> stats(NodeId node, Set<ShardId> sample);
    }

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final MetaStateMachine meta;
    private final Predicate<NodeId> connected;
    private final ScheduledExecutorService scheduler;
    private final long periodMillis;
    private final long downAfterMillis;
    private final LongSupplier clockMillis;
    private final StatsSource statsSource;
    private final Merger merger;
    private final Rebalancer rebalancer;
    /** Per shard: (range version, when this node first saw it) for the range's age. */
    private final Map<ShardId, long[]> rangeSeen = new HashMap<>();
    /** The size each shard is taken for: RocksDB's estimate, or its last sample's exact sum. */
    private final ShardSizes shardSizes;
    /** Per shard: (requests summed over nodes, when, range version) at the last round. */
    private final Map<ShardId, long[]> requestsSeen = new HashMap<>();
    /** When each node was first seen unreachable, while it stays so (this class's thread only). */
    private final Map<NodeId, Long> unreachableSinceMillis = new HashMap<>();
    private CompletableFuture<?> inFlight = CompletableFuture.completedFuture(null);
    /** Since when the map has held transfer intents (anyone's), or null while it holds none. */
    private Long transfersPendingSinceMillis;
    private String lastReport = "";
    /** What the last round waited for ("" when it planned), so that a wait is logged once, when it begins. */
    private String lastWaiting = "";
    /** Why each shard over a split threshold was left whole by the last round (logged when it changes). */
    private final Map<ShardId, String> unsplitReasons = new HashMap<>();
    /** The reason last logged per shard, while it holds. */
    private final Map<ShardId, String> unsplitLogged = new HashMap<>();
    private ScheduledFuture<?> periodic;

    public ShardBalancer(NodeRuntime runtime, long metaGroup, MetaStateMachine meta, Predicate<NodeId> connected,
                         StatsSource statsSource, Merger merger, RebalancerConfig config,
                         ScheduledExecutorService scheduler,
                         long periodMillis, long downAfterMillis, LongSupplier clockMillis) {
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.meta = meta;
        this.connected = connected;
        this.scheduler = scheduler;
        this.periodMillis = periodMillis;
        this.downAfterMillis = downAfterMillis;
        this.clockMillis = clockMillis;
        this.statsSource = statsSource;
        this.merger = merger;
        this.rebalancer = new Rebalancer(config);
        this.shardSizes = new ShardSizes(config.splitPolicy().splitSizeBytes());
    }

    /**
     * The nodes placement may use: started voting members with the labels they published, in
     * the state {@code stateOf} gives each.
     */
    public static List<Node> nodesOf(MemberTable members, Function<NodeId, Node.State> stateOf) {
        var nodes = new ArrayList<Node>();
        for (Member m : members.current()) {
            if (m.started() && m.isVoter()) {
                nodes.add(new Node(m.node(), m.labels().region(), m.labels().zoneOr(m.name()),
                        m.labels().capacityBytes(), stateOf.apply(m.node())));
            }
        }
        return nodes;
    }

    public void start() {
        periodic = scheduler.scheduleWithFixedDelay(this::roundSafely, periodMillis, periodMillis,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (periodic != null) {
            periodic.cancel(false);
        }
    }

    private void roundSafely() {
        try {
            round();
        } catch (RuntimeException e) {
            log.warn("shard_balance_round_failed node={} error={}", runtime.self(), e.toString());
        }
    }

    private void round() {
        LogStatus status = runtime.status(metaGroup);
        long now = clockMillis.getAsLong();
        NodeId self = runtime.self();
        var states = new HashMap<NodeId, Node.State>();
        boolean suspect = false;
        for (Member m : meta.members().current()) {
            if (!m.started() || !m.isVoter()) {
                continue;
            }
            NodeId n = m.node();
            if (n.equals(self) || connected.test(n)) {
                unreachableSinceMillis.remove(n);
                states.put(n, Node.State.UP);
            } else {
                long since = unreachableSinceMillis.computeIfAbsent(n, x -> now);
                boolean down = now - since >= downAfterMillis;
                suspect |= !down;
                states.put(n, down ? Node.State.DOWN : Node.State.UP);
            }
        }
        if (status == null || status.role() != Role.LEADER || !inFlight.isDone()) {
            return;
        }
        ShardState state = meta.shards();
        if (state.transfers().isEmpty()) {
            transfersPendingSinceMillis = null;
        } else if (transfersPendingSinceMillis == null) {
            transfersPendingSinceMillis = now;
        }
        String waiting = suspect ? "node_unreachable"
                : !state.moves().isEmpty() ? "move " + state.moves().keySet()
                : !state.merges().isEmpty() ? "merge " + state.merges().keySet()
                : !state.relocations().isEmpty() ? "data_move " + state.relocations().keySet()
                : transfersPendingSinceMillis != null && now - transfersPendingSinceMillis < TRANSFER_PATIENCE_MILLIS
                ? "leader_transfers " + state.transfers().keySet() : "";
        if (!waiting.equals(lastWaiting)) {
            lastWaiting = waiting;
            if (!waiting.isEmpty()) {
                log.info("shard_balance_waiting node={} for={}", self, waiting);
            }
        }
        if (state.map().shards().isEmpty() || !waiting.isEmpty()) {
            return;
        }
        List<Node> nodes = nodesOf(meta.members(), states::get);
        inFlight = gatherStats(nodes, state.map(), now)
                .thenComposeAsync(stats -> {
                    Plan plan = rebalancer.plan(ClusterState.of(nodes, state.map(), stats));
                    explainUnsplit(state.map(), stats, plan);
                    return act(state, plan);
                }, scheduler)
                .orTimeout(ROUND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .exceptionally(error -> {
                    log.debug("shard_balance_round_incomplete node={} error={}", self, error.toString());
                    return null;
                });
    }

    /**
     * Statistics of every shard from the nodes that host it: size (the largest a replica at the
     * map's range version reports), load (requests per second summed over nodes since the last
     * round), and a key sample of each range or hash shard over a split threshold, from a second
     * call.
     */
    private CompletableFuture<Map<ShardId, ShardStats>> gatherStats(List<Node> nodes, ShardMap map, long now) {
        List<NodeId> up = nodes.stream().filter(n -> n.state() == Node.State.UP).map(Node::id).toList();
        var calls = new ArrayList<CompletableFuture<NodeShardStatsResponse>>();
        for (NodeId n : up) {
            calls.add(statsSource.stats(n, Set.of()).exceptionally(unreachable -> null));
        }
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenComposeAsync(x -> {
            var sizes = new HashMap<ShardId, Long>();
            var requests = new HashMap<ShardId, Long>();
            var reporters = new HashMap<ShardId, List<NodeId>>();
            for (int i = 0; i < calls.size(); i++) {
                NodeShardStatsResponse r = calls.get(i).join();
                if (r == null) {
                    continue;
                }
                NodeId from = up.get(i);
                for (ReplicaStatsRecord rs : r.getReplicasList()) {
                    ShardId id = ShardId.of(rs.getShard());
                    Optional<ShardDescriptor> d = map.shard(id);
                    if (d.isEmpty() || d.get().epoch().rangeVersion() != rs.getRangeVersion()) {
                        continue; // a replica behind (or ahead of) this map describes another range
                    }
                    sizes.merge(id, rs.getSizeBytes(), Math::max);
                    requests.merge(id, rs.getRequests(), Long::sum);
                    reporters.computeIfAbsent(id, k -> new ArrayList<>()).add(from);
                }
            }
            var loads = new HashMap<ShardId, Long>();
            var counted = new HashMap<ShardId, long[]>();
            requests.forEach((id, total) -> {
                long rangeVersion = map.shard(id).orElseThrow().epoch().rangeVersion();
                long[] before = requestsSeen.get(id);
                if (before != null && before[2] == rangeVersion && now > before[1] && total >= before[0]) {
                    loads.put(id, (total - before[0]) * 1000 / (now - before[1]));
                }
                counted.put(id, new long[] {total, now, rangeVersion});
            });
            requestsSeen.clear();
            requestsSeen.putAll(counted);
            var splitting = new HashMap<ShardId, NodeId>();
            SplitPolicy policy = rebalancer.config().splitPolicy();
            shardSizes.retain(sizes.keySet());
            var approximates = new HashMap<>(sizes);
            for (ShardId id : sizes.keySet()) {
                ShardDescriptor d = map.shard(id).orElseThrow();
                ShardSizes.Estimate size = shardSizes.estimate(id, d.epoch().rangeVersion(), sizes.get(id));
                sizes.put(id, size.bytes());
                if (!(d.span() instanceof ShardSpan.Directed) && (size.measure()
                        || loads.getOrDefault(id, 0L) >= policy.splitLoadQps())) {
                    List<NodeId> from = reporters.get(id);
                    splitting.put(id, d.leader().filter(from::contains).orElse(from.get(0)));
                }
            }
            var samples = new HashMap<ShardId, CompletableFuture<List<KeySample.SampledKey>>>();
            splitting.forEach((id, node) -> samples.put(id, statsSource.stats(node, Set.of(id))
                    .thenApply(r -> sampleOf(r, id, map.shard(id).orElseThrow(), map))
                    .exceptionally(unreachable -> List.of())));
            return CompletableFuture.allOf(samples.values().toArray(CompletableFuture[]::new)).thenApply(y -> {
                var stats = new HashMap<ShardId, ShardStats>();
                rangeSeen.keySet().retainAll(sizes.keySet());
                for (ShardId id : sizes.keySet()) {
                    ShardDescriptor d = map.shard(id).orElseThrow();
                    List<KeySample.SampledKey> sample = samples.containsKey(id) ? samples.get(id).join() : List.of();
                    if (!sample.isEmpty()) {
                        long exact = sample.stream().mapToLong(KeySample.SampledKey::sizeBytes).sum();
                        shardSizes.measured(id, d.epoch().rangeVersion(), approximates.get(id), exact);
                        sizes.put(id, exact);
                    }
                    long[] seen = rangeSeen.get(id);
                    if (seen == null || seen[0] != d.epoch().rangeVersion()) {
                        seen = new long[] {d.epoch().rangeVersion(), now};
                        rangeSeen.put(id, seen);
                    }
                    long ageSeconds = (now - seen[1]) / 1000;
                    stats.put(id, new ShardStats(id, d.epoch(), sizes.get(id), loads.getOrDefault(id, 0L), ageSeconds,
                            List.of(), new KeySample(sample)));
                }
                return stats;
            });
        }, scheduler);
    }

    /** The sampled keys of {@code shard} in {@code r}, those inside its span (range or slots) only. */
    private static List<KeySample.SampledKey> sampleOf(NodeShardStatsResponse r, ShardId id, ShardDescriptor shard,
                                                       ShardMap map) {
        ShardBounds bounds = ShardBounds.of(shard, map.keyspace(shard.keyspace()).orElseThrow().sharding());
        var keys = new ArrayList<KeySample.SampledKey>();
        for (ReplicaStatsRecord rs : r.getReplicasList()) {
            if (rs.getShard() != id.value() || rs.getRangeVersion() != shard.epoch().rangeVersion()) {
                continue;
            }
            for (SampledKeyRecord k : rs.getSampleList()) {
                Key key = Key.of(k.getKey().toByteArray());
                if (bounds.contains(key) && (keys.isEmpty() || keys.getLast().key().compareTo(key) < 0)) {
                    keys.add(new KeySample.SampledKey(key, k.getSizeBytes(), 1));
                }
            }
        }
        return keys;
    }

    /** Carries out the parts of {@code plan} the server runs: moves, leader transfers, splits and merges. */
    private CompletableFuture<Void> act(ShardState state, Plan plan) {
        NodeId self = runtime.self();
        report(plan);
        var transfers = new ArrayList<ShardChange>();
        var proposals = new ArrayList<CompletableFuture<Object>>();
        for (ShardChange.Operation op : plan.operations()) {
            ShardDescriptor shard = state.map().shard(op.shard()).orElse(null);
            if (shard == null || !shard.epoch().equals(op.epoch())) {
                continue;
            }
            switch (op) {
                case ShardChange.TransferLeader t -> transfers.add(t);
                case ShardChange.AddLearner add -> {
                    NodeId from = plan.replaced(add).orElse(null);
                    if (from != null) {
                        log.info("shard_balance_move node={} shard={} from={} to={}", self, add.shard(), from,
                                add.node());
                        proposals.add(propose(ShardState.startMove(shard, from, add.node())));
                    }
                }
                case ShardChange.Split split when !(shard.span() instanceof ShardSpan.Directed) -> {
                    // the shard's leader cuts its group's data at the same point (SplitPlan)
                    log.info("shard_balance_split node={} shard={} at={}", self, split.shard(), split.at());
                    proposals.add(propose(ShardState.command(split)));
                }
                case ShardChange.Merge merge -> {
                    log.info("shard_balance_merge node={} left={} right={}", self, merge.shard(), merge.right());
                    proposals.add(merger.merge(merge.shard(), merge.right()).handle((done, refused) -> {
                        if (refused != null) {
                            log.info("shard_balance_merge_refused node={} left={} right={} error={}", self,
                                    merge.shard(), merge.right(), refused.toString());
                        }
                        return null;
                    }));
                }
                default -> {
                    // a step of a move taken one change at a time: not run here
                }
            }
        }
        if (!transfers.isEmpty()) {
            log.info("shard_balance_transfers node={} count={} first={}", self, transfers.size(), transfers.get(0));
            proposals.add(propose(ShardState.batch(transfers)));
        }
        return CompletableFuture.allOf(proposals.toArray(CompletableFuture[]::new));
    }

    /**
     * Logs why a shard is left whole although over a split threshold (its weight in one key or
     * slot, an empty sample, the round full), or why it has no statistics at all (no replica
     * reports the map's range version): once per shard and reason, when the reason held two rounds
     * running. A shard that stays large is an operator's question.
     */
    private void explainUnsplit(ShardMap map, Map<ShardId, ShardStats> stats, Plan plan) {
        var planned = new java.util.HashSet<ShardId>();
        for (ShardChange.Operation op : plan.operations()) {
            planned.add(op.shard());
        }
        var now = new HashMap<ShardId, String>();
        SplitPlanner planner = new SplitPlanner(rebalancer.config().splitPolicy());
        for (ShardDescriptor shard : map.shards()) {
            ShardId id = shard.id();
            ShardStats st = stats.get(id);
            if (planned.contains(id) || shard.span() instanceof ShardSpan.Directed) {
                continue;
            }
            if (st == null) {
                now.put(id, "no replica reports range version " + shard.epoch().rangeVersion());
                continue;
            }
            String why = switch (planner.decideSplit(map.keyspace(shard.keyspace()).orElseThrow(), shard, st)) {
                case SplitPlanner.SplitDecision.NoSplit(String reason) when reason.startsWith("under") -> null;
                case SplitPlanner.SplitDecision.NoSplit(String reason) -> reason;
                case SplitPlanner.SplitDecision.Split split -> "deferred: the shard is busy or the round is full";
            };
            if (why != null) {
                now.put(id, why + " (size " + st.sizeBytes() + " B, load " + st.loadQps() + "/s, sample of "
                        + st.sample().keys().size() + " keys)");
            }
        }
        now.forEach((id, why) -> {
            if (why.equals(unsplitReasons.get(id)) && !why.equals(unsplitLogged.get(id))) {
                unsplitLogged.put(id, why);
                log.info("shard_balance_not_split node={} shard={} why={}", runtime.self(), id, why);
            }
        });
        unsplitReasons.clear();
        unsplitReasons.putAll(now);
        unsplitLogged.keySet().retainAll(now.keySet());
    }

    /** Logs what the plan cannot fix, once per change of it. */
    private void report(Plan plan) {
        String text = (plan.quorumLost().isEmpty() ? "" : "quorum_lost=" + ids(plan.quorumLost()) + " ")
                + (plan.unplaceable().isEmpty() ? "" : "unplaceable=" + ids(plan.unplaceable()));
        if (!text.equals(lastReport)) {
            lastReport = text;
            if (!text.isEmpty()) {
                log.warn("shard_balance_cannot_fix node={} {}", runtime.self(), text.strip());
            }
        }
    }

    private static String ids(List<ShardId> shards) {
        return shards.stream().map(ShardId::toString).reduce((a, b) -> a + "," + b).orElse("");
    }

    private CompletableFuture<Object> propose(ShardMapCommand command) {
        return runtime.propose(metaGroup, MetaStateMachine.command(MetaCommand.newBuilder().setShardMap(command)
                .build())).orTimeout(PROPOSAL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }
}
