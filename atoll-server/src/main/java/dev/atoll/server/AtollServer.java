package dev.atoll.server;

import com.sun.net.httpserver.HttpServer;
import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.proto.admin.MergeShardsRequest;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.meta.PublishMember;
import dev.atoll.proto.meta.PublishResult;
import dev.atoll.proto.meta.SeedMembers;
import dev.atoll.server.cluster.ClusterIdentity;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.cluster.MemberAddresses;
import dev.atoll.server.cluster.MemberChanges;
import dev.atoll.server.cluster.MemberIds;
import dev.atoll.server.cluster.MemberPublisher;
import dev.atoll.server.cluster.MemberTable;
import dev.atoll.server.cluster.MembershipReconciler;
import dev.atoll.server.cluster.RemovalWatch;
import dev.atoll.server.etcd.EtcdApi;
import dev.atoll.server.etcd.EtcdGroup;
import dev.atoll.server.etcd.EtcdMembers;
import dev.atoll.server.etcd.EtcdOptions;
import dev.atoll.server.etcd.EtcdStateMachine;
import dev.atoll.server.etcd.LeaseDeadlines;
import dev.atoll.server.etcd.MembershipService;
import dev.atoll.server.peer.LinkState;
import dev.atoll.server.peer.PeerTransport;
import dev.atoll.server.peer.PeerTransportOptions;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.PeerSender;
import dev.atoll.server.shard.AdminService;
import dev.atoll.server.shard.ShardBalancer;
import dev.atoll.server.shard.ShardHost;
import dev.atoll.server.shard.ShardKvService;
import dev.atoll.server.shard.ShardReconciler;
import dev.atoll.server.shard.ShardStore;
import dev.atoll.shard.placement.RebalancerConfig;
import dev.atoll.storage.mvcc.MvccConfig;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One Atoll node: the runtime hosting the meta group, the {@code default} keyspace (etcd's
 * data model) and the replicas of other keyspaces' shards placed on it, the peer transport,
 * the etcd v3 API, the shard KV and admin APIs on the client port, and Prometheus metrics.
 * {@link #main} is what {@code atoll server} runs; SIGTERM stops it cleanly, and any crash
 * (kill -9) leaves nothing acknowledged unwritten (the WAL is fsynced before any answer).
 */
public final class AtollServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AtollServer.class);
    /** Group ids: the meta group holds cluster metadata; the default group is etcd's keyspace. */
    public static final long META_GROUP = 0;
    public static final long DEFAULT_GROUP = 1;
    /** How long a member joining a running cluster tries to reach it before giving up. */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(60);
    static final long RECONCILE_PERIOD_MILLIS = 100;
    /**
     * Heartbeats of the meta and default groups every 2 ticks (100 ms, etcd's default), not every
     * tick: each round is a message and an answer to and from every follower of both groups, and
     * a thread wake at each end; an election timeout (10 to 20 ticks) still spans 5 or more.
     */
    static final int HEARTBEAT_INTERVAL_TICKS = 2;
    /** How long a leader being removed waits for a successor before removing itself. */
    static final long HAND_OVER_PATIENCE_MILLIS = 3_000;
    /** How long without a leader before a member asks its peers whether it was removed. */
    static final long REMOVED_CHECK_LEADERLESS_MILLIS = 3_000;
    /** Shard groups snapshot more often than the default group: hundreds of them keep their logs in memory. */
    static final long SHARD_SNAPSHOT_EVERY_ENTRIES = 2_000;
    static final long SHARD_HOSTING_PERIOD_MILLIS = 200;
    static final long SHARD_RECONCILE_PERIOD_MILLIS = 250;
    static final long SHARD_BALANCE_PERIOD_MILLIS = 2_000;
    /** Beyond the largest request, what a peer message may add: the entry's and the message's own fields. */
    static final int PEER_HEADROOM_BYTES = 128 * 1024;
    /** A node unreachable this long counts as down: its replicas are made again elsewhere (CockroachDB: 5 min). */
    static final long NODE_DOWN_AFTER_MILLIS = 5 * 60_000;

    private final ServerConfig config;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final NodeRuntime runtime;
    private final PeerTransport transport;
    private final EtcdApi etcd;
    private final ExecutorService etcdExecutor;
    private final Map<NodeId, ManagedChannel> leaderChannels = new ConcurrentHashMap<>();
    private final MetaStateMachine meta;
    private final MemberAddresses addresses;
    private final ScheduledExecutorService membersScheduler;
    private final ScheduledExecutorService changesScheduler;
    private final MembershipReconciler reconciler;
    private final MemberPublisher publisher;
    private final MembershipService membershipService;
    private final RemovalWatch removalWatch;
    private final ShardStore shardStore;
    private final ScheduledExecutorService shardScheduler;
    private final ScheduledExecutorService shardReconcileScheduler;
    private final ShardHost shardHost;
    private final ShardReconciler shardReconciler;
    private final ShardBalancer shardBalancer;
    private final ShardKvService shardKv;
    private final AdminService admin;
    private final CompletableFuture<Void> removedFromCluster = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private Server peerServer;
    private Server clientServer;
    private HttpServer metricsServer;

    public AtollServer(ServerConfig config) {
        this.config = config;
        NodeId self = config.nodeId();
        EtcdOptions etcdOptions = EtcdOptions.defaults();
        // a whole request must fit one Raft entry, and one AppendEntries (with headroom)
        RaftConfig raft = RaftConfig.defaults().withFlowControl(RaftConfig.INFLIGHT_APPENDS_MAX,
                RaftConfig.APPEND_ENTRIES_MAX, (int) config.requestBytesMax() + 64 * 1024)
                .withHeartbeatIntervalTicks(HEARTBEAT_INTERVAL_TICKS)
                .withReadMode(config.readMode(), RaftConfig.LEASE_CLOCK_DRIFT_TICKS_MAX);
        // Shard groups quiesce: an idle one costs no heartbeats and no ticks (bench/IDLE-GROUPS.md).
        // A quiesced follower notices a leader that is hung or partitioned away (not crashed)
        // through the peer link's liveness probes (3 s without an ack). The meta and default
        // groups do not quiesce: etcd's failover is sub-second, and two groups' heartbeats cost little.
        RaftConfig shardRaft = raft.withQuiesceIdleTicks(RaftConfig.QUIESCE_IDLE_TICKS);
        InetSocketAddress advertisedPeer = config.initialCluster().get(self);
        PublishMember publishing = PublishMember.newBuilder().setName(config.name())
                .addPeerUrls(url(advertisedPeer)).addClientUrls(url(config.listenClient()))
                .setLabels(config.labels().toProto()).build();

        // Which cluster: stored from the first start on; a founder derives it from its
        // initial-cluster, a joining member learns it from the members that added it.
        Optional<ClusterIdentity> stored = ClusterIdentity.load(config.dataDir());
        boolean founding = config.initialClusterState() == ServerConfig.ClusterState.NEW;
        PublishResult joined = null;
        long clusterId;
        long memberId = MemberIds.ofName(config.name());
        if (stored.isPresent()) {
            clusterId = stored.get().clusterId();
            memberId = stored.get().memberId() != 0 ? stored.get().memberId() : memberId;
        } else if (founding) {
            clusterId = MemberIds.ofName(new TreeMap<>(config.initialCluster()).toString());
        } else {
            var targets = config.initialCluster().entrySet().stream().filter(e -> !e.getKey().equals(self))
                    .map(e -> target(e.getValue())).toList();
            try {
                joined = MemberPublisher.join(targets, publishing, JOIN_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while joining the cluster", e);
            }
            clusterId = joined.getClusterId();
            memberId = joined.getMemberId();
        }
        if (stored.isEmpty()) {
            new ClusterIdentity(clusterId, memberId).save(config.dataDir());
        }
        // A founder's groups start with the founding members; a joining member's start empty
        // and receive the membership (and the data, by log or snapshot) from the leader.
        // Either way a group found in the WAL restarts from it.
        Membership initialMembership = founding ? Membership.ofVoters(new TreeSet<>(config.initialCluster().keySet()))
                : Membership.ofVoters(java.util.Set.of());

        runtime = new NodeRuntime(self, config.dataDir(),
                NodeRuntime.Options.defaults().withSnapshotEveryEntries(config.snapshotCount()), metrics);
        meta = new MetaStateMachine();
        runtime.addGroup(META_GROUP, raft, initialMembership, meta);
        etcdExecutor = EtcdApi.newExecutor(Math.max(4, Runtime.getRuntime().availableProcessors() * 2), 10_000);
        var stateMachine = new EtcdStateMachine(config.dataDir().resolve("kv"), MvccConfig.defaults(), etcdOptions,
                etcdExecutor, new LeaseDeadlines(System::nanoTime));
        runtime.addGroup(DEFAULT_GROUP, raft, initialMembership, stateMachine);

        var urls = new TreeMap<NodeId, EtcdMembers.MemberUrls>();
        for (var e : config.initialCluster().entrySet()) {
            InetSocketAddress client = config.initialClusterClients().get(e.getKey());
            if (e.getKey().equals(self)) {
                client = config.listenClient();
            }
            urls.put(e.getKey(), new EtcdMembers.MemberUrls(List.of(url(e.getValue())),
                    client == null ? List.of() : List.of(url(client))));
        }
        var members = new EtcdMembers(clusterId, urls, meta::members);

        // one peer message must carry the largest request: a follower relays it to the leader as
        // one Propose, the leader replicates it as one AppendEntries
        PeerTransportOptions peerOptions = PeerTransportOptions.defaults();
        int messageBytesMax = (int) Math.max(peerOptions.batchBytesMax(), config.requestBytesMax() + PEER_HEADROOM_BYTES);
        peerOptions = peerOptions.withBatch(messageBytesMax, peerOptions.batchMessagesMax())
                .withReceiveWindowBytes(Math.max(peerOptions.receiveWindowBytes(), 4L * messageBytesMax))
                .withOutbound(Math.max(peerOptions.outboundBytesMax(), 8L * messageBytesMax),
                        peerOptions.outboundMessagesMax());
        transport = new PeerTransport(self, Long.toHexString(clusterId), peerOptions,
                (groupId, envelope, traceparent) -> {
                    runtime.deliver(groupId, envelope);
                    return true;
                }, metrics);
        var bootstrapPeers = new TreeMap<NodeId, String>();
        config.initialCluster().forEach((node, address) -> {
            if (!node.equals(self)) {
                bootstrapPeers.put(node, target(address));
            }
        });
        addresses = new MemberAddresses(self, bootstrapPeers, new MemberAddresses.Listener() {
            @Override
            public void added(NodeId node, String target) {
                transport.addPeer(node, target);
                retireChannel(node);
            }

            @Override
            public void removed(NodeId node) {
                transport.removePeer(node);
                retireChannel(node);
            }
        });
        if (joined != null) {
            addresses.useBootstrap(new MemberTable(joined.getClusterId(),
                    joined.getMembersList().stream().map(Member::fromProto).toList()));
        }
        addresses.sync(MemberTable.EMPTY, java.util.Set.of());

        // the reconciler gets a thread of its own (a round may wait on the meta group); member
        // changes and the publisher poll and call back on another
        membersScheduler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("atoll-members-" + self).daemon().unstarted(r));
        changesScheduler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("atoll-member-changes-" + self).daemon().unstarted(r));
        MetaCommand seed = founding ? seedCommand(config, clusterId) : null;
        reconciler = new MembershipReconciler(runtime, META_GROUP, DEFAULT_GROUP, meta, () -> seed,
                this::connected, inGroups -> addresses.sync(meta.members(), inGroups), membersScheduler,
                RECONCILE_PERIOD_MILLIS, HAND_OVER_PATIENCE_MILLIS, System::currentTimeMillis);
        var changes = new MemberChanges(runtime, META_GROUP, DEFAULT_GROUP, meta, this::connected, reconciler::kick,
                changesScheduler, etcdOptions.requestTimeoutMillis(), () -> Instant.now().getEpochSecond());
        etcd = new EtcdApi(runtime, DEFAULT_GROUP, stateMachine, etcdOptions, members, this::channelTo, etcdExecutor,
                changes);
        membershipService = new MembershipService(etcd.group(), changes);
        publisher = new MemberPublisher(publishing, target(config.listenPeer()), meta::members, changesScheduler);
        removalWatch = new RemovalWatch(memberId, meta::members, () -> runtime.status(DEFAULT_GROUP),
                addresses::targets, REMOVED_CHECK_LEADERLESS_MILLIS, this::stopRemoved, changesScheduler);

        // keyspaces other than default: one Raft group per shard replica on this node, data in one store
        shardStore = ShardStore.open(config.dataDir().resolve("shards"));
        shardScheduler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("atoll-shards-" + self).daemon().unstarted(r));
        shardReconcileScheduler = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().name("atoll-shard-leaders-" + self).daemon().unstarted(r));
        shardHost = new ShardHost(runtime, META_GROUP, meta, shardStore, shardRaft, SHARD_SNAPSHOT_EVERY_ENTRIES,
                shardScheduler, SHARD_HOSTING_PERIOD_MILLIS, System::currentTimeMillis);
        shardKv = new ShardKvService(runtime, meta, shardHost, this::channelTo, etcdExecutor,
                etcdOptions.requestTimeoutMillis(), config.requestBytesMax());
        shardReconciler = new ShardReconciler(runtime, META_GROUP, meta, shardHost, this::connected,
                shardKv::fetchMoved, shardReconcileScheduler, SHARD_RECONCILE_PERIOD_MILLIS,
                System::currentTimeMillis);
        meta.onShardStateChanged(() -> {
            shardHost.kick();
            shardReconciler.kick(); // a data move's steps follow the map at once
        });
        admin = new AdminService(runtime, META_GROUP, meta, etcdExecutor, shardScheduler,
                etcdOptions.requestTimeoutMillis(), shardKv::medianKey, shardKv::medianKeyAtLeader);
        shardBalancer = new ShardBalancer(runtime, META_GROUP, meta, this::connected, shardKv::nodeStats,
                (left, right) -> admin.merge(MergeShardsRequest.newBuilder().setLeft(left.value())
                        .setRight(right.value()).build()),
                RebalancerConfig.defaults().withSplitPolicy(config.splitPolicy()), shardReconcileScheduler,
                SHARD_BALANCE_PERIOD_MILLIS, NODE_DOWN_AFTER_MILLIS, System::currentTimeMillis);
    }

    /** etcd stops a member removed from the cluster; so does Atoll (the process then exits). */
    private void stopRemoved() {
        Thread.ofPlatform().name("atoll-removed-" + config.name()).start(() -> {
            close();
            removedFromCluster.complete(null);
        });
    }

    /** Completes once this member stopped because it was removed from the cluster. */
    public CompletableFuture<Void> removedFromCluster() {
        return removedFromCluster;
    }

    /** Completes, with the cause, if the node's Raft loop stopped on an error (see {@link NodeRuntime#failed}). */
    public CompletableFuture<Throwable> runtimeFailed() {
        return runtime.failed();
    }

    /** The founding members as the first leader writes them into the member table. */
    private static MetaCommand seedCommand(ServerConfig config, long clusterId) {
        var seed = SeedMembers.newBuilder().setClusterId(clusterId);
        for (var e : new TreeMap<>(config.initialCluster()).entrySet()) {
            InetSocketAddress client = e.getKey().equals(config.nodeId()) ? config.listenClient()
                    : config.initialClusterClients().get(e.getKey());
            seed.addMembers(new Member(MemberIds.ofName(e.getKey().value()), e.getKey().value(),
                    List.of(url(e.getValue())), client == null ? List.of() : List.of(url(client)), false, false)
                    .toProto());
        }
        return MetaCommand.newBuilder().setSeed(seed).build();
    }

    /**
     * Whether this node's peer stream to {@code node} is up and the peer acknowledges in time
     * (etcd's strict reconfiguration check; a quiesced group led there is woken when it is not).
     */
    private boolean connected(NodeId node) {
        return transport.status(node).map(s -> s.state() == LinkState.CONNECTED && s.responsive()).orElse(false);
    }

    private static Server listen(NettyServerBuilder builder, String what, java.net.SocketAddress address)
            throws IOException {
        try {
            return builder.build().start();
        } catch (IOException e) {
            throw new IOException("cannot listen for " + what + "s on " + address + ": " + e.getMessage(), e);
        }
    }

    public void start() throws IOException {
        int inboundBytesMax = (int) config.requestBytesMax() + 512 * 1024;
        // Handlers run on the Netty event loop (directExecutor): none of them blocks — a write or
        // a read barrier is a queue offer to the runtime, and every continuation (store reads,
        // answers, watch catch-up) runs on the etcd executor. This saves one thread hand-off per
        // request, which the 2-core profile (bench/RESULTS.md) showed is worth having.
        // the peer port also serves the etcd API, for followers forwarding to the leader
        NettyServerBuilder peer = transport.configure(NettyServerBuilder.forAddress(config.listenPeer()))
                .directExecutor()
                .maxInboundMessageSize(Math.max(inboundBytesMax, transport.options().grpcMessageBytesMax()));
        NettyServerBuilder client = NettyServerBuilder.forAddress(config.listenClient())
                .directExecutor()
                .maxInboundMessageSize(inboundBytesMax)
                .intercept(new RequestLatency(metrics));
        for (ServerServiceDefinition s : etcd.services()) {
            peer.addService(s);
            client.addService(s);
        }
        peer.addService(ServerInterceptors.intercept(membershipService, EtcdGroup.forwardingMarker()));
        for (NettyServerBuilder b : List.of(peer, client)) {
            b.addService(ServerInterceptors.intercept(shardKv, ShardKvService.forwardingMarker()));
        }
        client.addService(admin);
        runtime.start(new PeerSender() {
            @Override
            public void send(long groupId, dev.atoll.core.protocol.Envelope<dev.atoll.consensus.raft.RaftMessage> e) {
                transport.send(groupId, e);
            }

            @Override
            public void flush() {
                transport.flush();
            }

            @Override
            public boolean reachable(NodeId peer) {
                return connected(peer);
            }
        });
        peerServer = listen(peer, "peer", config.listenPeer());
        clientServer = listen(client, "client", config.listenClient());
        etcd.start();
        reconciler.start();
        publisher.start();
        removalWatch.start();
        shardHost.start();
        shardReconciler.start();
        if (config.rebalance()) {
            shardBalancer.start();
        }
        if (config.listenMetrics() != null) {
            metricsServer = HttpServer.create(config.listenMetrics(), 16);
            metricsServer.createContext("/metrics", exchange -> {
                byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            metricsServer.start();
        }
        log.info("server_started node={} client={} peer={} metrics={} members={}", config.name(),
                config.listenClient(), config.listenPeer(), config.listenMetrics(), config.initialCluster().keySet());
    }

    /** A channel to {@code node}'s peer port, which also serves the etcd API, for forwarding. */
    private Channel channelTo(NodeId node) {
        Optional<InetSocketAddress> peer = addresses.address(node);
        if (peer.isEmpty()) {
            return null;
        }
        return leaderChannels.computeIfAbsent(node, n -> NettyChannelBuilder.forAddress(peer.get()).usePlaintext()
                .directExecutor() // the relay of the leader's answer only hands it on
                .maxInboundMessageSize((int) config.requestBytesMax() + 512 * 1024).build());
    }

    /** Drops the forwarding channel to a node whose address changed or that left. */
    private void retireChannel(NodeId node) {
        ManagedChannel ch = leaderChannels.remove(node);
        if (ch != null) {
            ch.shutdown();
        }
    }

    public NodeRuntime runtime() {
        return runtime;
    }

    /** This node's peer transport: the Raft streams to every other node (tests cut a link with it). */
    public PeerTransport transport() {
        return transport;
    }

    /** This node's shard replicas. */
    public ShardHost shardHost() {
        return shardHost;
    }

    /** The shard map and its intents as this node has applied them. */
    public dev.atoll.server.shard.ShardState shardState() {
        return meta.shards();
    }

    /** The member table as this node has applied it. */
    public MemberTable memberTable() {
        return meta.members();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("server_stopping node={}", config.name());
        if (clientServer != null) {
            clientServer.shutdown();
        }
        if (metricsServer != null) {
            metricsServer.stop(0);
        }
        publisher.close();
        removalWatch.close();
        shardBalancer.close();
        shardReconciler.close();
        shardHost.close();
        shardReconcileScheduler.shutdownNow();
        shardScheduler.shutdownNow();
        reconciler.close();
        membersScheduler.shutdownNow();
        changesScheduler.shutdownNow();
        etcd.close();
        transport.close();
        if (peerServer != null) {
            peerServer.shutdown();
        }
        runtime.close();
        awaitQuietly(shardScheduler);
        awaitQuietly(shardReconcileScheduler);
        shardStore.close(); // after the runtime: no apply writes to it any more
        leaderChannels.values().forEach(ManagedChannel::shutdownNow);
        etcdExecutor.shutdownNow();
        try {
            if (clientServer != null) {
                clientServer.awaitTermination(5, TimeUnit.SECONDS);
            }
            if (peerServer != null) {
                peerServer.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(ExecutorService executor) {
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String url(InetSocketAddress a) {
        return "http://" + a.getHostString() + ":" + a.getPort();
    }

    private static String target(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    public static void main(String[] args) throws Exception {
        ServerConfig config;
        try {
            config = ServerConfig.fromArgs(args);
        } catch (IllegalArgumentException e) {
            System.err.println("atoll server: " + e.getMessage());
            System.exit(2);
            return;
        }
        AtollServer server;
        try {
            server = new AtollServer(config);
        } catch (IllegalStateException e) {
            System.err.println("atoll server: " + e.getMessage());
            System.exit(1);
            return;
        }
        var done = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            server.close();
            done.countDown();
        }));
        server.removedFromCluster().thenRun(done::countDown);
        server.runtimeFailed().thenRun(done::countDown);
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            // e.g. a port taken: say so and end, rather than linger with the runtime's threads
            System.err.println("atoll server: cannot start: " + e.getMessage());
            server.close();
            System.exit(1);
            return;
        }
        done.await();
        if (server.runtimeFailed().isDone()) {
            // fail-stop: the Raft loop stopped (logged as raft_loop_failed or wal_write_failed)
            System.err.println("atoll server: stopped: " + server.runtimeFailed().join());
            System.exit(70);
        }
        if (server.removedFromCluster().isDone()) {
            System.exit(0); // as etcd: a removed member's process ends
        }
    }
}
