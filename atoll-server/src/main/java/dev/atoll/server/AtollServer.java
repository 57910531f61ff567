package dev.atoll.server;

import com.sun.net.httpserver.HttpServer;
import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.server.etcd.EtcdApi;
import dev.atoll.server.etcd.EtcdMembers;
import dev.atoll.server.etcd.EtcdOptions;
import dev.atoll.server.etcd.EtcdStateMachine;
import dev.atoll.server.etcd.LeaseDeadlines;
import dev.atoll.server.peer.PeerTransport;
import dev.atoll.server.peer.PeerTransportOptions;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.PeerSender;
import dev.atoll.storage.mvcc.MvccConfig;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Server;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One Atoll node: the runtime hosting the meta group and the {@code default} keyspace (etcd's
 * data model), the peer transport, the etcd v3 API on the client port, and Prometheus metrics.
 * {@link #main} is what {@code atoll server} runs; SIGTERM stops it cleanly, and any crash
 * (kill -9) leaves nothing acknowledged unwritten (the WAL is fsynced before any answer).
 */
public final class AtollServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AtollServer.class);
    /** Group ids: the meta group holds cluster metadata; the default group is etcd's keyspace. */
    public static final long META_GROUP = 0;
    public static final long DEFAULT_GROUP = 1;

    private final ServerConfig config;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final NodeRuntime runtime;
    private final PeerTransport transport;
    private final EtcdApi etcd;
    private final ExecutorService etcdExecutor;
    private final Map<NodeId, ManagedChannel> leaderChannels = new ConcurrentHashMap<>();
    private Server peerServer;
    private Server clientServer;
    private HttpServer metricsServer;

    public AtollServer(ServerConfig config) {
        this.config = config;
        NodeId self = config.nodeId();
        var voters = new TreeSet<>(config.initialCluster().keySet());
        Membership founders = Membership.ofVoters(voters);
        EtcdOptions etcdOptions = EtcdOptions.defaults();
        // a whole request must fit one Raft entry, and one AppendEntries (with headroom)
        RaftConfig raft = RaftConfig.defaults().withFlowControl(RaftConfig.INFLIGHT_APPENDS_MAX,
                RaftConfig.APPEND_ENTRIES_MAX, (int) config.requestBytesMax() + 64 * 1024);

        runtime = new NodeRuntime(self, config.dataDir(),
                NodeRuntime.Options.defaults().withSnapshotEveryEntries(config.snapshotCount()), metrics);
        runtime.addGroup(META_GROUP, raft, founders, new MetaStateMachine());
        etcdExecutor = EtcdApi.newExecutor(Math.max(4, Runtime.getRuntime().availableProcessors() * 2), 10_000);
        var stateMachine = new EtcdStateMachine(config.dataDir().resolve("kv"), MvccConfig.defaults(), etcdOptions,
                etcdExecutor, new LeaseDeadlines(System::nanoTime));
        runtime.addGroup(DEFAULT_GROUP, raft, founders, stateMachine);

        var urls = new TreeMap<NodeId, EtcdMembers.MemberUrls>();
        for (var e : config.initialCluster().entrySet()) {
            InetSocketAddress client = config.initialClusterClients().get(e.getKey());
            if (e.getKey().equals(self)) {
                client = config.listenClient();
            }
            urls.put(e.getKey(), new EtcdMembers.MemberUrls(List.of(url(e.getValue())),
                    client == null ? List.of() : List.of(url(client))));
        }
        String clusterName = new TreeMap<>(config.initialCluster()).toString();
        var members = new EtcdMembers(clusterName, urls);
        etcd = new EtcdApi(runtime, DEFAULT_GROUP, stateMachine, etcdOptions, members, this::channelTo, etcdExecutor);

        transport = new PeerTransport(self, Long.toHexString(members.clusterId()), PeerTransportOptions.defaults(),
                (groupId, envelope, traceparent) -> {
                    runtime.deliver(groupId, envelope);
                    return true;
                }, metrics);
        for (var e : config.initialCluster().entrySet()) {
            if (!e.getKey().equals(self)) {
                transport.addPeer(e.getKey(), e.getValue().getHostString() + ":" + e.getValue().getPort());
            }
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
        runtime.start(new PeerSender() {
            @Override
            public void send(long groupId, dev.atoll.core.protocol.Envelope<dev.atoll.consensus.raft.RaftMessage> e) {
                transport.send(groupId, e);
            }

            @Override
            public void flush() {
                transport.flush();
            }
        });
        peerServer = peer.build().start();
        clientServer = client.build().start();
        etcd.start();
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

    private Channel channelTo(NodeId node) {
        InetSocketAddress peer = config.initialCluster().get(node);
        if (peer == null) {
            return null;
        }
        return leaderChannels.computeIfAbsent(node, n -> NettyChannelBuilder.forAddress(peer).usePlaintext()
                .directExecutor() // the relay of the leader's answer only hands it on
                .maxInboundMessageSize((int) config.requestBytesMax() + 512 * 1024).build());
    }

    public NodeRuntime runtime() {
        return runtime;
    }

    @Override
    public void close() {
        log.info("server_stopping node={}", config.name());
        if (clientServer != null) {
            clientServer.shutdown();
        }
        if (metricsServer != null) {
            metricsServer.stop(0);
        }
        etcd.close();
        transport.close();
        if (peerServer != null) {
            peerServer.shutdown();
        }
        runtime.close();
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

    private static String url(InetSocketAddress a) {
        return "http://" + a.getHostString() + ":" + a.getPort();
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
        var server = new AtollServer(config);
        var done = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            server.close();
            done.countDown();
        }));
        server.start();
        done.await();
    }
}
