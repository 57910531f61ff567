package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.shardmap.ShardMapCommand;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.cluster.MemberTable;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.placement.ClusterState;
import dev.atoll.shard.placement.Node;
import dev.atoll.shard.placement.Plan;
import dev.atoll.shard.placement.Rebalancer;
import dev.atoll.shard.placement.RebalancerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>Replicas are weighed by count (no shard statistics yet), so the plan spreads replicas and
 * leaders evenly over the nodes, by region and zone first. It waits while things are in flight
 * (a move, transfers pending for less than {@link #TRANSFER_PATIENCE_MILLIS}, its own
 * proposals) and while a node is unreachable for less than {@code downAfterMillis}: a node that
 * restarts is not emptied. A node unreachable for longer counts as down, and the plan replaces
 * its replicas on the others (never dropping a shard below quorum). Splits and merges the plan
 * proposes are not run here: split and merge are admin operations for now.
 */
public final class ShardBalancer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardBalancer.class);
    /** A transfer not observed done by then no longer holds the balancer back. */
    static final long TRANSFER_PATIENCE_MILLIS = 20_000;
    private static final long PROPOSAL_TIMEOUT_MILLIS = 5_000;

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final MetaStateMachine meta;
    private final Predicate<NodeId> connected;
    private final ScheduledExecutorService scheduler;
    private final long periodMillis;
    private final long downAfterMillis;
    private final LongSupplier clockMillis;
    private final Rebalancer rebalancer = new Rebalancer(RebalancerConfig.defaults());
    /** When each node was first seen unreachable, while it stays so (this class's thread only). */
    private final Map<NodeId, Long> unreachableSinceMillis = new HashMap<>();
    private CompletableFuture<?> inFlight = CompletableFuture.completedFuture(null);
    /** Since when the map has held transfer intents (anyone's), or null while it holds none. */
    private Long transfersPendingSinceMillis;
    private String lastReport = "";
    private ScheduledFuture<?> periodic;

    public ShardBalancer(NodeRuntime runtime, long metaGroup, MetaStateMachine meta, Predicate<NodeId> connected,
                         ScheduledExecutorService scheduler, long periodMillis, long downAfterMillis,
                         LongSupplier clockMillis) {
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.meta = meta;
        this.connected = connected;
        this.scheduler = scheduler;
        this.periodMillis = periodMillis;
        this.downAfterMillis = downAfterMillis;
        this.clockMillis = clockMillis;
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
        if (status == null || status.role() != Role.LEADER || !inFlight.isDone() || suspect) {
            return;
        }
        ShardState state = meta.shards();
        if (state.transfers().isEmpty()) {
            transfersPendingSinceMillis = null;
        } else if (transfersPendingSinceMillis == null) {
            transfersPendingSinceMillis = now;
        }
        if (state.map().shards().isEmpty() || !state.moves().isEmpty() || (transfersPendingSinceMillis != null
                && now - transfersPendingSinceMillis < TRANSFER_PATIENCE_MILLIS)) {
            return;
        }
        Plan plan = rebalancer.plan(ClusterState.of(nodesOf(meta.members(), states::get), state.map(), Map.of()));
        report(plan);
        var transfers = new ArrayList<ShardChange>();
        var proposals = new ArrayList<CompletableFuture<Object>>();
        for (ShardChange.Operation op : plan.operations()) {
            switch (op) {
                case ShardChange.TransferLeader t -> transfers.add(t);
                case ShardChange.AddLearner add -> {
                    NodeId from = plan.replaced(add).orElse(null);
                    ShardDescriptor shard = state.map().shard(add.shard()).orElse(null);
                    if (from != null && shard != null && shard.epoch().equals(add.epoch())) {
                        log.info("shard_balance_move node={} shard={} from={} to={}", self, add.shard(), from,
                                add.node());
                        proposals.add(propose(ShardState.startMove(shard, from, add.node())));
                    }
                }
                default -> {
                    // a split, a merge, or a step of a move taken one change at a time: not run here
                }
            }
        }
        if (!transfers.isEmpty()) {
            log.info("shard_balance_transfers node={} count={} first={}", self, transfers.size(), transfers.get(0));
            proposals.add(propose(ShardState.batch(transfers)));
        }
        inFlight = CompletableFuture.allOf(proposals.toArray(CompletableFuture[]::new));
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
