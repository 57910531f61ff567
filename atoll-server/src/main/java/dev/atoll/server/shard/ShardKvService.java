package dev.atoll.server.shard;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.shardkv.DeleteRequest;
import dev.atoll.proto.shardkv.DeleteResponse;
import dev.atoll.proto.shardkv.FetchMovedRequest;
import dev.atoll.proto.shardkv.FetchMovedResponse;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.GetResponse;
import dev.atoll.proto.shardkv.KeyValue;
import dev.atoll.proto.shardkv.MedianKeyRequest;
import dev.atoll.proto.shardkv.MedianKeyResponse;
import dev.atoll.proto.shardkv.NodeShardStatsRequest;
import dev.atoll.proto.shardkv.NodeShardStatsResponse;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.PutResponse;
import dev.atoll.proto.shardkv.RangeRequest;
import dev.atoll.proto.shardkv.RangeResponse;
import dev.atoll.proto.shardkv.ReplicaStatsRecord;
import dev.atoll.proto.shardkv.RouteToken;
import dev.atoll.proto.shardkv.SampledKeyRecord;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.proto.shardkv.ShardRangeRequest;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.NotLeaderException;
import dev.atoll.server.runtime.ProposalFailedException;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeySample;
import dev.atoll.shard.RouteCheck;
import dev.atoll.shard.ScanStitch;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.SplitPlanner;
import dev.atoll.shard.replica.ShardResult;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The KV API of keyspaces other than {@code default}, on every node. A request names its
 * keyspace; the node routes the key with its copy of the shard map and serves the request if
 * it hosts the shard (a write or a linearizable read through the shard's Raft group, which
 * relays it to the leader; a serializable read from the local replica), else forwards it once
 * to the node the map names as the shard's leader, then to the other replicas if that node
 * cannot serve it. A forwarded request is never forwarded again. A request carrying a shard id
 * and epoch the key is no longer in is answered "shard moved" with the current descriptor.
 * A range is stitched from its shards' parts by the pure {@link ScanStitch} (what the simulator
 * checks): range and geo keyspaces shard by shard in key order, stopping once the limit is
 * reached; hash and directory keyspaces from every shard at once, merged in key order.
 *
 * <p>Handlers never block: continuations run on {@code executor}.
 */
public final class ShardKvService extends ShardKVGrpc.ShardKVImplBase {
    private static final Logger log = LoggerFactory.getLogger(ShardKvService.class);
    public static final int KEY_BYTES_MAX = 4096;
    public static final int RANGE_LIMIT_MAX = 10_000;
    /** Keys in a split sample when the request names no count. */
    static final int SAMPLE_KEYS_DEFAULT = 256;
    /** Most bytes of rows one FetchMoved answer carries (about: at least one row). */
    static final long FETCH_MOVED_BYTES_MAX = 512 << 10;

