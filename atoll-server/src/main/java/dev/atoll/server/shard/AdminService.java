package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AddShardRequest;
import dev.atoll.proto.admin.AddShardResponse;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.CreateKeyspaceResponse;
import dev.atoll.proto.admin.DescribeKeyspaceRequest;
import dev.atoll.proto.admin.DirectoryEditResponse;
import dev.atoll.proto.admin.DirectoryEntry;
import dev.atoll.proto.admin.DescribeKeyspaceResponse;
import dev.atoll.proto.admin.DropKeyspaceRequest;
import dev.atoll.proto.admin.DropKeyspaceResponse;
import dev.atoll.proto.admin.KeyspaceInfo;
import dev.atoll.proto.admin.ListDirectoryRequest;
import dev.atoll.proto.admin.ListDirectoryResponse;
import dev.atoll.proto.admin.ListKeyspacesRequest;
import dev.atoll.proto.admin.ListKeyspacesResponse;
import dev.atoll.proto.admin.ListNodesRequest;
import dev.atoll.proto.admin.ListNodesResponse;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ListShardsResponse;
import dev.atoll.proto.admin.MergeShardsRequest;
import dev.atoll.proto.admin.MergeShardsResponse;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.NodeInfo;
import dev.atoll.proto.admin.MoveShardResponse;
import dev.atoll.proto.admin.MoveSlotsRequest;
import dev.atoll.proto.admin.MoveSlotsResponse;
import dev.atoll.proto.admin.PutDirectoryEntryRequest;
import dev.atoll.proto.admin.RemoveDirectoryEntryRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.admin.SplitShardResponse;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import dev.atoll.proto.admin.TransferShardLeaderResponse;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.shardkv.MedianKeyResponse;
import dev.atoll.proto.shardmap.ShardMapCommand;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.NotLeaderException;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Placement;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.placement.ClusterState;
import dev.atoll.shard.placement.Node;
import dev.atoll.shard.placement.Rebalancer;
import dev.atoll.shard.placement.RebalancerConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static dev.atoll.core.Check.check;

/**
 * The admin API ({@code atoll/admin.proto}) on every node: keyspaces and shards. Reads answer
 * from this node's shard map after a read barrier on the meta group (so they are linearizable);
 * changes are proposed to the meta group, whose apply decides, so a refusal (a name taken, a
 * stale epoch) changes nothing and is answered with its {@link ShardError} code. A new
 * keyspace's replicas are placed by the {@link Rebalancer}, spread by replicas per node over the
 * started voting members. Handlers never block: continuations run on {@code executor}, waits
 * for the map poll on {@code scheduler}.
 */
public final class AdminService extends AdminGrpc.AdminImplBase {
    /** Default cap on how long a request waits for its change to show (shards led, a move done). */
    public static final long WAIT_MILLIS_MAX = 60_000;
    private static final long POLL_MILLIS = 50;
    /**
     * Most bytes a merge source may hold (rows, with a per-row allowance for their encoding):
     * its rows travel in one log entry, which goes to followers in one peer message, at most
     * the peer transport's batchBytesMax (1 MiB); well below the pure replica's own bound.
     */
    public static final long MERGE_SOURCE_BYTES_MAX = 512 << 10;

    private final NodeRuntime runtime;
    private final long metaGroup;
    private final MetaStateMachine meta;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final long requestTimeoutMillis;
    private final Rebalancer rebalancer = new Rebalancer(RebalancerConfig.defaults());
    private final Function<ShardDescriptor, CompletableFuture<MedianKeyResponse>> medianKeys;
    private final Function<ShardDescriptor, CompletableFuture<MedianKeyResponse>> leaderProbes;

    /**
     * {@code medianKeys}: the median key of a shard's data, from one of its replicas (a split key);
     * {@code leaderProbes}: the same, from the shard's leader after a read barrier (what a merge's
     * size check reads), failing with a {@link ShardError} status while the group has no leader.
     */
    public AdminService(NodeRuntime runtime, long metaGroup, MetaStateMachine meta, Executor executor,
                        ScheduledExecutorService scheduler, long requestTimeoutMillis,
                        Function<ShardDescriptor, CompletableFuture<MedianKeyResponse>> medianKeys,
                        Function<ShardDescriptor, CompletableFuture<MedianKeyResponse>> leaderProbes) {
        this.medianKeys = medianKeys;
        this.leaderProbes = leaderProbes;
        this.runtime = runtime;
        this.metaGroup = metaGroup;
        this.meta = meta;
        this.executor = executor;
        this.scheduler = scheduler;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    // ------------------------------------------------------------------ keyspaces

    @Override
    public void createKeyspace(CreateKeyspaceRequest request, StreamObserver<CreateKeyspaceResponse> out) {
        KeyspaceSpec spec;
        try {
            spec = specOf(request);
        } catch (StatusRuntimeException refused) {
            out.onError(refused);
            return;
        }
        answer(fresh().thenCompose(x -> {
            ShardState state = meta.shards();
            if (state.map().keyspace(spec.name()).isPresent()) {
                throw ShardError.KEYSPACE_EXISTS.toStatus("keyspace " + spec.name() + " exists");
            }
            if (!meta.members().seeded()) {
                throw ShardError.STARTING.toStatus("the cluster is starting: no member table yet, retry");
            }
            var placed = rebalancer.placeKeyspace(spec, ClusterState.of(nodes(), state.map(), Map.of()));
            ShardChange.CreateKeyspace change = switch (placed) {
                case Rebalancer.NewKeyspace.Placed p -> p.change();
                case Rebalancer.NewKeyspace.Unplaceable u -> throw ShardError.UNPLACEABLE.toStatus(u.reason());
            };
            return propose(ShardState.command(change));
        }).thenCompose(answer -> {
            refuseUnlessApplied(answer, spec.name());
            // answer once every new shard has a leader, so the keyspace takes writes at once
            return await(s -> s.map().shards(spec.name()).stream().allMatch(d -> d.leaderHint() != null),
                    WAIT_MILLIS_MAX).handle((s, timedOut) -> meta.shards());
        }).thenApply(s -> CreateKeyspaceResponse.newBuilder().setKeyspace(info(s, spec.name()))
                .addAllShards(s.map().shards(spec.name()).stream().map(d -> shardInfo(s, d)).toList()).build()), out);
    }

    @Override
    public void listKeyspaces(ListKeyspacesRequest request, StreamObserver<ListKeyspacesResponse> out) {
        answer(fresh().thenApply(x -> {
            ShardState s = meta.shards();
            var b = ListKeyspacesResponse.newBuilder().setMapVersion(s.map().version());
            s.map().keyspaces().keySet().forEach(name -> b.addKeyspaces(info(s, name)));
            return b.build();
        }), out);
    }

    @Override
    public void describeKeyspace(DescribeKeyspaceRequest request, StreamObserver<DescribeKeyspaceResponse> out) {
        answer(fresh().thenApply(x -> {
            ShardState s = meta.shards();
            if (s.map().keyspace(request.getName()).isEmpty()) {
                throw ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + request.getName());
            }
            return DescribeKeyspaceResponse.newBuilder().setKeyspace(info(s, request.getName()))
                    .addAllShards(s.map().shards(request.getName()).stream().map(d -> shardInfo(s, d)).toList())
                    .build();
        }), out);
    }

