package dev.atoll.server.shard;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardReplica;
import dev.atoll.shard.replica.ShardSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Hosts on this node one Raft group per shard that has a replica here, as the meta group's
 * shard map says: creates a group when a replica appears (a founding voter of a new shard
 * starts with the shard's voters; a replica added later starts empty and is caught up by the
 * leader's snapshot), and removes it when the replica is gone, deleting its data from the
 * shared {@link ShardStore}. A group leaves once its own membership no longer holds this node,
 * once its shard is dropped, or after {@link #REMOVAL_GRACE_MILLIS}, so that the shard's leader
 * has had the time to take it out of the group first. The source of a merge in progress stays
 * (its frozen rows are what the target's leader commits) until the meta group forgets the merge.
 *
 * <p>Group ids come from shard ids ({@link #groupOf}), above the meta and {@code default}
 * groups. Runs on {@code scheduler} (one round at a time); lookups are thread-safe.
 */
public final class ShardHost implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ShardHost.class);
    /** Shard {@code s} is Raft group {@code s + SHARD_GROUP_OFFSET}: groups 0 and 1 are meta and default. */
    public static final long SHARD_GROUP_OFFSET = 1;
    /** How long a replica gone from the map keeps running, for its leader to remove it from the group. */
    public static final long REMOVAL_GRACE_MILLIS = 10_000;
    private static final long BARRIER_MILLIS = 2_000;

    /** One hosted replica: the descriptor it was created from and its apply logic. */
    public record Hosted(ShardDescriptor created, long groupId, ShardStateMachine stateMachine) {
    }

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final MetaStateMachine meta;
    private final ShardStore store;
    private final RaftConfig raft;
    private final long snapshotEveryEntries;
    private final ScheduledExecutorService scheduler;
    private final long periodMillis;
    private final LongSupplier clockMillis;
    private final Map<ShardId, Hosted> hosted = new ConcurrentHashMap<>();
    /** When each hosted replica was first seen gone from the map (loop of this class only). */
    private final Map<ShardId, Long> goneSinceMillis = new HashMap<>();
    private boolean orphansCleared;
    private ScheduledFuture<?> periodic;

    public ShardHost(NodeRuntime runtime, long metaGroup, MetaStateMachine meta, ShardStore store, RaftConfig raft,
                     long snapshotEveryEntries, ScheduledExecutorService scheduler, long periodMillis,
                     LongSupplier clockMillis) {
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.meta = meta;
        this.store = store;
        this.raft = raft;
        this.snapshotEveryEntries = snapshotEveryEntries;
        this.scheduler = scheduler;
        this.periodMillis = periodMillis;
        this.clockMillis = clockMillis;
    }

    public static long groupOf(ShardId shard) {
        return shard.value() + SHARD_GROUP_OFFSET;
    }

    public void start() {
        periodic = scheduler.scheduleWithFixedDelay(this::syncSafely, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Runs a round soon (the shard map changed). */
    public void kick() {
        if (!scheduler.isShutdown()) {
            scheduler.execute(this::syncSafely);
        }
    }

    /** The replica of {@code shard} on this node, if it runs here. */
    public Optional<Hosted> replica(ShardId shard) {
        return Optional.ofNullable(hosted.get(shard));
    }

    /** How many shard replicas this node hosts. */
    public int hostedCount() {
        return hosted.size();
    }

    @Override
    public void close() {
        if (periodic != null) {
            periodic.cancel(false);
        }
    }

    private void syncSafely() {
        try {
            sync();
        } catch (RuntimeException e) {
            log.warn("shard_hosting_round_failed node={} error={}", runtime.self(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void sync() throws InterruptedException {
        NodeId self = runtime.self();
        ShardState state = meta.shards();
        ShardMap map = state.map();
        var wanted = new HashSet<ShardId>();
        for (ShardDescriptor s : map.shards()) {
            if (!s.hasReplicaOn(self)) {
                continue;
            }
            wanted.add(s.id());
            if (!hosted.containsKey(s.id())) {
                host(s, map.keyspace(s.keyspace()).orElseThrow(), state.keyspaceId(s.keyspace()).orElseThrow());
            }
        }
        for (ShardState.Merge m : state.merges().values()) {
            ShardDescriptor source = m.source();
            if (!source.hasReplicaOn(self) || map.keyspace(source.keyspace()).isEmpty()) {
                continue;
            }
            wanted.add(source.id());
            if (!hosted.containsKey(source.id())) {
                // after a restart: the frozen source resumes from its store, for the target's leader to read
                host(source, map.keyspace(source.keyspace()).orElseThrow(),
                        state.keyspaceId(source.keyspace()).orElseThrow());
            }
        }
        long now = clockMillis.getAsLong();
        goneSinceMillis.keySet().retainAll(hosted.keySet());
        for (Hosted h : Set.copyOf(hosted.values())) {
            ShardId id = h.created().id();
            if (wanted.contains(id)) {
                goneSinceMillis.remove(id);
                continue;
            }
            long since = goneSinceMillis.computeIfAbsent(id, x -> now);
            LogStatus status = runtime.status(h.groupId());
            boolean outOfGroup = status != null && !status.membership().isMember(self);
            boolean dropped = map.shard(id).isEmpty(); // shard ids are never reused: it never comes back
            if (dropped || outOfGroup || now - since >= REMOVAL_GRACE_MILLIS) {
                unhost(h, !dropped);
            }
        }
        if (!orphansCleared) {
            clearOrphans();
        }
    }

    private void host(ShardDescriptor s, KeyspaceSpec spec, long keyspaceId) throws InterruptedException {
        // A shard of a new keyspace is founded by its voters, its log starting after the bootstrap
        // snapshot at index 1 (its bounds). A shard a split created starts on each node from the
        // rows and state the parent's replica wrote there when it applied the split (the group
        // is not hosted before: messages for it are dropped until then). A replica added later,
        // or one whose parent skipped the split by installing a newer snapshot, joins empty and
        // installs the leader's snapshot (the log's first entry follows index 1).
        boolean hasState = store.replica(s.id(), keyspaceId).applied().replicaState().length > 0;
        boolean founding = s.epoch().rangeVersion() == ShardEpoch.INITIAL.rangeVersion()
                && s.epoch().confVersion() == ShardEpoch.INITIAL.confVersion();
        if (!hasState && !founding && splitPendingHere(s)) {
            return;
        }
        ShardSnapshot first = founding && !hasState ? ShardReplica.initial(boundsOf(s, spec)) : null;
        var stateMachine = new ShardStateMachine(store, s.id(), keyspaceId, first, split -> kick());
        Snapshot bootstrap = stateMachine.appliedIndex() == ShardReplica.INITIAL_INDEX
                ? new Snapshot(ShardReplica.INITIAL_INDEX, 1, Membership.ofVoters(new TreeSet<>(s.voters())),
                stateMachine.snapshotData())
                : Snapshot.bootstrap(Membership.ofVoters(Set.of()));
        try {
            runtime.hostGroup(groupOf(s.id()), raft, bootstrap, stateMachine, snapshotEveryEntries).get();
        } catch (ExecutionException e) {
            log.warn("shard_host_failed node={} shard={} error={}", runtime.self(), s.id(), e.getCause().toString());
            return;
        }
        if (founding && !hasState && runtime.self().equals(firstCandidate(s))) {
            // one founding replica campaigns at once and is elected in one round: a keyspace of
            // many shards would otherwise have every replica of every group time out together
            runtime.campaign(groupOf(s.id()));
        }
        hosted.put(s.id(), new Hosted(s, groupOf(s.id()), stateMachine));
        log.info("shard_hosted node={} shard={} keyspace={} group={} founding={} from_store={} epoch={}",
                runtime.self(), s.id(), s.keyspace(), groupOf(s.id()), founding, hasState, s.epoch());
    }

    /**
     * The founding replica of {@code s} that campaigns first: the leader the map names, else one
     * of its voters chosen by the shard's id, so that a new keyspace's leaders start out spread.
     */
    static NodeId firstCandidate(ShardDescriptor s) {
        if (s.leaderHint() != null) {
            return s.leaderHint();
        }
        List<NodeId> voters = s.voters();
        return voters.isEmpty() ? null : voters.get((int) Math.floorMod(s.id().value(), (long) voters.size()));
    }

    private void unhost(Hosted h, boolean mayReturn) throws InterruptedException {
        try {
            runtime.removeGroup(h.groupId(), mayReturn).get();
        } catch (ExecutionException e) {
            log.warn("shard_unhost_failed node={} shard={} error={}", runtime.self(), h.created().id(),
                    e.getCause().toString());
            return;
        }
        hosted.remove(h.created().id());
        goneSinceMillis.remove(h.created().id());
        h.stateMachine().data().deleteAll();
        log.info("shard_unhosted node={} shard={} group={}", runtime.self(), h.created().id(), h.groupId());
    }

    /**
     * Whether a replica hosted here will hand {@code s} its first rows: it is of the same
     * keyspace, still holds (part of) {@code s}'s span and is at an older range version, so the
     * split that created {@code s} is still ahead in its log.
     */
    private boolean splitPendingHere(ShardDescriptor s) {
        for (Hosted h : hosted.values()) {
            Optional<ShardBounds> b = h.stateMachine().bounds();
            if (h.created().keyspace().equals(s.keyspace()) && b.isPresent()
                    && b.get().epoch().rangeVersion() < s.epoch().rangeVersion() && overlaps(b.get().span(), s.span())) {
                return true;
            }
        }
        return false;
    }

    private static boolean overlaps(ShardSpan a, ShardSpan b) {
        return switch (a) {
            case KeyRange r -> b instanceof KeyRange o && r.overlaps(o);
            case HashSlots h -> b instanceof HashSlots o && h.plus(o).slotCount() < h.slotCount() + o.slotCount();
            case ShardSpan.Directed d -> false;
        };
    }

    /**
     * Deletes data a crash left behind for shards not hosted here (a removal whose delete was not
     * yet durable), once the map is known to be current (a read barrier on the meta group).
     */
    private void clearOrphans() throws InterruptedException {
        try {
            runtime.readBarrier(metaGroup).get(BARRIER_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException notNow) {
            return;
        }
        NodeId self = runtime.self();
        ShardState state = meta.shards();
        ShardMap map = state.map();
        store.shardsWithData().forEach((id, bounds) -> {
            boolean here = map.shard(id).map(s -> s.hasReplicaOn(self)).orElse(false)
                    || state.mergeOf(id).map(m -> m.source().hasReplicaOn(self)).orElse(false);
            if (!here && !hosted.containsKey(id)) {
                store.deleteShard(id, bounds);
                log.info("shard_orphan_deleted node={} shard={}", self, id);
            }
        });
        orphansCleared = true;
    }

    /**
     * The bounds a replica of {@code s} starts with. A directory shard's keys are the directory
     * table's to decide (the router checks it before proposing): its replica takes the whole key
     * space, so only the epoch is checked at apply time.
     */
    static ShardBounds boundsOf(ShardDescriptor s, KeyspaceSpec spec) {
        return s.span() instanceof ShardSpan.Directed
                ? new ShardBounds(s.id(), KeyRange.ALL, s.epoch(), 0)
                : ShardBounds.of(s, spec.sharding());
    }
}