    static final Metadata.Key<String> FORWARDED_BY = Metadata.Key.of("atoll-shard-forwarded-by",
            Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> FORWARDED_CONTEXT = Context.key("atoll-shard-forwarded-by");

    private final NodeRuntime runtime;
    private final MetaStateMachine meta;
    private final ShardHost host;
    private final Function<NodeId, Channel> channels;
    private final Executor executor;
    private final long requestTimeoutMillis;
    private final long valueBytesMax;
    /** Requests this node served from its own replica of each shard, since it started. */
    private final java.util.concurrent.ConcurrentHashMap<ShardId, java.util.concurrent.atomic.LongAdder> served =
            new java.util.concurrent.ConcurrentHashMap<>();

    public ShardKvService(NodeRuntime runtime, MetaStateMachine meta, ShardHost host,
                          Function<NodeId, Channel> channels, Executor executor, long requestTimeoutMillis,
                          long valueBytesMax) {
        this.runtime = runtime;
        this.meta = meta;
        this.host = host;
        this.channels = channels;
        this.executor = executor;
        this.requestTimeoutMillis = requestTimeoutMillis;
        // the replica's command refuses a larger value
        this.valueBytesMax = Math.min(valueBytesMax, dev.atoll.shard.replica.ShardCommand.VALUE_BYTES_MAX);
    }

    /** The interceptor this service is bound with, so that forwarded requests are recognised. */
    public static ServerInterceptor forwardingMarker() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                               ServerCallHandler<Q, A> next) {
                String by = headers.get(FORWARDED_BY);
                if (by == null) {
                    return next.startCall(call, headers);
                }
                return Contexts.interceptCall(Context.current().withValue(FORWARDED_CONTEXT, by), call, headers, next);
            }
        };
    }

    private static boolean forwarded() {
        return FORWARDED_CONTEXT.get() != null;
    }

    // ------------------------------------------------------------------ the API

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> out) {
        boolean forwarded = forwarded();
        ShardDescriptor shard;
        try {
            checkKey(request.getKey());
            if (request.getValue().size() > valueBytesMax) {
                throw ShardError.INVALID_REQUEST.toStatus("a value is at most " + valueBytesMax + " bytes");
            }
            shard = route(request.getKeyspace(), request.getKey(), request.hasRoute() ? request.getRoute() : null);
        } catch (StatusRuntimeException refused) {
            out.onError(refused);
            return;
        }
        byte[] command = ShardStateMachine.put(shard.id(), shard.epoch(), request.getKey().toByteArray(),
                request.getValue().toByteArray());
        answer(onShard(shard, forwarded, replica -> propose(replica, command).thenApply(result -> switch (result) {
            case ShardStateMachine.Written w -> PutResponse.newBuilder().setServedBy(token(shard))
                    .setIndex(w.index()).build();
            default -> throw refusal(result, request.getKeyspace(), request.getKey());
        }), (stub, x) -> stub.put(request)), out);
    }

    @Override
    public void delete(DeleteRequest request, StreamObserver<DeleteResponse> out) {
        boolean forwarded = forwarded();
        ShardDescriptor shard;
        try {
            checkKey(request.getKey());
            shard = route(request.getKeyspace(), request.getKey(), request.hasRoute() ? request.getRoute() : null);
        } catch (StatusRuntimeException refused) {
            out.onError(refused);
            return;
        }
        byte[] command = ShardStateMachine.delete(shard.id(), shard.epoch(), request.getKey().toByteArray());
        answer(onShard(shard, forwarded, replica -> propose(replica, command).thenApply(result -> switch (result) {
            case ShardStateMachine.Deleted d -> DeleteResponse.newBuilder().setServedBy(token(shard))
                    .setDeleted(d.existed()).build();
            default -> throw refusal(result, request.getKeyspace(), request.getKey());
        }), (stub, x) -> stub.delete(request)), out);
    }

    @Override
    public void get(GetRequest request, StreamObserver<GetResponse> out) {
        boolean forwarded = forwarded();
        ShardDescriptor shard;
        try {
            checkKey(request.getKey());
            shard = route(request.getKeyspace(), request.getKey(), request.hasRoute() ? request.getRoute() : null);
        } catch (StatusRuntimeException refused) {
            out.onError(refused);
            return;
        }
        answer(onShard(shard, forwarded, replica -> barrier(replica, request.getSerializable()).thenApply(i -> {
            Optional<byte[]> value;
            try {
                value = replica.stateMachine().get(request.getKey().toByteArray());
            } catch (ShardStateMachine.NotServed moved) {
                throw moved(request.getKeyspace(), request.getKey());
            }
            // a directory shard's replica spans every key: the table decides, so the replica must be at
            // the range version the route was made with (a key handed off and released reads as absent)
            if (shard.span() instanceof ShardSpan.Directed && replica.stateMachine().bounds()
                    .map(bs -> bs.epoch().rangeVersion() != shard.epoch().rangeVersion()).orElse(true)) {
                throw moved(request.getKeyspace(), request.getKey());
            }
            var b = GetResponse.newBuilder().setServedBy(token(shard)).setFound(value.isPresent());
            value.ifPresent(v -> b.setValue(ByteString.copyFrom(v)));
            return b.build();
        }), (stub, x) -> stub.get(request)), out);
    }

    @Override
    public void shardRange(ShardRangeRequest request, StreamObserver<RangeResponse> out) {
        answer(shardRange(request, forwarded()), out);
    }

    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> out) {
        ShardMap map = meta.shards().map();
        if (map.keyspace(request.getKeyspace()).isEmpty()) {
            out.onError(ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + request.getKeyspace()));
            return;
        }
        if (request.getStart().size() > KEY_BYTES_MAX || request.getEnd().size() > KEY_BYTES_MAX) {
            out.onError(ShardError.INVALID_REQUEST.toStatus("range bounds are at most " + KEY_BYTES_MAX + " bytes"));
            return;
        }
        int limit = request.getLimit() == 0 ? RANGE_LIMIT_MAX : Math.min(request.getLimit(), RANGE_LIMIT_MAX);
        Key start = Key.of(request.getStart().toByteArray());
        Key end = request.getEnd().isEmpty() ? Key.END : Key.of(request.getEnd().toByteArray());
        if (start.compareTo(end) >= 0) {
            out.onNext(RangeResponse.getDefaultInstance());
            out.onCompleted();
            return;
        }
        var scan = new ScanStitch<KeyValue>(new KeyRange(start, end), limit, kv -> Key.of(kv.getKey().toByteArray()));
        CompletableFuture<ScanStitch<KeyValue>> stitched;
        if (ScanStitch.inKeyOrder(map.keyspace(request.getKeyspace()).orElseThrow().sharding())) {
            stitched = inKeyOrder(map, request, scan);
        } else {
            // hash and directory keyspaces: a key range touches every shard
            ScanStitch.Part part = scan.everyShardPart();
            List<CompletableFuture<RangeResponse>> parts = map.shards(request.getKeyspace()).stream()
                    .map(s -> shardRange(part(request, s, part), false)).toList();
            stitched = CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(x -> {
                scan.acceptEveryShard(parts.stream().map(p -> p.join().getPairsList()).toList());
                return scan;
            });
        }
        answer(stitched.thenApply(s -> RangeResponse.newBuilder().addAllPairs(s.rows()).setMore(s.more()).build()),
                out);
    }

    /** Range and geo keyspaces: shard by shard in key order, by one map, each asked only for what is still missing. */
    private CompletableFuture<ScanStitch<KeyValue>> inKeyOrder(ShardMap map, RangeRequest request,
                                                               ScanStitch<KeyValue> scan) {
        if (scan.done()) {
            return CompletableFuture.completedFuture(scan);
        }
        ShardDescriptor shard = map.lookup(request.getKeyspace(), scan.cursor()).orElseThrow();
        ScanStitch.Part part = scan.nextPart(shard.keyRange());
        return shardRange(part(request, shard, part), false).thenComposeAsync(r -> {
            scan.accept(part, r.getPairsList());
            return inKeyOrder(map, request, scan);
        }, executor);
    }

    /** The request for one shard's part of a range. */
    private static ShardRangeRequest part(RangeRequest request, ShardDescriptor shard, ScanStitch.Part part) {
        Key end = part.range().end();
        return ShardRangeRequest.newBuilder().setKeyspace(request.getKeyspace()).setRoute(token(shard))
                .setStart(ByteString.copyFrom(part.range().start().toBytes()))
                .setEnd(end.isEnd() ? ByteString.EMPTY : ByteString.copyFrom(end.toBytes()))
                .setLimit(part.limit()).setSerializable(request.getSerializable()).build();
    }

    private CompletableFuture<RangeResponse> shardRange(ShardRangeRequest request, boolean forwarded) {
        ShardMap map = meta.shards().map();
        Optional<ShardDescriptor> shard = request.hasRoute() && request.getRoute().getShard() > 0
                ? map.shard(ShardId.of(request.getRoute().getShard())) : Optional.empty();
        if (shard.isEmpty() || !shard.get().keyspace().equals(request.getKeyspace())) {
            return CompletableFuture.failedFuture(ShardError.SHARD_NOT_FOUND.toStatus("no shard "
                    + request.getRoute().getShard() + " in " + request.getKeyspace()));
        }
        if (shard.get().epoch().rangeVersion() != request.getRoute().getEpoch().getRangeVersion()) {
            return CompletableFuture.failedFuture(ShardError.shardMoved(shard.get()));
        }
        byte[] asked = request.getEnd().isEmpty() ? null : request.getEnd().toByteArray();
        // a replica that has not applied a split yet still holds the keys after it: cut to the map's span
        byte[] end = shard.get().span() instanceof KeyRange r && !r.end().isEnd()
                && (asked == null || Key.of(asked).compareTo(r.end()) > 0) ? r.end().toBytes() : asked;
        // and from the span's start: a part asked from before it (a whole shard's rows: no start) is the span's
        byte[] start = shard.get().span() instanceof KeyRange r
                && Key.of(request.getStart().toByteArray()).compareTo(r.start()) < 0
                ? r.start().toBytes() : request.getStart().toByteArray();
        int limit = request.getLimit() == 0 ? RANGE_LIMIT_MAX : Math.min(request.getLimit(), RANGE_LIMIT_MAX + 1);
        return onShard(shard.get(), forwarded, replica -> barrier(replica, request.getSerializable()).thenApply(i -> {
            var b = RangeResponse.newBuilder();
            List<ShardStore.KeyValue> found;
            try {
                found = replica.stateMachine().scanPart(start, end, limit);
            } catch (ShardStateMachine.NotServed moved) {
                throw moved(request.getKeyspace(), request.getStart());
            }
            // a hash or directory replica at another range version than the route holds other keys (a
            // split, merge or data move it has yet to apply, or one the node's map has yet to show) and
            // its rows cannot be cut to the map's span as a range shard's are: the part is refused
            // rather than answered with keys of another shard, or without keys still on their way
            long rangeVersion = shard.get().epoch().rangeVersion();
            if (!(shard.get().span() instanceof KeyRange) && replica.stateMachine().bounds()
                    .map(bs -> bs.epoch().rangeVersion() != rangeVersion).orElse(true)) {
                throw ShardError.shardMoved(shard.get());
            }
            for (ShardStore.KeyValue kv : found) {
                b.addPairs(KeyValue.newBuilder().setKey(ByteString.copyFrom(kv.key()))
                        .setValue(ByteString.copyFrom(kv.value())));
            }
            return b.setMore(found.size() == limit).build();
        }), (stub, x) -> stub.shardRange(request));
    }

    @Override
    public void nodeShardStats(NodeShardStatsRequest request, StreamObserver<NodeShardStatsResponse> out) {
        var sample = new java.util.HashSet<ShardId>();
        request.getSampleShardsList().forEach(id -> sample.add(ShardId.of(id)));
        int keysMax = request.getSampleKeysMax() == 0 ? SAMPLE_KEYS_DEFAULT
                : Math.min(request.getSampleKeysMax(), dev.atoll.shard.KeySample.KEYS_MAX);
        answer(CompletableFuture.supplyAsync(() -> localStats(sample, keysMax), executor), out);
    }

    /**
     * Every replica this node hosts: its applied range version, its approximate size and the
     * requests served from it; with a key sample for the shards in {@code sample}.
     */
    public NodeShardStatsResponse localStats(java.util.Set<ShardId> sample, int keysMax) {
        var b = NodeShardStatsResponse.newBuilder();
        for (ShardDescriptor d : meta.shards().map().shards()) {
            Optional<ShardHost.Hosted> replica = host.replica(d.id());
            if (replica.isEmpty()) {
                continue;
            }
            ShardStateMachine sm = replica.get().stateMachine();
            var bounds = sm.bounds();
            if (bounds.isEmpty()) {
                continue; // installing a snapshot
            }
            var r = ReplicaStatsRecord.newBuilder().setShard(d.id().value())
                    .setRangeVersion(bounds.get().epoch().rangeVersion())
                    .setSizeBytes(sm.data().approximateSizeBytes())
                    .setRequests(served.getOrDefault(d.id(), new java.util.concurrent.atomic.LongAdder()).sum());
            if (sample.contains(d.id())) {
                try {
                    for (var k : KeySampler.sample(sm, keysMax)) {
                        r.addSample(SampledKeyRecord.newBuilder().setKey(ByteString.copyFrom(k.key().toBytes()))
                                .setSizeBytes(k.sizeBytes()));
                    }
                } catch (ShardStateMachine.NotServed | ShardStateMachine.ReplicaGone changed) {
                    r.clearSample(); // the replica changed under the scan: no sample this time
                }
            }
            b.addReplicas(r);
        }
        return b.build();
    }

    /** {@link #localStats} of {@code node}: this node's answered here, another's asked over the network. */
    public CompletableFuture<NodeShardStatsResponse> nodeStats(NodeId node, java.util.Set<ShardId> sample) {
        if (node.equals(runtime.self())) {
            return CompletableFuture.supplyAsync(() -> localStats(sample, SAMPLE_KEYS_DEFAULT), executor);
        }
        var request = NodeShardStatsRequest.newBuilder().setSampleKeysMax(SAMPLE_KEYS_DEFAULT);
        sample.forEach(id -> request.addSampleShards(id.value()));
        return forward(List.of(node), 0, (stub, x) -> stub.nodeShardStats(request.build()),
                ShardError.NO_LEADER.toStatus("no channel to " + node));
    }

    @Override
    public void fetchMoved(FetchMovedRequest request, StreamObserver<FetchMovedResponse> out) {
        answer(fetchMoved(request, forwarded()), out);
    }

    /**
     * A chunk of the rows a source shard handed off in a data move, from one of its replicas that
     * applied the handoff (this node's first, if it has one): for the target's leader to propose.
     */
    public CompletableFuture<FetchMovedResponse> fetchMoved(FetchMovedRequest request) {
        return fetchMoved(request, false);
    }

    private CompletableFuture<FetchMovedResponse> fetchMoved(FetchMovedRequest request, boolean forwarded) {
        Optional<ShardDescriptor> shard = request.getSource() > 0
                ? meta.shards().map().shard(ShardId.of(request.getSource())) : Optional.empty();
        if (shard.isEmpty() || !shard.get().keyspace().equals(request.getKeyspace()) || request.getTarget() <= 0
                || request.getRelocation() <= 0 || request.getFrom().size() > KEY_BYTES_MAX) {
            return CompletableFuture.failedFuture(ShardError.SHARD_NOT_FOUND.toStatus("no shard "
                    + request.getSource() + " in " + request.getKeyspace() + " to fetch moved rows from"));
        }
        long bytesMax = request.getBytesMax() == 0 ? FETCH_MOVED_BYTES_MAX
                : Math.min(request.getBytesMax(), FETCH_MOVED_BYTES_MAX);
        Key from = Key.of(request.getFrom().toByteArray());
        ShardId target = ShardId.of(request.getTarget());
        BiFunction<ShardKVGrpc.ShardKVFutureStub, Void, ListenableFuture<FetchMovedResponse>> remote =
                (stub, x) -> stub.fetchMoved(request);
        CompletableFuture<FetchMovedResponse> rows = onShard(shard.get(), forwarded, replica -> runtime
                .query(replica.groupId(), r -> replica.stateMachine().handedOffRows(request.getRelocation(), target,
                        from, bytesMax))
                .orTimeout(requestTimeoutMillis, TimeUnit.MILLISECONDS).thenApply(chunk -> {
                    if (chunk.isEmpty()) {
                        // not applied the handoff yet (or released it): another replica may have
                        throw ShardError.NOT_HOSTED.toStatus(shard.get().id() + " on " + runtime.self()
                                + " holds nothing handed off to " + target + " in relocation " + request.getRelocation());
                    }
                    var b = FetchMovedResponse.newBuilder();
                    for (dev.atoll.shard.replica.KeyValue kv : chunk.get().rows()) {
                        b.addPairs(KeyValue.newBuilder().setKey(ByteString.copyFrom(kv.key().toBytes()))
                                .setValue(ByteString.copyFrom(kv.value())));
                    }
                    if (!chunk.get().resumeAt().isEnd()) {
                        b.setResumeAt(ByteString.copyFrom(chunk.get().resumeAt().toBytes()));
                    }
                    return b.build();
                }), remote);
        if (forwarded || host.replica(shard.get().id()).isEmpty()) {
            return rows;
        }
        // this node's replica lags the handoff: one of the others may serve it
        return rows.exceptionallyCompose(error -> ShardError.of(error).orElse(null) == ShardError.NOT_HOSTED
                ? forward(candidates(shard.get()), 0, remote, error) : CompletableFuture.failedFuture(error));
    }

    @Override
    public void medianKey(MedianKeyRequest request, StreamObserver<MedianKeyResponse> out) {
        Optional<ShardDescriptor> shard = request.hasRoute()
                ? meta.shards().map().shard(ShardId.of(request.getRoute().getShard())) : Optional.empty();
        if (shard.isEmpty() || !shard.get().keyspace().equals(request.getKeyspace())) {
            out.onError(ShardError.SHARD_NOT_FOUND.toStatus("no shard " + request.getRoute().getShard() + " in "
                    + request.getKeyspace()));
            return;
        }
        answer(request.getAtLeader() ? medianKeyAtLeader(shard.get(), forwarded())
                : medianKey(shard.get(), forwarded()), out);
    }

    /**
     * The median key of {@code shard}'s data (for a hash shard, its weighted median slot), from a
     * replica (this node's if it has one): a split point.
     */
    public CompletableFuture<MedianKeyResponse> medianKey(ShardDescriptor shard) {
        return medianKey(shard, false);
    }

    private CompletableFuture<MedianKeyResponse> medianKey(ShardDescriptor shard, boolean forwarded) {
        var request = MedianKeyRequest.newBuilder().setKeyspace(shard.keyspace()).setRoute(token(shard)).build();
        return onShard(shard, forwarded, this::probe, (stub, x) -> stub.medianKey(request));
    }

    /**
     * As {@link #medianKey(ShardDescriptor)}, answered by the shard's leader replica once a read
     * barrier there has passed: the answer holds every write the group acknowledged before the
     * call, which a follower's replica may still lack (a merge's size check must not pass on a
     * lagging replica). Asked of this node's replica if it leads, else of the leader this node's
     * replica knows, the one the map names, then the other replicas; a replica that does not lead
     * refuses with NO_LEADER, which is the answer while the group changes leader: try again.
     * Fails only with a {@link ShardError} status.
     */
    public CompletableFuture<MedianKeyResponse> medianKeyAtLeader(ShardDescriptor shard) {
        return medianKeyAtLeader(shard, false);
    }

    private CompletableFuture<MedianKeyResponse> medianKeyAtLeader(ShardDescriptor shard, boolean forwarded) {
        Optional<ShardHost.Hosted> replica = host.replica(shard.id());
        LogStatus status = replica.map(r -> runtime.status(r.groupId())).orElse(null);
        if (status != null && status.role() == Role.LEADER) {
            served.computeIfAbsent(shard.id(), x -> new java.util.concurrent.atomic.LongAdder()).increment();
            // a leader deposed meanwhile still passes the barrier as a follower (its leader confirms
            // the read index), and then holds everything up to it too: linearizable either way
            return barrier(replica.get(), false).thenCompose(index -> probe(replica.get()))
                    .exceptionallyCompose(error -> CompletableFuture.failedFuture(statusOf(error)));
        }
        if (forwarded) {
            return CompletableFuture.failedFuture(ShardError.NO_LEADER.toStatus(shard.id() + " is not led from "
                    + runtime.self()));
        }
        var request = MedianKeyRequest.newBuilder().setKeyspace(shard.keyspace()).setRoute(token(shard))
                .setAtLeader(true).build();
        var nodes = new ArrayList<NodeId>();
        if (status != null && status.leader() != null && !status.leader().equals(runtime.self())) {
            nodes.add(status.leader());
        }
        candidates(shard).stream().filter(n -> !nodes.contains(n)).forEach(nodes::add);
        return forward(nodes, 0, (stub, x) -> stub.medianKey(request),
                ShardError.NO_LEADER.toStatus(shard.id() + " has no leader now"))
                .exceptionallyCompose(error -> CompletableFuture.failedFuture(statusOf(error)));
    }

    /** What a split or merge asks of {@code replica}: its range version, data bytes and median key or slot. */
    private CompletableFuture<MedianKeyResponse> probe(ShardHost.Hosted replica) {
        return CompletableFuture.supplyAsync(() -> {
            var b = MedianKeyResponse.newBuilder();
            try {
                ShardStateMachine sm = replica.stateMachine();
                var bounds = sm.bounds();
                bounds.ifPresent(bs -> b.setRangeVersion(bs.epoch().rangeVersion()));
                if (bounds.isPresent() && bounds.get().span() instanceof HashSlots slots) {
                    // a hash shard splits at a slot: the weighted median of a sample's slots, by bytes
                    SplitPlanner.balancedSlot(slots, bounds.get().slotCount(),
                            KeySampler.sample(sm, KeySample.KEYS_MAX), SplitPlanner.Reason.SIZE)
                            .ifPresent(b::setMedianSlot);
                } else {
                    sm.medianKey().ifPresent(k -> b.setFound(true).setKey(ByteString.copyFrom(k.toBytes())));
                }
                b.setDataBytes(sm.dataBytes(AdminService.MERGE_SOURCE_BYTES_MAX + 1));
            } catch (ShardStateMachine.NotServed moved) {
                throw ShardError.NOT_HOSTED.toStatus(moved.getMessage());
            }
            return b.build();
        }, executor);
    }

    // ------------------------------------------------------------------ routing

    private static void checkKey(ByteString key) {
        if (key.isEmpty()) {
            throw ShardError.INVALID_REQUEST.toStatus("a key is not empty");
        }
        if (key.size() > KEY_BYTES_MAX) {
            throw ShardError.INVALID_REQUEST.toStatus("a key is at most " + KEY_BYTES_MAX + " bytes");
        }
    }

    /** The shard holding {@code key} by this node's map; "shard moved" if the client's route is stale. */
    private ShardDescriptor route(String keyspace, ByteString key, RouteToken token) {
        ShardMap map = meta.shards().map();
        Key k = Key.of(key.toByteArray());
        Optional<ShardDescriptor> owner = map.lookup(keyspace, k);
        if (owner.isEmpty()) {
            throw ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + keyspace);
        }
        if (token != null && token.getShard() > 0) {
            RouteCheck check = map.checkRoute(keyspace, k, ShardId.of(token.getShard()),
                    ShardCodec.decode(token.getEpoch()));
            if (check instanceof RouteCheck.ShardMoved moved) {
                throw ShardError.shardMoved(moved.owner());
            }
        }
        return owner.get();
    }

    private static RouteToken token(ShardDescriptor shard) {
        return RouteToken.newBuilder().setShard(shard.id().value()).setEpoch(ShardCodec.encode(shard.epoch())).build();
    }

    /**
     * The answer for a command the replica refused, changing nothing: a stale route or a key the
     * shard no longer holds (split, merge) is "shard moved" with the owner by this node's map.
     */
    private StatusRuntimeException refusal(Object result, String keyspace, ByteString key) {
        return switch (result) {
            case ShardResult.ShardMoved m -> moved(keyspace, key);
            case ShardResult.StaleEpoch e -> moved(keyspace, key);
            case ShardResult.Rejected r -> ShardError.INVALID_REQUEST.toStatus(r.code() + ": " + r.reason());
            default -> Status.INTERNAL.withDescription("atoll: unexpected apply result " + result)
                    .asRuntimeException();
        };
    }

    private StatusRuntimeException moved(String keyspace, ByteString key) {
        return meta.shards().map().lookup(keyspace, Key.of(key.toByteArray()))
                .map(ShardError::shardMoved)
                .orElseGet(() -> ShardError.KEYSPACE_NOT_FOUND.toStatus("no keyspace " + keyspace));
    }

    /**
     * Runs {@code local} if this node hosts the shard, else (or when the local replica knows no
     * leader) forwards with {@code remote} to the shard's other replicas, leader first.
     */
    private <R> CompletableFuture<R> onShard(ShardDescriptor shard, boolean forwarded,
                                             Function<ShardHost.Hosted, CompletableFuture<R>> local,
                                             BiFunction<ShardKVGrpc.ShardKVFutureStub, Void, ListenableFuture<R>> remote) {
        Optional<ShardHost.Hosted> replica = host.replica(shard.id());
        if (replica.isPresent()) {
            served.computeIfAbsent(shard.id(), x -> new java.util.concurrent.atomic.LongAdder()).increment();
            CompletableFuture<R> here;
            try {
                here = local.apply(replica.get());
            } catch (RuntimeException e) {
                here = CompletableFuture.failedFuture(e);
            }
            if (forwarded) {
                return here;
            }
            return here.exceptionallyCompose(error -> unwrap(error) instanceof NotLeaderException
                    ? forward(candidates(shard), 0, remote, error) : CompletableFuture.failedFuture(error));
        }
        if (forwarded) {
            return CompletableFuture.failedFuture(ShardError.NOT_HOSTED.toStatus(shard.id() + " has no replica on "
                    + runtime.self()));
        }
        return forward(candidates(shard), 0, remote, ShardError.NO_LEADER.toStatus(shard.id() + " has no replica"));
    }

    /** Every other node with a replica: the leader the map names first, voters before learners. */
    private List<NodeId> candidates(ShardDescriptor shard) {
        var nodes = new ArrayList<NodeId>();
        shard.leader().ifPresent(nodes::add);
        shard.voters().stream().filter(n -> !nodes.contains(n)).forEach(nodes::add);
        shard.learners().forEach(nodes::add);
        nodes.remove(runtime.self());
        return nodes;
    }

    private <R> CompletableFuture<R> forward(List<NodeId> nodes, int i,
                                             BiFunction<ShardKVGrpc.ShardKVFutureStub, Void, ListenableFuture<R>> remote,
                                             Throwable last) {
        if (i >= nodes.size()) {
            return CompletableFuture.failedFuture(last);
        }
        Channel channel = channels.apply(nodes.get(i));
        if (channel == null) {
            return forward(nodes, i + 1, remote, last);
        }
        var marker = new Metadata();
        marker.put(FORWARDED_BY, runtime.self().value());
        var stub = ShardKVGrpc.newFutureStub(ClientInterceptors.intercept(channel,
                        MetadataUtils.newAttachHeadersInterceptor(marker)))
                .withDeadlineAfter(requestTimeoutMillis, TimeUnit.MILLISECONDS);
        var result = new CompletableFuture<R>();
        Context.ROOT.run(() -> {
            ListenableFuture<R> call = remote.apply(stub, null);
            call.addListener(() -> {
                try {
                    result.complete(call.get());
                } catch (ExecutionException e) {
                    result.completeExceptionally(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    result.completeExceptionally(e);
                }
            }, Runnable::run);
        });
        // another replica may serve what this one could not (not hosted there, unreachable, no leader yet)
        return result.exceptionallyCompose(error -> retryElsewhere(error)
                ? forward(nodes, i + 1, remote, error) : CompletableFuture.failedFuture(error));
    }

    private static boolean retryElsewhere(Throwable error) {
        Optional<ShardError> code = ShardError.of(error);
        if (code.isPresent()) {
            return code.get() == ShardError.NOT_HOSTED || code.get() == ShardError.NO_LEADER;
        }
        return Status.fromThrowable(error).getCode() == Status.Code.UNAVAILABLE;
    }

    // ------------------------------------------------------------------ the shard's group

    private CompletableFuture<Object> propose(ShardHost.Hosted replica, byte[] command) {
        return runtime.propose(replica.groupId(), command).orTimeout(requestTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    private CompletableFuture<Long> barrier(ShardHost.Hosted replica, boolean serializable) {
        return serializable ? CompletableFuture.completedFuture(0L)
                : runtime.readBarrier(replica.groupId()).orTimeout(requestTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    private <R> void answer(CompletableFuture<R> result, StreamObserver<R> out) {
        Answers.answer(result, out, executor);
    }

    /** The answer for a failure of a proposal, read or hop. */
    static StatusRuntimeException statusOf(Throwable error) {
        Throwable cause = unwrap(error);
        return switch (cause) {
            case StatusRuntimeException s -> s;
            case TimeoutException t -> ShardError.TIMEOUT.toStatus("no answer within the request timeout");
            case RejectedExecutionException r -> ShardError.OVERLOADED.toStatus("too many requests");
            case NotLeaderException n -> ShardError.NO_LEADER.toStatus("the shard has no leader now");
            case ProposalFailedException p -> {
                String why = p.getMessage();
                if (why.contains("overloaded")) {
                    yield ShardError.OVERLOADED.toStatus(why);
                }
                if (why.contains("stopping")) {
                    yield ShardError.STOPPING.toStatus(why);
                }
                yield p.definite() ? ShardError.NO_LEADER.toStatus(why) : ShardError.OUTCOME_UNKNOWN.toStatus(why);
            }
            case ShardStateMachine.ReplicaGone gone -> ShardError.NOT_HOSTED.toStatus(gone.getMessage());
            // the group left this node between routing and proposing
            case IllegalArgumentException gone when String.valueOf(gone.getMessage()).startsWith("no group") ->
                    ShardError.NOT_HOSTED.toStatus(gone.getMessage());
            default -> {
                log.error("shard_request_failed error={}", cause.toString(), cause);
                yield Status.INTERNAL.withDescription("atoll: internal error: " + cause).asRuntimeException();
            }
        };
    }

    private static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
