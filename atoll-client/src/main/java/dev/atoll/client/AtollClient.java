package dev.atoll.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.DescribeKeyspaceRequest;
import dev.atoll.proto.admin.DescribeKeyspaceResponse;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.etcd.ClusterGrpc;
import dev.atoll.proto.etcd.Member;
import dev.atoll.proto.etcd.MemberListRequest;
import dev.atoll.proto.shardkv.DeleteRequest;
import dev.atoll.proto.shardkv.DeleteResponse;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.GetResponse;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.PutResponse;
import dev.atoll.proto.shardkv.RangeRequest;
import dev.atoll.proto.shardkv.RangeResponse;
import dev.atoll.proto.shardkv.RouteToken;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.proto.shardkv.ShardRangeRequest;
import dev.atoll.proto.shardmap.ReplicaRecord;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ScanStitch;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The Java client of Atoll's sharded keyspaces (every keyspace but etcd's {@code default}).
 *
 * <p>It keeps each keyspace's shard map (admin {@code DescribeKeyspace}) and the members' client
 * addresses (etcd {@code Cluster.MemberList}), routes every key to its shard and sends the request,
 * with the shard's id and epoch, to the node the map names as the shard's leader; then to the
 * shard's other replicas, then to any endpoint (each node forwards what it does not serve). A
 * "shard moved" answer (a split, a merge) replaces the cached shards with the owner it names and the
 * request is sent again at once; "no leader", "not hosted" and unreachable nodes are retried on the
 * next candidate after a short backoff, the map fetched again once every candidate failed. An
 * operation sends at most {@link ClientOptions#attemptsMax} requests within {@link
 * ClientOptions#operationTimeout}; what it could not do is an {@link AtollException} with the
 * server's stable code. Puts and deletes are retried after an unknown outcome: a put writes the same
 * value again, a delete may then report that the key did not exist.
 *
 * <p>Thread-safe: one instance serves any number of threads, over one gRPC channel per node.
 * {@link #close} releases the channels.
 */
public final class AtollClient implements AutoCloseable {
    /** The server's most keys per range answer (ShardKvService.RANGE_LIMIT_MAX). */
    public static final int RANGE_LIMIT_MAX = 10_000;

    private static final Metadata.Key<byte[]> SHARD_TRAILER = Metadata.Key.of("atoll-shard-bin",
            Metadata.BINARY_BYTE_MARSHALLER);
    /** Codes after which another node (or the same one, later) may well succeed. */
    private static final Set<String> RETRIED = Set.of("NO_LEADER", "NOT_HOSTED", "STOPPING", "OVERLOADED",
            "OUTCOME_UNKNOWN", "TIMEOUT", Status.Code.UNAVAILABLE.name(), Status.Code.DEADLINE_EXCEEDED.name());

    private final List<String> endpoints;
    private final ClientOptions options;
    private final ConcurrentHashMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, KeyspaceRoutes> routes = new ConcurrentHashMap<>();
    private final Set<String> refreshing = ConcurrentHashMap.newKeySet();
    private final AtomicInteger spread = new AtomicInteger();
    /** Member name to client address (host:port), from the last member list. */
    private volatile Map<String, String> nodeEndpoints = Map.of();
    private volatile boolean closed;

    private AtollClient(List<String> endpoints, ClientOptions options) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("an Atoll client needs at least one endpoint");
        }
        this.endpoints = endpoints.stream().map(AtollClient::hostPort).distinct().toList();
        this.options = options;
    }

    /** A client of the cluster reachable at {@code endpoints} (host:port or http://host:port). Connects lazily. */
    public static AtollClient connect(List<String> endpoints) {
        return new AtollClient(endpoints, ClientOptions.DEFAULTS);
    }

    public static AtollClient connect(List<String> endpoints, ClientOptions options) {
        return new AtollClient(endpoints, options);
    }

    // ------------------------------------------------------------------ the API

    /** Writes {@code value} under {@code key}; returns once the shard's group committed it. */
    public Written put(String keyspace, byte[] key, byte[] value) {
        var request = PutRequest.newBuilder().setKeyspace(keyspace).setKey(ByteString.copyFrom(key))
                .setValue(ByteString.copyFrom(value));
        Answer<PutResponse> a = onKey(keyspace, key, (stub, shard) -> {
            shard.ifPresentOrElse(s -> request.setRoute(token(s)), request::clearRoute);
            return stub.put(request.build());
        });
        return new Written(a.value().getServedBy().getShard(), a.value().getIndex(), false, a.endpoint(), a.attempts());
    }

    public Written put(String keyspace, String key, String value) {
        return put(keyspace, utf8(key), utf8(value));
    }

    /** The value under {@code key}, read linearizably. */
    public Optional<byte[]> get(String keyspace, byte[] key) {
        return get(keyspace, key, ReadConsistency.LINEARIZABLE);
    }

    public Optional<byte[]> get(String keyspace, byte[] key, ReadConsistency consistency) {
        var request = GetRequest.newBuilder().setKeyspace(keyspace).setKey(ByteString.copyFrom(key))
                .setSerializable(consistency == ReadConsistency.SERIALIZABLE);
        Answer<GetResponse> a = onKey(keyspace, key, (stub, shard) -> {
            shard.ifPresentOrElse(s -> request.setRoute(token(s)), request::clearRoute);
            return stub.get(request.build());
        });
        return a.value().getFound() ? Optional.of(a.value().getValue().toByteArray()) : Optional.empty();
    }

    public Optional<String> get(String keyspace, String key, ReadConsistency consistency) {
        return get(keyspace, utf8(key), consistency).map(v -> new String(v, StandardCharsets.UTF_8));
    }

    /** Deletes {@code key}; {@link Written#existed()} says whether it was there (see the class comment on retries). */
    public Written delete(String keyspace, byte[] key) {
        var request = DeleteRequest.newBuilder().setKeyspace(keyspace).setKey(ByteString.copyFrom(key));
        Answer<DeleteResponse> a = onKey(keyspace, key, (stub, shard) -> {
            shard.ifPresentOrElse(s -> request.setRoute(token(s)), request::clearRoute);
            return stub.delete(request.build());
        });
        return new Written(a.value().getServedBy().getShard(), 0, a.value().getDeleted(), a.endpoint(), a.attempts());
    }

    public Written delete(String keyspace, String key) {
        return delete(keyspace, utf8(key));
    }

    /** The keys in [start, end) in key order, linearizably; an empty {@code end} is the keyspace's end. */
    public RangeResult range(String keyspace, byte[] start, byte[] end, int limit) {
        return range(keyspace, start, end, limit, ReadConsistency.LINEARIZABLE);
    }

    /**
     * The keys in [start, end) in key order, at most {@code limit} (1..{@value #RANGE_LIMIT_MAX}; 0 for
     * that maximum). A range keyspace is read shard by shard from each shard's leader, in key order,
     * stopping at the limit (stitched by {@link ScanStitch}); other keyspaces are read through the
     * server's own Range. The answer is not one snapshot: each shard is read at its own moment.
     */
    public RangeResult range(String keyspace, byte[] start, byte[] end, int limit, ReadConsistency consistency) {
        if (limit < 0 || limit > RANGE_LIMIT_MAX) {
            throw new AtollException("INVALID_REQUEST", "a range limit is in 0.." + RANGE_LIMIT_MAX, null);
        }
        int wanted = (limit == 0 ? RANGE_LIMIT_MAX : limit) + 1;
        long deadline = deadline();
        if (routes(keyspace, deadline).kind() != KeyspaceRoutes.Kind.RANGE) {
            var request = RangeRequest.newBuilder().setKeyspace(keyspace).setStart(ByteString.copyFrom(start))
                    .setEnd(ByteString.copyFrom(end)).setLimit(wanted - 1)
                    .setSerializable(consistency == ReadConsistency.SERIALIZABLE).build();
            RangeResponse r = onAnyEndpoint(deadline, stub -> stub.range(request));
            return new RangeResult(pairs(r.getPairsList()), r.getMore());
        }
        Key endKey = end.length == 0 ? Key.END : Key.of(end);
        if (Key.of(start).compareTo(endKey) >= 0) {
            return new RangeResult(List.of(), false);
        }
        // the same stitch as the server's Range (dev.atoll.shard.ScanStitch), driven from here
        var scan = new ScanStitch<KeyValue>(new KeyRange(Key.of(start), endKey), wanted - 1, kv -> Key.of(kv.key()));
        while (!scan.done()) {
            Answer<Part> a = onKey(keyspace, scan.cursor().toBytes(), (stub, shard) -> {
                ScanStitch.Part part = scan.nextPart(KeyspaceRoutes.range(shard.orElseThrow()));
                Key partEnd = part.range().end();
                var request = ShardRangeRequest.newBuilder().setKeyspace(keyspace).setRoute(token(shard.get()))
                        .setStart(ByteString.copyFrom(part.range().start().toBytes()))
                        .setEnd(partEnd.isEnd() ? ByteString.EMPTY : ByteString.copyFrom(partEnd.toBytes()))
                        .setLimit(part.limit()).setSerializable(consistency == ReadConsistency.SERIALIZABLE).build();
                return new Part(stub.shardRange(request), part);
            });
            scan.accept(a.value().part(), pairs(a.value().answer().getPairsList()));
        }
        return new RangeResult(scan.rows(), scan.more());
    }

    /** Forgets the cached map of {@code keyspace}: the next request fetches it. */
    public void refresh(String keyspace) {
        routes.remove(keyspace);
    }

    /** Closes every channel; requests in flight fail. */
    @Override
    public void close() {
        closed = true;
        channels.values().forEach(ManagedChannel::shutdownNow);
        for (ManagedChannel c : channels.values()) {
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ------------------------------------------------------------------ routing and retries

    /** One request to one node: the shard it is routed to, if the client routes this keyspace. */
    private interface Attempt<R> {
        R send(ShardKVGrpc.ShardKVBlockingStub stub, Optional<ShardRecord> shard);
    }

    private record Answer<R>(R value, String endpoint, int attempts) {
    }

    private record Part(RangeResponse answer, ScanStitch.Part part) {
    }

    private <R> Answer<R> onKey(String keyspace, byte[] key, Attempt<R> attempt) {
        long deadline = deadline();
        StatusRuntimeException last = null;
        int failures = 0;
        int movedInARow = 0;
        for (int attemptNo = 1; attemptNo <= options.attemptsMax() && System.nanoTime() < deadline; attemptNo++) {
            KeyspaceRoutes r = routes(keyspace, deadline);
            Optional<ShardRecord> shard = r.lookup(key);
            if (shard.isEmpty() && r.kind() != KeyspaceRoutes.Kind.BY_SERVER) {
                // a hole left by a "shard moved" answer: the whole map again
                r = fetch(keyspace, deadline);
                shard = r.lookup(key);
            }
            List<String> candidates = candidates(shard);
            String endpoint = candidates.get(failures % candidates.size());
            try {
                return new Answer<>(attempt.send(stub(endpoint, deadline), shard), endpoint, attemptNo);
            } catch (StatusRuntimeException e) {
                last = e;
                String code = AtollException.codeOf(e);
                if (code.equals("SHARD_MOVED")) {
                    Optional<ShardRecord> owner = movedTo(e);
                    if (owner.isPresent()) {
                        routes.computeIfPresent(keyspace, (k, old) -> old.with(owner.get()));
                    } else {
                        routes.remove(keyspace);
                    }
                    // the first answer is followed at once; more in a row mean a replica still
                    // applying the change, or a node whose map is behind: wait a little
                    if (++movedInARow > 1) {
                        backoff(movedInARow - 1, deadline);
                    }
                    continue;
                }
                movedInARow = 0;
                if (code.equals("KEYSPACE_NOT_FOUND")) {
                    routes.remove(keyspace);
                }
                if (!RETRIED.contains(code)) {
                    throw AtollException.of(e);
                }
                failures++;
                if (failures % candidates.size() == 0) {
                    // every candidate failed: the map may name leaders and replicas that are gone
                    routes.remove(keyspace);
                }
                backoff(failures, deadline);
            }
        }
        throw exhausted(last);
    }

    /** The nodes to try for a shard: its leader, its voters, its learners, then every other endpoint. */
    private List<String> candidates(Optional<ShardRecord> shard) {
        var ordered = new LinkedHashSet<String>();
        if (shard.isPresent()) {
            Map<String, String> book = nodeEndpoints;
            ShardRecord s = shard.get();
            if (!s.getLeaderHint().isEmpty() && book.containsKey(s.getLeaderHint())) {
                ordered.add(book.get(s.getLeaderHint()));
            }
            for (ReplicaRecord replica : s.getReplicasList()) {
                if (!replica.getLearner() && book.containsKey(replica.getNode())) {
                    ordered.add(book.get(replica.getNode()));
                }
            }
            for (ReplicaRecord replica : s.getReplicasList()) {
                if (book.containsKey(replica.getNode())) {
                    ordered.add(book.get(replica.getNode()));
                }
            }
        }
        int first = Math.floorMod(spread.getAndIncrement(), endpoints.size());
        for (int i = 0; i < endpoints.size(); i++) {
            ordered.add(endpoints.get((first + i) % endpoints.size()));
        }
        return List.copyOf(ordered);
    }

    /** The cached map of {@code keyspace}, fetched when absent; one caller refreshes an old one while others use it. */
    private KeyspaceRoutes routes(String keyspace, long deadline) {
        KeyspaceRoutes cached = routes.get(keyspace);
        if (cached == null) {
            return fetch(keyspace, deadline);
        }
        if (System.nanoTime() - cached.fetchedAtNanos() > options.routeMaxAge().toNanos() && refreshing.add(keyspace)) {
            try {
                return fetch(keyspace, deadline);
            } catch (AtollException e) {
                return cached;
            } finally {
                refreshing.remove(keyspace);
            }
        }
        return cached;
    }

    /** Fetches the keyspace's map and the members' addresses from the first endpoint that answers. */
    private KeyspaceRoutes fetch(String keyspace, long deadline) {
        DescribeKeyspaceResponse described = onAnyChannel(deadline, channel -> AdminGrpc.newBlockingStub(channel)
                .withDeadlineAfter(attemptNanos(deadline), TimeUnit.NANOSECONDS)
                .describeKeyspace(DescribeKeyspaceRequest.newBuilder().setName(keyspace).build()));
        var members = onAnyChannel(deadline, channel -> ClusterGrpc.newBlockingStub(channel)
                .withDeadlineAfter(attemptNanos(deadline), TimeUnit.NANOSECONDS)
                .memberList(MemberListRequest.getDefaultInstance()));
        var book = new HashMap<String, String>();
        for (Member m : members.getMembersList()) {
            if (!m.getName().isEmpty() && m.getClientURLsCount() > 0) {
                book.put(m.getName(), hostPort(m.getClientURLs(0)));
            }
        }
        nodeEndpoints = Map.copyOf(book);
        var fetched = KeyspaceRoutes.of(described.getKeyspace().getSpec(),
                described.getShardsList().stream().map(ShardInfo::getShard).toList(), System.nanoTime());
        routes.put(keyspace, fetched);
        return fetched;
    }

    /**
     * A ShardKV call the server routes itself (no route token), on each endpoint in turn. "Shard
     * moved" is retried too: the server's Range plans its parts by its map and refuses the whole
     * range when a shard moved under one of them; asked again, it plans by a newer map.
     */
    private <R> R onAnyEndpoint(long deadline, Function<ShardKVGrpc.ShardKVBlockingStub, R> call) {
        StatusRuntimeException last = null;
        int failures = 0;
        for (int attemptNo = 1; attemptNo <= options.attemptsMax() && System.nanoTime() < deadline; attemptNo++) {
            String endpoint = endpoints.get(Math.floorMod(spread.getAndIncrement(), endpoints.size()));
            try {
                return call.apply(stub(endpoint, deadline));
            } catch (StatusRuntimeException e) {
                last = e;
                String code = AtollException.codeOf(e);
                if (!RETRIED.contains(code) && !code.equals("SHARD_MOVED")) {
                    throw AtollException.of(e);
                }
                backoff(++failures, deadline);
            }
        }
        throw exhausted(last);
    }

    /** An admin or cluster call on each endpoint in turn until one answers; a refusal is the answer. */
    private <R> R onAnyChannel(long deadline, Function<ManagedChannel, R> call) {
        StatusRuntimeException last = null;
        for (int i = 0; i < endpoints.size() && System.nanoTime() < deadline; i++) {
            String endpoint = endpoints.get(Math.floorMod(spread.getAndIncrement(), endpoints.size()));
            try {
                return call.apply(channel(endpoint));
            } catch (StatusRuntimeException e) {
                last = e;
                Status.Code code = e.getStatus().getCode();
                if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
                    throw AtollException.of(e);
                }
            }
        }
        throw exhausted(last);
    }

    private AtollException exhausted(StatusRuntimeException last) {
        if (last == null) {
            return new AtollException(Status.Code.DEADLINE_EXCEEDED.name(), "no answer within "
                    + options.operationTimeout(), null);
        }
        AtollException e = AtollException.of(last);
        return new AtollException(e.code(), e.getMessage() + " (gave up after " + options.attemptsMax()
                + " attempts or " + options.operationTimeout() + ")", last);
    }

    private void backoff(int failures, long deadline) {
        long pause = options.backoffMin().toNanos() << Math.min(failures - 1, 20);
        pause = Math.min(Math.min(pause, options.backoffMax().toNanos()), Math.max(0, deadline - System.nanoTime()));
        try {
            TimeUnit.NANOSECONDS.sleep(pause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AtollException(Status.Code.CANCELLED.name(), "interrupted", e);
        }
    }

    private long deadline() {
        return System.nanoTime() + options.operationTimeout().toNanos();
    }

    private long attemptNanos(long deadline) {
        return Math.max(1, Math.min(options.attemptTimeout().toNanos(), deadline - System.nanoTime()));
    }

    private ShardKVGrpc.ShardKVBlockingStub stub(String endpoint, long deadline) {
        return ShardKVGrpc.newBlockingStub(channel(endpoint)).withDeadlineAfter(attemptNanos(deadline),
                TimeUnit.NANOSECONDS);
    }

    private ManagedChannel channel(String endpoint) {
        if (closed) {
            throw new AtollException(Status.Code.CANCELLED.name(), "the client is closed", null);
        }
        return channels.computeIfAbsent(endpoint, e -> {
            int colon = e.lastIndexOf(':');
            return NettyChannelBuilder.forAddress(e.substring(0, colon), Integer.parseInt(e.substring(colon + 1)))
                    .usePlaintext().build();
        });
    }

    private static RouteToken token(ShardRecord shard) {
        return RouteToken.newBuilder().setShard(shard.getId()).setEpoch(shard.getEpoch()).build();
    }

    private static Optional<ShardRecord> movedTo(StatusRuntimeException e) {
        byte[] bytes = e.getTrailers() == null ? null : e.getTrailers().get(SHARD_TRAILER);
        if (bytes == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(ShardRecord.parseFrom(bytes));
        } catch (InvalidProtocolBufferException malformed) {
            return Optional.empty();
        }
    }

    private static List<KeyValue> pairs(List<dev.atoll.proto.shardkv.KeyValue> pairs) {
        return pairs.stream().map(p -> new KeyValue(p.getKey().toByteArray(), p.getValue().toByteArray())).toList();
    }

    /** host:port of an endpoint given as host:port or as a URL. */
    static String hostPort(String endpoint) {
        String e = endpoint.trim();
        if (!e.contains("://")) {
            e = "http://" + e;
        }
        URI uri = URI.create(e);
        if (uri.getHost() == null || uri.getPort() < 0) {
            throw new IllegalArgumentException("an endpoint is host:port, got '" + endpoint + "'");
        }
        return uri.getHost() + ":" + uri.getPort();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
