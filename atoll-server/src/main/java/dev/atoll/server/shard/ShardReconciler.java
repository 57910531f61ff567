package dev.atoll.server.shard;

import com.google.protobuf.ByteString;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.shardkv.FetchMovedRequest;
import dev.atoll.proto.shardkv.FetchMovedResponse;
import dev.atoll.proto.shardmap.ShardMapCommand;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.shard.Key;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.replica.KeyValue;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCodec;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The shard leaders' side of the shard map, on every node, for the shards it leads, a few
 * times a second. Like the member table's reconciler it only moves forward, and every step is
 * either idempotent or checked against the shard's epoch by the meta group, so a crash at any
 * point is repaired by the next leader's next round:
 * <ol>
 *   <li>carries the map's replicas into the group's Raft membership ({@link ReplicaPlan}), after
 *       a read barrier on the meta group so that it never acts on a map older than a change
 *       already made;</li>
 *   <li>advances a replica move: once the learner on the target has caught up it proposes its
 *       promotion to the meta group, once it votes the removal of the source (after handing
 *       leadership over if the source is this node);</li>
 *   <li>carries out a leader transfer the map asks for;</li>
 *   <li>advances a merge ({@link MergePlan}): the source's leader freezes its group, the
 *       target's leader commits the frozen rows of its node's source replica into its group,
 *       then tells the meta group the merge is done;</li>
 *   <li>advances a data move ({@link RelocationPlan}): sources hand their keys off, targets take
 *       them in and then their rows, chunk by chunk, sources release them, each told to the meta
 *       group;</li>
 *   <li>reports the shards it leads that the map names another leader for, batched into one
 *       meta command per round, at most one per {@link #REPORT_PERIOD_MILLIS}.</li>
 * </ol>
 */
public final class ShardReconciler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardReconciler.class);
    /** A learner this close to the leader's commit index is caught up. */
    public static final long CAUGHT_UP_LAG_ENTRIES_MAX = 64;
    public static final long REPORT_PERIOD_MILLIS = 500;
    public static final int REPORTS_PER_COMMAND_MAX = 512;
    /** Least time between two tries of one leader transfer. */
    public static final long TRANSFER_RETRY_MILLIS = 2_000;
    private static final long BARRIER_MILLIS = 1_000;
    /**
     * Largest CommitMerge proposed: the entry reaches followers in one peer message (the peer
     * transport's batchBytesMax, 1 MiB); a larger one would sit in the leader's log uncommitted.
     */
    public static final int COMMIT_MERGE_BYTES_MAX = (1 << 20) - (64 << 10);
    /**
     * Bytes of rows one TakeOver chunk of a data move carries, about (at least one row): well inside
     * one peer message, so a move of any size goes through the target's log a chunk at a time.
     */
    public static final int TAKE_OVER_BYTES_MAX = 256 << 10;
    private static final long TOO_LARGE_REPORT_MILLIS = 30_000;

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final MetaStateMachine meta;
    private final ShardHost host;
    private final Predicate<NodeId> connected;
    private final Function<FetchMovedRequest, CompletableFuture<FetchMovedResponse>> fetchMoved;
    private final ScheduledExecutorService scheduler;
    private final long periodMillis;
    private final LongSupplier clockMillis;
    /** The last proposal per group (membership) or per shard (meta), until it completes. */
    private final Map<Long, CompletableFuture<Object>> groupChanges = new HashMap<>();
    private final Map<ShardId, CompletableFuture<Object>> metaChanges = new HashMap<>();
    /** The last split proposed per group, until it completes. */
    private final Map<Long, CompletableFuture<Object>> splitProposals = new HashMap<>();
    /** The last merge step proposed per merge (by source shard), until it completes. */
    private final Map<ShardId, CompletableFuture<?>> mergeSteps = new HashMap<>();
    /** The last data move step proposed per (relocation, shard), until it completes. */
    private final Map<List<Long>, CompletableFuture<?>> relocationSteps = new HashMap<>();
    private final Map<ShardId, Long> transferTriedAtMillis = new HashMap<>();
    private CompletableFuture<Object> report = CompletableFuture.completedFuture(null);
    private long reportedAtMillis = Long.MIN_VALUE / 2;
    private ScheduledFuture<?> periodic;
    private final java.util.concurrent.atomic.AtomicBoolean kickQueued = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * {@code fetchMoved}: a chunk of the rows a source shard handed off in a data move, from one of
     * its replicas (the node's own if it has one that applied the handoff).
     */
    public ShardReconciler(NodeRuntime runtime, long metaGroup, MetaStateMachine meta, ShardHost host,
                           Predicate<NodeId> connected,
                           Function<FetchMovedRequest, CompletableFuture<FetchMovedResponse>> fetchMoved,
                           ScheduledExecutorService scheduler, long periodMillis, LongSupplier clockMillis) {
        this.fetchMoved = fetchMoved;
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.meta = meta;
        this.host = host;
        this.connected = connected;
        this.scheduler = scheduler;
        this.periodMillis = periodMillis;
        this.clockMillis = clockMillis;
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

    /**
     * Runs a round soon while data moves are in flight (the map changed, or a step of one finished),
     * so that a move's next step does not wait for the period; at most one such round is queued.
     */
    public void kick() {
        if (meta.shards().relocations().isEmpty() || scheduler.isShutdown() || !kickQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            scheduler.execute(() -> {
                kickQueued.set(false);
                roundSafely();
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            kickQueued.set(false);
        }
    }

    private void roundSafely() {
        try {
            round();
        } catch (RuntimeException e) {
            log.warn("shard_reconcile_round_failed node={} error={}", runtime.self(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void round() throws InterruptedException {
        NodeId self = runtime.self();
        long now = clockMillis.getAsLong();
        groupChanges.values().removeIf(CompletableFuture::isDone);
        metaChanges.values().removeIf(CompletableFuture::isDone);
        splitProposals.values().removeIf(CompletableFuture::isDone);
        mergeSteps.values().removeIf(CompletableFuture::isDone);
        mergeSteps.keySet().retainAll(meta.shards().merges().keySet());
        for (ShardState.Merge merge : meta.shards().merges().values()) {
            advanceMerge(merge);
        }
        relocationSteps.values().removeIf(CompletableFuture::isDone);
        for (Relocation relocation : meta.shards().relocations().values()) {
            advanceRelocation(relocation);
        }
        boolean fresh = false;
        var observed = new ArrayList<ShardChange.LeaderObserved>();
        for (ShardDescriptor shard : meta.shards().map().shards()) {
            Optional<ShardHost.Hosted> replica = host.replica(shard.id());
            if (replica.isEmpty()) {
                continue;
            }
            long group = replica.get().groupId();
            LogStatus status = runtime.status(group);
            if (status == null || status.role() != Role.LEADER) {
                continue;
            }
            Optional<ReplicaPlan.Step> step = ReplicaPlan.next(shard, status.membership(), self);
            if (step.isPresent() && !groupChanges.containsKey(group)) {
                if (!fresh && !metaBarrier()) {
                    return;
                }
                fresh = true;
                ShardDescriptor current = meta.shards().map().shard(shard.id()).orElse(null);
                step = current == null ? Optional.empty() : ReplicaPlan.next(current, status.membership(), self);
                step.ifPresent(s -> takeStep(shard.id(), group, s));
            }
            advanceMove(shard, group, status);
            advanceSplit(shard, replica.get(), group);
            NodeId transferTo = meta.shards().transfer(shard.id()).orElse(null);
            if (transferTo != null && !transferTo.equals(self) && status.membership().isVoter(transferTo)
                    && connected.test(transferTo) && now - transferTriedAtMillis.getOrDefault(shard.id(),
                    Long.MIN_VALUE / 2) >= TRANSFER_RETRY_MILLIS) {
                transferTriedAtMillis.put(shard.id(), now);
                log.info("shard_leader_transfer node={} shard={} to={}", self, shard.id(), transferTo);
                runtime.transferLeadership(group, transferTo);
            }
            // a transfer to this node ends once it is observed here, even if the map already names it
            boolean transferredHere = self.equals(transferTo);
            if ((!self.equals(shard.leaderHint()) || transferredHere) && shard.voters().contains(self)) {
                observed.add(new ShardChange.LeaderObserved(shard.id(), self));
            }
        }
        transferTriedAtMillis.keySet().retainAll(meta.shards().transfers().keySet());
        if (!observed.isEmpty() && report.isDone() && now - reportedAtMillis >= REPORT_PERIOD_MILLIS) {
            reportedAtMillis = now;
            report = proposeMeta(ShardState.batch(observed.subList(0, Math.min(observed.size(),
                    REPORTS_PER_COMMAND_MAX))));
        }
    }

    private void takeStep(ShardId shard, long group, ReplicaPlan.Step step) {
        switch (step) {
            case ReplicaPlan.Change c -> {
                log.info("shard_membership_step node={} shard={} change={} node_changed={}", runtime.self(), shard,
                        c.change().type(), c.change().node());
                groupChanges.put(group, runtime.proposeMembership(group, c.change()));
            }
            case ReplicaPlan.HandOver h -> {
                if (connected.test(h.to())) {
                    log.info("shard_leader_hand_over node={} shard={} to={} reason=removed", runtime.self(), shard,
                            h.to());
                    runtime.transferLeadership(group, h.to());
                }
            }
        }
    }

    /** The next step of a replica move this node leads: promote the caught-up learner, then remove the source. */
    private void advanceMove(ShardDescriptor shard, long group, LogStatus status) {
        Optional<ShardState.Move> move = meta.shards().move(shard.id());
        if (move.isEmpty() || metaChanges.containsKey(shard.id())) {
            return;
        }
        NodeId from = move.get().from();
        NodeId to = move.get().to();
        NodeId self = runtime.self();
        var step = ReplicaPlan.nextOfMove(shard, from, to, status.membership(), self, () -> {
            try {
                return runtime.query(group, r -> r.matchIndexes()).get(BARRIER_MILLIS, TimeUnit.MILLISECONDS)
                        .getOrDefault(to, 0L);
            } catch (ExecutionException | TimeoutException notNow) {
                return 0L;
            } catch (InterruptedException stopping) {
                Thread.currentThread().interrupt();
                return 0L;
            }
        }, status.commitIndex(), CAUGHT_UP_LAG_ENTRIES_MAX);
        switch (step) {
            case WAIT -> {
            }
            case PROMOTE -> {
                log.info("shard_move_promote node={} shard={} learner={}", self, shard.id(), to);
                metaChanges.put(shard.id(), proposeMeta(ShardState.command(
                        new ShardChange.PromoteLearner(shard.id(), shard.epoch(), to))));
            }
            case HAND_OVER -> {
                if (connected.test(to)) {
                    runtime.transferLeadership(group, to); // the source leaves last, led by another
                }
            }
            case REMOVE_SOURCE -> {
                log.info("shard_move_remove_source node={} shard={} source={}", self, shard.id(), from);
                metaChanges.put(shard.id(), proposeMeta(ShardState.command(
                        new ShardChange.RemoveReplica(shard.id(), shard.epoch(), from))));
            }
        }
    }

    /**
     * The split step this node leads: once the map holds a split of the shard that its group has
     * not applied, propose the replica's Split at the replica's epoch ({@link SplitPlan}). Only
     * forward: a repeated or overtaken proposal meets another epoch when applied and changes
     * nothing, so the next round (or the next leader) simply proposes again what is missing.
     */
    private void advanceSplit(ShardDescriptor shard, ShardHost.Hosted replica, long group) {
        if (splitProposals.containsKey(group)) {
            return;
        }
        Optional<ShardBounds> bounds = replica.stateMachine().bounds();
        if (bounds.isEmpty() || shard.epoch().rangeVersion() <= bounds.get().epoch().rangeVersion()) {
            return;
        }
        List<ShardDescriptor> keyspaceShards = meta.shards().map().shards(shard.keyspace());
        Optional<Relocation> moving = meta.shards().relocationInvolving(shard.id());
        if (moving.isPresent()) {
            // the map's newer epoch is the data move's, not a split's, once the replica reached the move's
            // epoch before; the move's other shards (slots it gives or takes) are no split's new shards
            if (bounds.get().epoch().rangeVersion() >= moving.get().shards().get(shard.id()).before().rangeVersion()) {
                return;
            }
            keyspaceShards = keyspaceShards.stream().filter(d -> !moving.get().involves(d.id())).toList();
        }
        SplitPlan.next(bounds.get(), keyspaceShards).ifPresent(split -> {
            log.info("shard_split_step node={} shard={} at={} new_shard={} epoch={}", runtime.self(), shard.id(),
                    split.at(), split.child(), split.epoch());
            splitProposals.put(group, runtime.propose(group, dev.atoll.shard.replica.ShardCodec.encode(split))
                    .orTimeout(5, TimeUnit.SECONDS));
        });
    }

    /**
     * The merge step this node leads, if any: freeze the source (its leader), commit the frozen
     * rows into the target, then forget the merge (the target's leader). Only forward, like a
     * split: a repeated proposal meets a frozen shard or another epoch and changes nothing.
     */
    private void advanceMerge(ShardState.Merge merge) {
        ShardId sourceId = merge.source().id();
        if (mergeSteps.containsKey(sourceId)) {
            return;
        }
        Optional<ShardHost.Hosted> source = host.replica(sourceId);
        if (source.isPresent() && leads(source.get().groupId())) {
            ShardStateMachine sm = source.get().stateMachine();
            MergePlan.forSource(merge, sm.bounds(), sm.pendingMerge()).ifPresent(step -> {
                ShardCommand.PrepareMerge prepare = ((MergePlan.Prepare) step).command();
                log.info("shard_merge_prepare node={} source={} target={} epoch={}", runtime.self(), sourceId,
                        merge.target(), prepare.epoch());
                mergeSteps.put(sourceId, runtime.propose(source.get().groupId(), ShardCodec.encode(prepare))
                        .orTimeout(5, TimeUnit.SECONDS));
            });
        }
        Optional<ShardHost.Hosted> target = host.replica(merge.target());
        if (mergeSteps.containsKey(sourceId) || target.isEmpty() || !leads(target.get().groupId())) {
            return;
        }
        long targetGroup = target.get().groupId();
        Optional<MergePlan.Step> step = MergePlan.forTarget(merge, target.get().stateMachine().bounds(),
                source.flatMap(s -> s.stateMachine().pendingMerge()));
        switch (step.orElse(null)) {
            case MergePlan.Finish f -> {
                log.info("shard_merge_done node={} source={} target={}", runtime.self(), sourceId, merge.target());
                mergeSteps.put(sourceId, proposeMeta(ShardState.finishMerge(sourceId)));
            }
            case MergePlan.Commit c -> {
                // the frozen rows of this node's source replica: every replica that applied the freeze holds the same
                long sourceGroup = source.orElseThrow().groupId();
                ShardStateMachine sm = source.get().stateMachine();
                mergeSteps.put(sourceId, runtime.query(sourceGroup, r -> sm.frozenSnapshot())
                        .orTimeout(5, TimeUnit.SECONDS).<Object>thenCompose(frozen -> {
                            if (frozen.isEmpty()) {
                                return CompletableFuture.completedFuture(null);
                            }
                            ShardSnapshot rows = frozen.get();
                            byte[] commit = ShardCodec.encode(new ShardCommand.CommitMerge(merge.target(),
                                    merge.targetEpoch(), merge.source().epoch(), rows));
                            if (commit.length > COMMIT_MERGE_BYTES_MAX) {
                                // the admin API refuses such sources; writes raced its check. Propose nothing
                                // and say so now and then: the merge is stuck (the source frozen) until an
                                // operator steps in.
                                log.error("shard_merge_source_too_large node={} source={} target={} bytes={} max={}",
                                        runtime.self(), sourceId, merge.target(), commit.length,
                                        COMMIT_MERGE_BYTES_MAX);
                                return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(
                                        TOO_LARGE_REPORT_MILLIS, TimeUnit.MILLISECONDS));
                            }
                            log.info("shard_merge_commit node={} source={} target={} rows={} bytes={}", runtime.self(),
                                    sourceId, merge.target(), rows.rows().size(), commit.length);
                            return runtime.propose(targetGroup, commit).orTimeout(5, TimeUnit.SECONDS);
                        }));
            }
            case null, default -> { }
        }
    }

    /**
     * The data move steps this node leads ({@link RelocationPlan}): each shard of the move whose
     * group this node leads takes the next one, at most one in flight per shard. Only forward: a
     * repeated proposal meets another epoch or a chunk position that moved on and changes nothing.
     */
    private void advanceRelocation(Relocation r) {
        for (ShardId id : r.shards().keySet()) {
            List<Long> key = List.of(r.id(), id.value());
            Optional<ShardHost.Hosted> replica = host.replica(id);
            if (relocationSteps.containsKey(key) || replica.isEmpty() || !leads(replica.get().groupId())) {
                continue;
            }
            ShardStateMachine sm = replica.get().stateMachine();
            long group = replica.get().groupId();
            Optional<RelocationPlan.Step> step = RelocationPlan.next(r, id, sm.bounds(), sm.handoffs(), sm.intakes());
            switch (step.orElse(null)) {
                case RelocationPlan.Propose p -> {
                    log.info("shard_relocation_step node={} relocation={} shard={} step={}", runtime.self(), r.id(), id,
                            p.command().getClass().getSimpleName());
                    relocationSteps.put(key, thenKick(runtime.propose(group, ShardCodec.encode(p.command()))
                            .orTimeout(5, TimeUnit.SECONDS)));
                }
                case RelocationPlan.Fetch f -> relocationSteps.put(key, thenKick(takeOver(r, id, group, f)));
                case RelocationPlan.Taken t -> {
                    log.info("shard_relocation_taken node={} relocation={} source={} target={}", runtime.self(),
                            r.id(), t.source(), id);
                    relocationSteps.put(key, proposeMeta(ShardState.relocationTaken(r.id(), t.source(), id)));
                }
                case RelocationPlan.Released x -> {
                    log.info("shard_relocation_released node={} relocation={} source={}", runtime.self(), r.id(), id);
                    relocationSteps.put(key, proposeMeta(ShardState.relocationReleased(r.id(), id)));
                }
                case null -> { }
            }
        }
    }

    /** {@code step}, and a round as soon as it succeeded (the next chunk, the next step): failures wait for the period. */
    private CompletableFuture<Object> thenKick(CompletableFuture<Object> step) {
        step.thenRun(this::kick);
        return step;
    }

    /** Reads the next chunk of rows {@code f.source()} handed off to {@code target} and proposes it to the target's group. */
    private CompletableFuture<Object> takeOver(Relocation r, ShardId target, long group, RelocationPlan.Fetch f) {
        var request = FetchMovedRequest.newBuilder().setKeyspace(r.keyspace()).setSource(f.source().value())
                .setTarget(target.value()).setRelocation(r.id()).setFrom(ByteString.copyFrom(f.from().toBytes()))
                .setBytesMax(TAKE_OVER_BYTES_MAX).build();
        ShardEpoch epoch = r.shards().get(target).after();
        return fetchMoved.apply(request).orTimeout(5, TimeUnit.SECONDS).thenCompose(chunk -> {
            var rows = new ArrayList<KeyValue>(chunk.getPairsCount());
            chunk.getPairsList().forEach(kv -> rows.add(new KeyValue(Key.of(kv.getKey().toByteArray()),
                    kv.getValue().toByteArray())));
            Key resumeAt = chunk.hasResumeAt() ? Key.of(chunk.getResumeAt().toByteArray()) : Key.END;
            log.info("shard_relocation_take_over node={} relocation={} source={} target={} rows={} last={}",
                    runtime.self(), r.id(), f.source(), target, rows.size(), resumeAt.isEnd());
            return runtime.propose(group, ShardCodec.encode(new ShardCommand.TakeOver(target, epoch, r.id(),
                    f.source(), f.from(), rows, resumeAt))).orTimeout(5, TimeUnit.SECONDS);
        });
    }

    private boolean leads(long group) {
        LogStatus status = runtime.status(group);
        return status != null && status.role() == Role.LEADER;
    }

    private boolean metaBarrier() throws InterruptedException {
        try {
            runtime.readBarrier(metaGroup).get(BARRIER_MILLIS, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException notNow) {
            return false;
        }
    }

    private CompletableFuture<Object> proposeMeta(ShardMapCommand command) {
        return runtime.propose(metaGroup, MetaStateMachine.command(MetaCommand.newBuilder().setShardMap(command)
                .build())).orTimeout(5, TimeUnit.SECONDS);
    }
}