    @Override
    public void dropKeyspace(DropKeyspaceRequest request, StreamObserver<DropKeyspaceResponse> out) {
        answer(propose(ShardState.dropKeyspace(request.getName())).thenApply(answer -> {
            if (answer instanceof ChangeResult.UnknownKeyspace) {
                throw ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + request.getName());
            }
            refuseUnlessApplied(answer, request.getName());
            return DropKeyspaceResponse.newBuilder()
                    .setShardsDropped(((ChangeResult.Applied) answer).removed().size()).build();
        }), out);
    }

    // ------------------------------------------------------------------ shards

    @Override
    public void listShards(ListShardsRequest request, StreamObserver<ListShardsResponse> out) {
        answer(fresh().thenApply(x -> {
            ShardState s = meta.shards();
            if (!request.getKeyspace().isEmpty() && s.map().keyspace(request.getKeyspace()).isEmpty()) {
                throw ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + request.getKeyspace());
            }
            var b = ListShardsResponse.newBuilder().setMapVersion(s.map().version());
            for (ShardDescriptor d : s.map().shards()) {
                if (request.getKeyspace().isEmpty() || d.keyspace().equals(request.getKeyspace())) {
                    b.addShards(shardInfo(s, d));
                }
            }
            return b.build();
        }), out);
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> out) {
        answer(fresh().thenApply(x -> {
            ShardMap map = meta.shards().map();
            var b = ListNodesResponse.newBuilder();
            for (Member m : meta.members().current()) {
                if (!m.started()) {
                    continue;
                }
                NodeId n = m.node();
                int replicas = 0;
                int leaders = 0;
                for (ShardDescriptor d : map.shards()) {
                    replicas += d.hasReplicaOn(n) ? 1 : 0;
                    leaders += n.equals(d.leaderHint()) ? 1 : 0;
                }
                b.addNodes(NodeInfo.newBuilder().setName(m.name()).setRegion(m.labels().region())
                        .setZone(m.labels().zone()).setCapacityBytes(m.labels().capacityBytes())
                        .addAllClientUrls(m.clientUrls()).setReplicas(replicas).setLeaders(leaders)
                        .setVoter(m.isVoter()));
            }
            return b.build();
        }), out);
    }

    @Override
    public void moveShard(MoveShardRequest request, StreamObserver<MoveShardResponse> out) {
        ShardId id = request.getShard() > 0 ? ShardId.of(request.getShard()) : null;
        answer(fresh().thenCompose(x -> {
            ShardDescriptor shard = shard(id);
            NodeId from = node(request.getFrom(), "from");
            NodeId to = node(request.getTo(), "to");
            if (!nodes().stream().map(Node::id).toList().contains(to)) {
                throw ShardError.NODE_NOT_FOUND.toStatus(to + " is not a started voting member");
            }
            if (!shard.voters().contains(from)) {
                throw ShardError.MOVE_REFUSED.toStatus(shard.id() + " has no voter on " + from);
            }
            if (shard.hasReplicaOn(to)) {
                throw ShardError.MOVE_REFUSED.toStatus(shard.id() + " already has a replica on " + to);
            }
            return propose(ShardState.startMove(shard, from, to));
        }).thenCompose(answer -> {
            refuseUnlessApplied(answer, String.valueOf(id));
            if (!request.getWait()) {
                return CompletableFuture.completedFuture(false);
            }
            Predicate<ShardState> done = s -> s.map().shard(id).map(d -> d.voters().contains(
                    NodeId.of(request.getTo())) && !d.hasReplicaOn(NodeId.of(request.getFrom()))).orElse(true);
            return await(done, WAIT_MILLIS_MAX).handle((s, timedOut) -> timedOut == null);
        }).thenApply(done -> MoveShardResponse.newBuilder().setDone(done)
                .setShard(shardInfo(meta.shards(), shard(id))).build()), out);
    }

    @Override
    public void transferShardLeader(TransferShardLeaderRequest request,
                                    StreamObserver<TransferShardLeaderResponse> out) {
        ShardId id = request.getShard() > 0 ? ShardId.of(request.getShard()) : null;
        answer(fresh().thenCompose(x -> {
            ShardDescriptor shard = shard(id);
            NodeId to = node(request.getTo(), "to");
            if (!shard.voters().contains(to)) {
                throw ShardError.REJECTED.toStatus(to + " is not a voter of " + shard.id());
            }
            return propose(ShardState.command(new ShardChange.TransferLeader(shard.id(), shard.epoch(), to)));
        }).thenCompose(answer -> {
            refuseUnlessApplied(answer, String.valueOf(id));
            NodeId to = NodeId.of(request.getTo());
            return await(s -> s.transfer(id).isEmpty() && s.map().shard(id).map(d -> to.equals(d.leaderHint()))
                    .orElse(true), requestTimeoutMillis * 2);
        }).thenApply(s -> TransferShardLeaderResponse.newBuilder().setShard(shardInfo(s, shard(id))).build()), out);
    }

    /**
     * Splits a shard: a range (or geo) shard at the request's key, or at the median key of its
     * data; a hash shard at the request's slot, or at the slot that halves its data by bytes (from
     * a replica's sample of its keys; the middle of its slots when it holds no data). The meta group
     * applies the split (the new shard's id, the next epoch); the shard's leader then cuts its
     * group's data at the same point ({@link ShardReconciler}). Answers with both shards. A key for
     * a hash shard, or a slot for a range shard, is INVALID_REQUEST; a point not strictly inside
     * the shard is REJECTED, as the map refuses it.
     */
    @Override
    public void splitShard(SplitShardRequest request, StreamObserver<SplitShardResponse> out) {
        ShardId id = request.getShard() > 0 ? ShardId.of(request.getShard()) : null;
        answer(fresh().thenCompose(x -> {
            ShardDescriptor shard = shard(id);
            CompletableFuture<SplitPoint> at = switch (shard.span()) {
                case KeyRange range -> keyToSplit(shard, request);
                case HashSlots slots -> slotToSplit(shard, slots, request);
                case ShardSpan.Directed d -> throw ShardError.INVALID_REQUEST.toStatus(shard.id()
                        + " is a directory shard: directory keyspaces do not split; edit the directory");
            };
            return at.thenCompose(point -> propose(ShardState.command(new ShardChange.Split(shard.id(), shard.epoch(),
                    point))).thenCompose(answer -> {
                refuseUnlessApplied(answer, String.valueOf(id));
                ShardId created = ((ChangeResult.Applied) answer).changed().stream().map(ShardDescriptor::id)
                        .filter(c -> !c.equals(shard.id())).findFirst().orElseThrow();
                // answer once the new shard serves (its group applied the split and has a leader),
                // so what the caller does next with it is not refused for a group not yet there
                return awaitServing(shard(created), System.nanoTime()
                        + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS_MAX)).thenApply(served -> {
                            ShardState s = meta.shards();
                            return SplitShardResponse.newBuilder().setShard(shardInfo(s, shard(id)))
                                    .setCreated(shardInfo(s, shard(created))).build();
                        });
            }));
        }), out);
    }

    /** Where a range shard splits: the request's key, else the median key of its data. */
    private CompletableFuture<SplitPoint> keyToSplit(ShardDescriptor shard, SplitShardRequest request) {
        if (request.hasAtSlot()) {
            throw ShardError.INVALID_REQUEST.toStatus(shard.id() + " is a range shard: it splits at a key (--at KEY),"
                    + " not a slot");
        }
        if (request.hasKey()) {
            if (request.getKey().isEmpty()) {
                throw ShardError.INVALID_REQUEST.toStatus("a split key is not empty");
            }
            return CompletableFuture.completedFuture(new SplitPoint.AtKey(Key.of(request.getKey().toByteArray())));
        }
        return medianKeys.apply(shard).thenApply(median -> {
            if (!median.getFound()) {
                throw ShardError.REJECTED.toStatus(shard.id() + " holds fewer than two keys: name a split key");
            }
            return new SplitPoint.AtKey(Key.of(median.getKey().toByteArray()));
        });
    }

    /** Where a hash shard splits: the request's slot, else the slot a replica's sample of its data gives. */
    private CompletableFuture<SplitPoint> slotToSplit(ShardDescriptor shard, HashSlots slots,
                                                      SplitShardRequest request) {
        if (request.hasKey()) {
            throw ShardError.INVALID_REQUEST.toStatus(shard.id() + " is a hash shard: it splits at a slot"
                    + " (--at-slot N), not a key");
        }
        if (request.hasAtSlot()) {
            int slot = request.getAtSlot();
            checkSplitSlot(shard, slots, slot);
            return CompletableFuture.completedFuture(new SplitPoint.AtSlot(slot));
        }
        // from a replica that has applied every split of the map (asked again a while): a lagging
        // one's sample would cover slots the shard no longer holds
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis);
        return inStep(shard, deadline).thenApply(probe -> new SplitPoint.AtSlot(slotToSplit(shard, slots, probe)));
    }

    /**
     * The slot a hash shard splits at without one named, from a replica's probe: its weighted
     * median slot by bytes; with no data, the middle of its slots; REJECTED when its data sits in
     * one slot (no slot halves it) or it holds one slot only. Pure.
     */
    static int slotToSplit(ShardDescriptor shard, HashSlots slots, MedianKeyResponse probe) {
        if (probe.hasMedianSlot()) {
            checkSplitSlot(shard, slots, probe.getMedianSlot());
            return probe.getMedianSlot();
        }
        if (probe.getDataBytes() > 0) {
            throw ShardError.REJECTED.toStatus(shard.id() + "'s data sits in one slot, which is never split: name a"
                    + " slot (--at-slot N)");
        }
        if (slots.slotCount() < 2) {
            throw ShardError.REJECTED.toStatus(shard.id() + " holds one slot only: " + slots);
        }
        int skip = slots.slotCount() / 2;
        for (SlotRange r : slots.ranges()) {
            if (skip < r.slotCount()) {
                return r.start() + skip;
            }
            skip -= r.slotCount();
        }
        throw new IllegalStateException("the middle of " + slots + " is one of its slots");
    }

    /** REJECTED unless splitting {@code slots} at {@code slot} leaves slots on both sides. */
    private static void checkSplitSlot(ShardDescriptor shard, HashSlots slots, int slot) {
        if (slot < 0 || slots.below(slot).isEmpty() || slots.atOrAbove(slot).isEmpty()) {
            throw ShardError.REJECTED.toStatus("split slot " + Integer.toUnsignedString(slot) + " is not strictly"
                    + " inside " + shard.id() + "'s " + slots + ": the new shard takes the slots from it up, and"
                    + " both parts keep at least one");
        }
    }

    /**
     * Merges the right shard into the left one (two shards of one keyspace, adjacent if they are
     * range shards, any two if hash shards, with replicas on the same nodes, neither moving,
     * splitting or merging): the meta group applies
     * the merge and records its intent; the groups then freeze the source and commit its rows
     * into the target ({@link ShardReconciler}, {@link MergePlan}). Answers once the target's
     * group holds the source's keys and the meta group has forgotten the merge.
     */
    @Override
    public void mergeShards(MergeShardsRequest request, StreamObserver<MergeShardsResponse> out) {
        answer(merge(request), out);
    }

    /**
     * Merges the shards {@code request} names, as {@link #mergeShards} does; completes with its
     * answer, or exceptionally with the refusal (a {@link ShardError} status). The placement
     * driver merges small cold neighbours through here.
     */
    public CompletableFuture<MergeShardsResponse> merge(MergeShardsRequest request) {
        return fresh().thenCompose(x -> {
            ShardDescriptor[] pair = mergePair(request);
            ShardDescriptor left = pair[0];
            ShardDescriptor right = pair[1];
            // both groups have applied every split of the map, and the source's rows fit in one
            // entry: asked of each group's leader, since a replica on this node may lag its group
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis);
            return atLeaderInStep(left, deadline).thenCombine(atLeaderInStep(right, deadline), (l, r) -> {
                if (l.getRangeVersion() != left.epoch().rangeVersion()
                        || r.getRangeVersion() != right.epoch().rangeVersion()) {
                    throw ShardError.MERGE_IN_PROGRESS.toStatus("a split of " + left.id() + " or " + right.id()
                            + " is not yet applied by its group");
                }
                if (r.getDataBytes() > MERGE_SOURCE_BYTES_MAX) {
                    throw ShardError.MERGE_TOO_LARGE.toStatus(right.id() + " holds more than "
                            + MERGE_SOURCE_BYTES_MAX + " bytes: its rows travel in one log entry");
                }
                return pair;
            });
        }).thenCompose(pair -> proposeOrFind(ShardState.command(new ShardChange.Merge(pair[0].id(), pair[0].epoch(),
                pair[1].id(), pair[1].epoch())), s -> s.map().shard(pair[1].id()).isEmpty()
                || s.mergeOf(pair[1].id()).isPresent()).thenCompose(answer -> {
            refuseUnlessApplied(answer, pair[0].id() + "+" + pair[1].id());
            ShardId source = pair[1].id();
            return await(s -> s.mergeOf(source).isEmpty(), WAIT_MILLIS_MAX).thenApply(s -> MergeShardsResponse
                    .newBuilder().setShard(shardInfo(s, shard(pair[0].id()))).setMerged(source.value()).build());
        }));
    }

    /**
     * A replica's probe of {@code shard} (range version, data bytes), asked again for a while
     * when the replica is behind the map's range version (a split its group has yet to apply,
     * or a replica lagging its group): the last answer at {@code deadlineNanos}.
     */
    private CompletableFuture<MedianKeyResponse> inStep(ShardDescriptor shard, long deadlineNanos) {
        return medianKeys.apply(shard).thenCompose(probe -> {
            if (probe.getRangeVersion() == shard.epoch().rangeVersion() || System.nanoTime() - deadlineNanos > 0) {
                return CompletableFuture.completedFuture(probe);
            }
            var again = new CompletableFuture<MedianKeyResponse>();
            scheduler.schedule(() -> inStep(shard, deadlineNanos).whenComplete((p, e) -> {
                if (e != null) {
                    again.completeExceptionally(e);
                } else {
                    again.complete(p);
                }
            }), POLL_MILLIS, TimeUnit.MILLISECONDS);
            return again;
        });
    }

    /**
     * The leader's probe of {@code shard} ({@code leaderProbes}), asked again while the group has
     * no leader to answer (a leader change or transfer: NO_LEADER, or a hop that found no one) or
     * its range version is behind the map's (a split its group has yet to apply): the answer, or
     * the last refusal once {@code deadlineNanos} has passed.
     */
    private CompletableFuture<MedianKeyResponse> atLeaderInStep(ShardDescriptor shard, long deadlineNanos) {
        return leaderProbes.apply(shard).handle((probe, error) -> {
            boolean again = error != null ? leaderChanging(error)
                    : probe.getRangeVersion() != shard.epoch().rangeVersion();
            if (!again || System.nanoTime() - deadlineNanos > 0) {
                return error != null ? CompletableFuture.<MedianKeyResponse>failedFuture(error)
                        : CompletableFuture.completedFuture(probe);
            }
            return CompletableFuture.runAsync(() -> { },
                            CompletableFuture.delayedExecutor(POLL_MILLIS, TimeUnit.MILLISECONDS, scheduler))
                    .thenCompose(x -> atLeaderInStep(shard, deadlineNanos));
        }).thenCompose(next -> next);
    }

    /** Whether a leader probe failed for want of a leader (or of an answer from one), which passes. */
    private static boolean leaderChanging(Throwable error) {
        return ShardError.of(error).map(code -> switch (code) {
            case NO_LEADER, NOT_HOSTED, TIMEOUT, STOPPING -> true;
            default -> false;
        }).orElseGet(() -> {
            // a hop to a node that went away or did not answer in time
            Status.Code code = Status.fromThrowable(error).getCode();
            return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
        });
    }

    /**
     * The shards a merge request names, left then right, checked against this node's map. Range
     * (and geo) shards must be adjacent, left first; hash shards join any two slot sets, as the
     * map's Merge does. One shard named alone takes its neighbour: for a range shard the one its
     * range touches on that side, for a hash shard the owner of the slot just after its highest
     * slot (or just before its lowest), which undoes a split of contiguous slots.
     */
    private ShardDescriptor[] mergePair(MergeShardsRequest request) {
        ShardState state = meta.shards();
        if (request.getLeft() == 0 && request.getRight() == 0) {
            throw ShardError.INVALID_REQUEST.toStatus("name the shard to merge into (left), the one merged (right), or both");
        }
        ShardDescriptor left = request.getLeft() == 0 ? null : shard(ShardId.of(request.getLeft()));
        ShardDescriptor right = request.getRight() == 0 ? null : shard(ShardId.of(request.getRight()));
        ShardDescriptor named = left != null ? left : right;
        if (named.span() instanceof ShardSpan.Directed) {
            throw ShardError.MERGE_NOT_RANGE.toStatus(named.id() + " is a directory shard: directory keyspaces do not"
                    + " merge; edit the directory");
        }
        if (left == null || right == null) {
            boolean findRight = right == null;
            ShardDescriptor neighbour = neighbour(state.map(), named, findRight).orElseThrow(() -> ShardError
                    .MERGE_NOT_ADJACENT.toStatus(named.id() + " has no " + (findRight ? "right" : "left")
                            + " neighbour"));
            left = findRight ? named : neighbour;
            right = findRight ? neighbour : named;
        }
        if (left.id().equals(right.id())) {
            throw ShardError.INVALID_REQUEST.toStatus("a shard does not merge with itself: " + left.id());
        }
        if (!left.keyspace().equals(right.keyspace())) {
            throw ShardError.MERGE_KEYSPACE_MISMATCH.toStatus(left.id() + " is in " + left.keyspace() + ", "
                    + right.id() + " in " + right.keyspace());
        }
        switch (left.span()) {
            case KeyRange l -> {
                KeyRange r = right.keyRange();
                if (!l.end().equals(r.start())) {
                    throw ShardError.MERGE_NOT_ADJACENT.toStatus(right.id() + " " + r + " does not follow " + left.id()
                            + " " + l + ": name the left shard first");
                }
            }
            case HashSlots h -> { } // the keyspace's shards own disjoint slots: any two join
            case ShardSpan.Directed d -> throw ShardError.MERGE_NOT_RANGE.toStatus("directory shards do not merge");
        }
        for (ShardDescriptor d : List.of(left, right)) {
            if (state.move(d.id()).isPresent() || state.mergeInto(d.id()).isPresent()) {
                throw ShardError.MERGE_IN_PROGRESS.toStatus(d.id() + " has a move or merge in progress");
            }
        }
        if (!left.replicas().equals(right.replicas()) || !left.learners().isEmpty()) {
            throw ShardError.MERGE_NOT_COLOCATED.toStatus("a merge needs the same voters on the same nodes and no"
                    + " learners: " + left.id() + " " + left.replicas() + ", " + right.id() + " " + right.replicas()
                    + "; move replicas to co-locate them first");
        }
        return new ShardDescriptor[] {left, right};
    }

    /** {@code named}'s neighbour on the right (or left) in its keyspace of {@code map}, if it has one. */
    static Optional<ShardDescriptor> neighbour(ShardMap map, ShardDescriptor named, boolean findRight) {
        return switch (named.span()) {
            case KeyRange range -> map.shards(named.keyspace()).stream()
                    .filter(d -> d.span() instanceof KeyRange r && (findRight
                            ? r.start().equals(range.end()) && !range.end().isEnd()
                            : r.end().equals(range.start()) && !range.start().equals(Key.MIN)))
                    .findFirst();
            case HashSlots slots -> {
                if (slots.isEmpty()) {
                    yield Optional.empty();
                }
                int slot = findRight ? slots.ranges().getLast().end() : slots.ranges().getFirst().start() - 1;
                yield map.shards(named.keyspace()).stream()
                        .filter(d -> !d.id().equals(named.id()) && d.span() instanceof HashSlots h && h.contains(slot))
                        .findFirst();
            }
            case ShardSpan.Directed d -> Optional.empty();
        };
    }

    // ------------------------------------------------------------------ directory and slot moves

    /**
     * Routes a directory entry's keys to a shard of its keyspace: the meta group applies the edit
     * and records the data move it needs ({@link Relocation}); the groups then carry the rows over
     * ({@link ShardReconciler}, {@link RelocationPlan}). With {@code wait}, answers once the data
     * is where the table says.
     */
    @Override
    public void putDirectoryEntry(PutDirectoryEntryRequest request, StreamObserver<DirectoryEditResponse> out) {
        directoryEdit(request.getKeyspace(), request.getEntry(), true, request.getWait(), out);
    }

    /** Removes a directory entry: its keys fall back to a shorter prefix or the default rule, and move there. */
    @Override
    public void removeDirectoryEntry(RemoveDirectoryEntryRequest request, StreamObserver<DirectoryEditResponse> out) {
        directoryEdit(request.getKeyspace(), request.getEntry(), false, request.getWait(), out);
    }

    private void directoryEdit(String keyspace, DirectoryEntry entry, boolean put, boolean wait,
                               StreamObserver<DirectoryEditResponse> out) {
        Directory.Match match;
        try {
            match = matchOf(entry);
            if (put && entry.getShard() <= 0) {
                throw ShardError.INVALID_REQUEST.toStatus("name the shard the entry routes to");
            }
        } catch (StatusRuntimeException refused) {
            out.onError(refused);
            return;
        }
        answer(fresh().thenCompose(x -> {
            ShardState s = meta.shards();
            Directory directory = directoryOf(s, keyspace);
            if (put) {
                Optional<ShardDescriptor> target = s.map().shard(ShardId.of(entry.getShard()));
                if (target.isEmpty() || !target.get().keyspace().equals(keyspace)) {
                    throw ShardError.DIRECTORY_SHARD_MISMATCH.toStatus("s" + entry.getShard() + " is not a shard of "
                            + keyspace);
                }
            } else if (directory.entry(match).isEmpty()) {
                throw ShardError.DIRECTORY_ENTRY_NOT_FOUND.toStatus("no entry " + match + " in " + keyspace);
            }
            if (put) {
                requireFounded(s.map().shard(ShardId.of(entry.getShard())).orElseThrow());
            }
            s.relocationOf(keyspace).ifPresent(r -> {
                throw ShardError.DIRECTORY_MOVE_IN_PROGRESS.toStatus("the data of an earlier edit of " + keyspace
                        + " is still moving (relocation " + r.id() + "): edit again once it is done");
            });
            ShardChange change = put ? new ShardChange.PutDirectoryEntry(keyspace, match, ShardId.of(entry.getShard()))
                    : new ShardChange.RemoveDirectoryEntry(keyspace, match);
            return propose(ShardState.command(change));
        }).thenCompose(answer -> {
            if (answer instanceof ShardState.RelocationRefused r) {
                throw ShardError.DIRECTORY_MOVE_IN_PROGRESS.toStatus(r.reason());
            }
            if (answer instanceof ChangeResult.Rejected r && r.reason().startsWith("no directory entry")) {
                throw ShardError.DIRECTORY_ENTRY_NOT_FOUND.toStatus(r.reason());
            }
            refuseUnlessApplied(answer, keyspace);
            var applied = (ChangeResult.Applied) answer;
            long relocation = applied.moves().isEmpty() ? 0 : applied.map().version();
            var response = DirectoryEditResponse.newBuilder().setMoves(applied.moves().size())
                    .setRelocation(relocation).setMapVersion(applied.map().version());
            return awaitRelocation(relocation, wait).thenApply(done -> response.setDone(done).build());
        }), out);
    }

    /**
     * NO_LEADER (retry) unless {@code target} has had a leader: a new shard's group is founded by its
     * voters at its first epoch, which a data move into it raises, so the move waits until it runs.
     */
    private static void requireFounded(ShardDescriptor target) {
        if (target.leaderHint() == null) {
            throw ShardError.NO_LEADER.toStatus(target.id() + " has no leader yet: move keys to it once it runs");
        }
    }

    /** Completes with whether relocation {@code id} is done: at once unless {@code wait}, else once it is (or timed out). */
    private CompletableFuture<Boolean> awaitRelocation(long id, boolean wait) {
        if (id == 0 || !wait) {
            return CompletableFuture.completedFuture(id == 0 || !meta.shards().relocations().containsKey(id));
        }
        return await(s -> !s.relocations().containsKey(id), WAIT_MILLIS_MAX).handle((s, timedOut) -> timedOut == null);
    }

    @Override
    public void listDirectory(ListDirectoryRequest request, StreamObserver<ListDirectoryResponse> out) {
        answer(fresh().thenApply(x -> {
            ShardState s = meta.shards();
            Directory directory = directoryOf(s, request.getKeyspace());
            var b = ListDirectoryResponse.newBuilder().setMapVersion(s.map().version());
            directory.exactEntries().forEach((k, shard) -> b.addEntries(DirectoryEntry.newBuilder()
                    .setKey(ByteString.copyFrom(k.toBytes())).setShard(shard.value())));
            directory.prefixEntries().forEach((k, shard) -> b.addEntries(DirectoryEntry.newBuilder()
                    .setPrefix(ByteString.copyFrom(k.toBytes())).setShard(shard.value())));
            directory.defaultShards().forEach(id -> b.addDefaultShards(id.value()));
            s.relocationOf(request.getKeyspace()).ifPresent(r -> b.setRelocationInProgress(r.id()));
            return b.build();
        }), out);
    }

    private static Directory directoryOf(ShardState s, String keyspace) {
        KeyspaceSpec spec = s.map().keyspace(keyspace).orElseThrow(
                () -> ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + keyspace));
        if (!(spec.sharding() instanceof Sharding.Directory)) {
            throw ShardError.NOT_DIRECTORY.toStatus(keyspace + " is a " + ShardCodec.shardingName(spec.sharding())
                    + " keyspace, not a directory one");
        }
        return s.map().directory(keyspace).orElseThrow();
    }

    /** The entry's match: an exact key or a prefix, neither empty nor longer than a directory key may be. */
    static Directory.Match matchOf(DirectoryEntry entry) {
        ByteString key = switch (entry.getMatchCase()) {
            case KEY -> entry.getKey();
            case PREFIX -> entry.getPrefix();
            case MATCH_NOT_SET -> throw ShardError.INVALID_REQUEST.toStatus("an entry names a key or a prefix");
        };
        if (key.isEmpty() || key.size() > Directory.ENTRY_KEY_BYTES_MAX) {
            throw ShardError.INVALID_REQUEST.toStatus("a directory key or prefix has 1 to "
                    + Directory.ENTRY_KEY_BYTES_MAX + " bytes: " + key.size());
        }
        Key k = Key.of(key.toByteArray());
        return entry.getMatchCase() == DirectoryEntry.MatchCase.KEY ? new Directory.Exact(k) : new Directory.Prefix(k);
    }

    /**
     * Adds an empty shard to a hash or directory keyspace, its voters on the nodes named or, without
     * any, on the started voting members holding the fewest replicas. Answers once it has a leader.
     */
    @Override
    public void addShard(AddShardRequest request, StreamObserver<AddShardResponse> out) {
        answer(fresh().thenCompose(x -> {
            ShardState s = meta.shards();
            KeyspaceSpec spec = s.map().keyspace(request.getKeyspace()).orElseThrow(
                    () -> ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + request.getKeyspace()));
            if (!(spec.sharding() instanceof Sharding.Hash) && !(spec.sharding() instanceof Sharding.Directory)) {
                throw ShardError.INVALID_REQUEST.toStatus(spec.name() + " grows by splitting: only hash and directory"
                        + " keyspaces take new empty shards");
            }
            List<NodeId> started = nodes().stream().map(Node::id).toList();
            List<NodeId> voters;
            if (request.getNodesCount() > 0) {
                voters = request.getNodesList().stream().map(n -> node(n, "replica")).toList();
                for (NodeId n : voters) {
                    if (!started.contains(n)) {
                        throw ShardError.NODE_NOT_FOUND.toStatus(n + " is not a started voting member");
                    }
                }
            } else {
                voters = started.stream().sorted(java.util.Comparator.comparingLong((NodeId n) -> s.map().shards()
                        .stream().filter(d -> d.hasReplicaOn(n)).count()).thenComparing(n -> n))
                        .limit(spec.replicationFactor()).toList();
            }
            long created = s.map().nextShardId();
            return propose(ShardState.command(new ShardChange.AddShard(spec.name(), voters))).thenCompose(answer -> {
                refuseUnlessApplied(answer, spec.name());
                ShardId id = ((ChangeResult.Applied) answer).changed().getFirst().id();
                check(id.value() >= created, "a new shard gets a new id");
                return await(st -> st.map().shard(id).map(d -> d.leaderHint() != null).orElse(true), WAIT_MILLIS_MAX)
                        .handle((st, timedOut) -> AddShardResponse.newBuilder()
                                .setShard(shardInfo(meta.shards(), shard(id))).build());
            });
        }), out);
    }

    /**
     * Moves hash slots between two shards of a hash keyspace, with their data, as a directory edit
     * moves keys. With {@code wait}, answers once the data is at the target.
     */
    @Override
    public void moveSlots(MoveSlotsRequest request, StreamObserver<MoveSlotsResponse> out) {
        answer(fresh().thenCompose(x -> {
            ShardState s = meta.shards();
            ShardDescriptor from = shard(request.getFrom() > 0 ? ShardId.of(request.getFrom()) : null);
            ShardDescriptor to = shard(request.getTo() > 0 ? ShardId.of(request.getTo()) : null);
            if (!(from.span() instanceof HashSlots owned) || !(to.span() instanceof HashSlots)
                    || !from.keyspace().equals(to.keyspace()) || from.id().equals(to.id())) {
                throw ShardError.INVALID_REQUEST.toStatus("slots move between two shards of one hash keyspace: "
                        + from.id() + " " + from.span() + ", " + to.id() + " " + to.span());
            }
            int slotCount = ((Sharding.Hash) s.map().keyspace(from.keyspace()).orElseThrow().sharding()).slotCount();
            int start = request.getSlotStart();
            int end = request.getSlotEnd();
            if (start < 0 || end > slotCount || start >= end) {
                throw ShardError.INVALID_REQUEST.toStatus("slots [" + Integer.toUnsignedString(start) + ", "
                        + Integer.toUnsignedString(end) + ") are not a non-empty run of the " + slotCount + " slots");
            }
            HashSlots slots = HashSlots.of(new SlotRange(start, end));
            requireFounded(to);
            if (!owned.containsAll(slots)) {
                throw ShardError.INVALID_REQUEST.toStatus(from.id() + " does not own all of " + slots + ": it owns "
                        + owned);
            }
            s.relocationOf(from.keyspace()).ifPresent(r -> {
                throw ShardError.DATA_MOVE_IN_PROGRESS.toStatus("keys of " + from.keyspace() + " are still moving"
                        + " (relocation " + r.id() + "): move slots once that is done");
            });
            return propose(ShardState.command(new ShardChange.MoveSlots(from.id(), from.epoch(), to.id(), to.epoch(),
                    slots))).thenCompose(answer -> {
                refuseUnlessApplied(answer, from.id() + "->" + to.id());
                long relocation = ((ChangeResult.Applied) answer).map().version();
                return awaitRelocation(relocation, request.getWait()).thenApply(done -> {
                    ShardState now = meta.shards();
                    return MoveSlotsResponse.newBuilder().setFrom(shardInfo(now, shard(from.id())))
                            .setTo(shardInfo(now, shard(to.id()))).setRelocation(relocation).setDone(done).build();
                });
            });
        }), out);
    }

    // ------------------------------------------------------------------ parts

    /** The spec a request asks for; INVALID_KEYSPACE naming what is wrong. */
    static KeyspaceSpec specOf(CreateKeyspaceRequest r) {
        if (r.getName().equals("default")) {
            throw ShardError.INVALID_KEYSPACE.toStatus("default is the etcd keyspace; choose another name");
        }
        try {
            int shards = r.getInitialShardCount() == 0 ? 1 : r.getInitialShardCount();
            Sharding sharding = switch (r.getSharding()) {
                case "range", "" -> new Sharding.Range();
                case "hash" -> new Sharding.Hash(r.getHashSlotCount() == 0 ? Sharding.Hash.SLOT_COUNT_DEFAULT
                        : r.getHashSlotCount());
                case "directory" -> new Sharding.Directory();
                case "geo" -> {
                    String delimiter = r.getGeoDelimiter().isEmpty() ? "/" : r.getGeoDelimiter();
                    if (delimiter.length() != 1 || delimiter.charAt(0) > 0x7F) {
                        throw ShardError.INVALID_KEYSPACE.toStatus("a geo delimiter is one ASCII character");
                    }
                    yield new Sharding.Geo((byte) delimiter.charAt(0), r.getGeoRegionsList(), r.getGeoHomeRegion());
                }
                default -> throw ShardError.INVALID_KEYSPACE.toStatus("sharding is range, hash, directory or geo, not "
                        + r.getSharding());
            };
            return new KeyspaceSpec(r.getName(), sharding, r.getReplicationFactor(), shards,
                    new Placement(r.getRegionsList(), r.getReplicaPerRegion()));
        } catch (IllegalArgumentException bad) {
            throw ShardError.INVALID_KEYSPACE.toStatus(bad.getMessage());
        }
    }

    /** The nodes that may hold replicas: started voting members, with the labels they published. */
    private List<Node> nodes() {
        return ShardBalancer.nodesOf(meta.members(), n -> Node.State.UP);
    }

    private ShardDescriptor shard(ShardId id) {
        if (id == null) {
            throw ShardError.INVALID_REQUEST.toStatus("a shard id is positive");
        }
        return meta.shards().map().shard(id)
                .orElseThrow(() -> ShardError.SHARD_NOT_FOUND.toStatus("no shard " + id));
    }

    private static NodeId node(String name, String what) {
        if (name.isEmpty()) {
            throw ShardError.INVALID_REQUEST.toStatus("name the " + what + " node");
        }
        return NodeId.of(name);
    }

    private static void refuseUnlessApplied(Object answer, String subject) {
        switch (answer) {
            case ChangeResult.Applied a -> { }
            case ChangeResult.StaleEpoch s -> throw ShardError.STALE_EPOCH.toStatus(
                    "the shard changed meanwhile, now " + s.current());
            case ChangeResult.UnknownShard u -> throw ShardError.SHARD_NOT_FOUND.toStatus("no shard " + u.shard());
            case ChangeResult.UnknownKeyspace u -> throw ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace "
                    + u.keyspace());
            case ChangeResult.Rejected r -> throw (r.reason().endsWith(" exists")
                    ? ShardError.KEYSPACE_EXISTS : ShardError.REJECTED).toStatus(r.reason());
            case ShardState.MoveRefused m -> throw ShardError.MOVE_REFUSED.toStatus(m.reason());
            case ShardState.MergeRefused m -> throw ShardError.MERGE_IN_PROGRESS.toStatus(m.reason());
            case ShardState.RelocationRefused m -> throw ShardError.DATA_MOVE_IN_PROGRESS.toStatus(m.reason());
            case ShardState.Malformed m -> throw ShardError.INVALID_REQUEST.toStatus(m.detail());
            case null, default -> throw ShardError.REJECTED.toStatus("unexpected answer for " + subject + ": " + answer);
        }
    }

    static KeyspaceInfo info(ShardState s, String name) {
        KeyspaceSpec spec = s.map().keyspace(name).orElseThrow(
                () -> ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + name));
        return KeyspaceInfo.newBuilder().setSpec(ShardCodec.encode(spec)).setKeyspaceId(s.keyspaceId(name).orElse(0L))
                .setShardCount(s.map().shards(name).size()).build();
    }

    static ShardInfo shardInfo(ShardState s, ShardDescriptor d) {
        var b = ShardInfo.newBuilder().setShard(ShardCodec.encode(d)).setSpan(d.span().toString());
        s.move(d.id()).ifPresent(m -> b.setMovingFrom(m.from().value()).setMovingTo(m.to().value()));
        s.mergeInto(d.id()).ifPresent(m -> b.setMergingFrom(m.source().id().value()));
        s.relocationInvolving(d.id()).ifPresent(r -> b.setRelocation(r.id()));
        return b.build();
    }

    /** A read barrier on the meta group: this node's map is then at least as new as any committed change. */
    private CompletableFuture<Long> fresh() {
        return whileElecting(() -> runtime.readBarrier(metaGroup), deadlineNanos())
                .orTimeout(requestTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    private long deadlineNanos() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMillis);
    }

    /**
     * {@code call}, tried again every {@link #POLL_MILLIS} while this node's replica of the meta
     * group knows no leader (NotLeaderException: nothing was proposed or read), until {@code
     * deadlineNanos}: a request made during an election waits for its end, as etcd holds one,
     * rather than failing at once with a retryable NO_LEADER.
     */
    private <T> CompletableFuture<T> whileElecting(Supplier<CompletableFuture<T>> call, long deadlineNanos) {
        return call.get().exceptionallyCompose(error -> {
            Throwable cause = error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
            if (!(cause instanceof NotLeaderException) || System.nanoTime() - deadlineNanos > 0) {
                return CompletableFuture.failedFuture(error);
            }
            var again = new CompletableFuture<T>();
            scheduler.schedule(() -> whileElecting(call, deadlineNanos).whenComplete((value, failure) -> {
                if (failure == null) {
                    again.complete(value);
                } else {
                    again.completeExceptionally(failure);
                }
            }), POLL_MILLIS, TimeUnit.MILLISECONDS);
            return again;
        });
    }

    /**
     * Proposes {@code command}; when its outcome is unknown (the meta leader changed under it),
     * reads the map again and answers Applied if {@code applied} shows the change made (by this
     * proposal, or a retry of it), else the error.
     */
    private CompletableFuture<Object> proposeOrFind(ShardMapCommand command, Predicate<ShardState> applied) {
        return propose(command).exceptionallyCompose(error -> fresh().thenApply(x -> {
            if (applied.test(meta.shards())) {
                return new ChangeResult.Applied(meta.shards().map(), List.of(), List.of(), List.of());
            }
            throw error instanceof CompletionException c && c.getCause() != null
                    ? new CompletionException(c.getCause()) : new CompletionException(error);
        }));
    }

    private CompletableFuture<Object> propose(ShardMapCommand command) {
        byte[] proposal = MetaStateMachine.command(MetaCommand.newBuilder().setShardMap(command).build());
        return whileElecting(() -> runtime.propose(metaGroup, proposal), deadlineNanos())
                .orTimeout(requestTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Completes once one of {@code shard}'s replicas answers it (a median-key probe), or at
     * {@code deadlineNanos} in any case: the caller answers with the map either way.
     */
    private CompletableFuture<Void> awaitServing(ShardDescriptor shard, long deadlineNanos) {
        var result = new CompletableFuture<Void>();
        medianKeys.apply(shard).whenComplete((median, notYet) -> {
            if (notYet == null || System.nanoTime() - deadlineNanos > 0) {
                result.complete(null);
                return;
            }
            scheduler.schedule(() -> awaitServing(shard, deadlineNanos).whenComplete((v, e) -> result.complete(null)),
                    POLL_MILLIS, TimeUnit.MILLISECONDS);
        });
        return result;
    }

    /** Completes with the state once {@code condition} holds, or fails with TIMEOUT after {@code millis}. */
    private CompletableFuture<ShardState> await(Predicate<ShardState> condition, long millis) {
        var result = new CompletableFuture<ShardState>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            ShardState s = meta.shards();
            if (condition.test(s)) {
                result.complete(s);
            } else if (System.nanoTime() - deadline > 0) {
                result.completeExceptionally(ShardError.TIMEOUT.toStatus("not done within " + millis + " ms"));
            } else {
                scheduler.schedule(poll[0], POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
        };
        scheduler.execute(poll[0]);
        return result;
    }

    private <R> void answer(CompletableFuture<R> result, StreamObserver<R> out) {
        Answers.answer(result, out, executor);
    }
}
