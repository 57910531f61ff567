package dev.atoll.server;

import dev.atoll.consensus.raft.ReadMode;
import dev.atoll.core.NodeId;
import dev.atoll.server.cluster.NodeLabels;
import dev.atoll.server.shard.AdminService;
import dev.atoll.shard.SplitPolicy;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * How one {@code atoll server} is configured: from command-line flags, or a properties file
 * with the same keys ({@code name}, {@code data-dir}, {@code listen-client}, {@code listen-peer},
 * {@code listen-metrics}, {@code initial-cluster}, {@code initial-cluster-clients},
 * {@code request-bytes-max}, {@code snapshot-count}, {@code initial-cluster-state}, {@code region},
 * {@code zone}, {@code capacity-bytes}, {@code split-size-bytes}, {@code split-load-qps},
 * {@code merge-after-seconds}, {@code rebalance}, {@code read-mode}).
 * A bad value
 * is refused with a message naming the key; nothing starts.
 *
 * @param name                  this member's name, also its node id in Raft
 * @param dataDir               where the WAL, snapshots and the MVCC store live
 * @param listenClient          the etcd v3 API (gRPC)
 * @param listenPeer            peer Raft traffic (gRPC); also serves the etcd API to forwarders
 * @param listenMetrics         Prometheus /metrics over HTTP, or null for none
 * @param initialCluster        every founding member's peer address, by name
 * @param initialClusterClients every founding member's client address, by name (may be partial)
 * @param requestBytesMax       largest client request accepted (etcd's default 1.5 MiB)
 * @param snapshotCount         applied entries between two snapshots of a group
 * @param initialClusterState   {@code new}: this member founds the cluster with the others in
 *                              initial-cluster; {@code existing}: it joins a running cluster that
 *                              added it (etcdctl member add), starting its groups empty. Used on the
 *                              first start only, as etcd's --initial-cluster-state
 * @param labels                the node's region, zone and capacity, for placement
 * @param splitPolicy           when the placement driver (on whichever node leads the meta group) splits a
 *                              range or hash shard: at a size or at a request rate; two shards merge together
 *                              under a fifth of each once neither range changed for merge-after-seconds
 *                              (default an hour, as TiKV's split-merge-interval), never below the shards their
 *                              keyspace was created with
 * @param rebalance             {@code on} (default): this node, while it leads the meta group, runs the placement
 *                              driver (splits, replica and leader balancing); {@code off}: placement changes only by
 *                              admin command, as CockroachDB with its replicate queue disabled
 * @param readMode              how a leader confirms a linearizable read: {@code index} (default, as etcd): a
 *                              heartbeat round acknowledged by a quorum after the read arrived (ReadIndex, batched);
 *                              {@code lease}: from the leader lease of the last acknowledged round, no round trip
 *                              while it holds (as TiKV's and CockroachDB's lease reads), falling back to ReadIndex
 *                              when it has run out. A lease assumes the nodes' clocks run at nearly the same rate
 *                              (drift under 2 ticks, 100 ms, per election timeout); it does not depend on their
 *                              wall-clock time
 */
public record ServerConfig(
        String name,
        Path dataDir,
        InetSocketAddress listenClient,
        InetSocketAddress listenPeer,
        InetSocketAddress listenMetrics,
        Map<NodeId, InetSocketAddress> initialCluster,
        Map<NodeId, InetSocketAddress> initialClusterClients,
        long requestBytesMax,
        long snapshotCount,
        ClusterState initialClusterState,
        NodeLabels labels,
        SplitPolicy splitPolicy,
        boolean rebalance,
        ReadMode readMode) {

    /** etcd's --initial-cluster-state. */
    public enum ClusterState {
        NEW, EXISTING;

        static ClusterState parse(String value) {
            if (value == null || value.isBlank()) {
                return NEW;
            }
            return switch (value.strip()) {
                case "new" -> NEW;
                case "existing" -> EXISTING;
                default -> throw new IllegalArgumentException(
                        "initial-cluster-state: expected new or existing, got " + value);
            };
        }
    }

    public static final long REQUEST_BYTES_MAX_DEFAULT = 3 * 512 * 1024; // 1.5 MiB, as etcd
    /** Applied entries between two snapshots of a group (etcd's --snapshot-count). */
    public static final long SNAPSHOT_COUNT_DEFAULT = 10_000;
    /** A split's halves (or any range) stay apart at least this long before the driver may merge them. */
    public static final long MERGE_AFTER_SECONDS_DEFAULT = 3600;

    public ServerConfig {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name: required");
        }
        labels = labels == null ? NodeLabels.DEFAULT : labels;
        splitPolicy = splitPolicy == null ? SplitPolicy.defaults() : splitPolicy;
        readMode = readMode == null ? ReadMode.READ_INDEX : readMode;
        if (dataDir == null) {
            throw new IllegalArgumentException("data-dir: required");
        }
        if (listenClient == null || listenPeer == null) {
            throw new IllegalArgumentException("listen-client and listen-peer: required");
        }
        if (initialCluster == null || initialCluster.isEmpty()) {
            initialCluster = Map.of(NodeId.of(name), listenPeer);
        }
        if (!initialCluster.containsKey(NodeId.of(name))) {
            throw new IllegalArgumentException("initial-cluster: does not name this member " + name);
        }
        initialCluster = Map.copyOf(initialCluster);
        initialClusterClients = initialClusterClients == null ? Map.of() : Map.copyOf(initialClusterClients);
        if (requestBytesMax <= 0) {
            throw new IllegalArgumentException("request-bytes-max: must be positive");
        }
        if (snapshotCount <= 0) {
            throw new IllegalArgumentException("snapshot-count: must be positive");
        }
        if (initialClusterState == null) {
            initialClusterState = ClusterState.NEW;
        }
        if (initialClusterState == ClusterState.EXISTING && initialCluster.size() < 2) {
            throw new IllegalArgumentException(
                    "initial-cluster: an existing cluster is joined through its members; name them");
        }
    }

    public NodeId nodeId() {
        return NodeId.of(name);
    }

    public ServerConfig withLabels(NodeLabels newLabels) {
        return new ServerConfig(name, dataDir, listenClient, listenPeer, listenMetrics, initialCluster,
                initialClusterClients, requestBytesMax, snapshotCount, initialClusterState, newLabels, splitPolicy,
                rebalance, readMode);
    }

    /**
     * Reads flags ({@code --key value} or {@code --key=value}) over an optional {@code --config FILE} of the same keys;
     * a flag wins over the file. Unknown keys are refused.
     */
    public static ServerConfig fromArgs(String[] args) {
        var values = new java.util.LinkedHashMap<String, String>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 2) {
                values.put(a.substring(2, eq), a.substring(eq + 1)); // --key=value, as etcd's flags
                continue;
            }
            if (!a.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --key value, got " + a);
            }
            values.put(a.substring(2), args[++i]);
        }
        var merged = new java.util.LinkedHashMap<String, String>();
        String file = values.remove("config");
        if (file != null) {
            readFile(Path.of(file)).forEach((k, v) -> merged.put(k.toString(), v.toString()));
        }
        merged.putAll(values);
        var known = java.util.Set.of("name", "data-dir", "listen-client", "listen-peer", "listen-metrics",
                "initial-cluster", "initial-cluster-clients", "request-bytes-max", "snapshot-count",
                "initial-cluster-state", "region", "zone", "capacity-bytes", "split-size-bytes", "split-load-qps",
                "merge-after-seconds", "rebalance", "read-mode");
        for (String k : merged.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException(k + ": unknown setting (known: " + new java.util.TreeSet<>(known) + ")");
            }
        }
        String dataDir = merged.get("data-dir");
        return new ServerConfig(merged.get("name"), dataDir == null ? null : Path.of(dataDir),
                address("listen-client", merged.get("listen-client")),
                address("listen-peer", merged.get("listen-peer")),
                address("listen-metrics", merged.get("listen-metrics")),
                members("initial-cluster", merged.get("initial-cluster")),
                members("initial-cluster-clients", merged.get("initial-cluster-clients")),
                number(merged, "request-bytes-max", REQUEST_BYTES_MAX_DEFAULT),
                number(merged, "snapshot-count", SNAPSHOT_COUNT_DEFAULT),
                ClusterState.parse(merged.get("initial-cluster-state")),
                new NodeLabels(merged.getOrDefault("region", NodeLabels.REGION_DEFAULT).strip(),
                        merged.getOrDefault("zone", "").strip(),
                        number(merged, "capacity-bytes", NodeLabels.CAPACITY_BYTES_DEFAULT)),
                splitPolicy(number(merged, "split-size-bytes", SplitPolicy.defaults().splitSizeBytes()),
                        number(merged, "split-load-qps", SplitPolicy.defaults().splitLoadQps()),
                        number(merged, "merge-after-seconds", MERGE_AFTER_SECONDS_DEFAULT)),
                onOff("rebalance", merged.getOrDefault("rebalance", "on")),
                readMode(merged.getOrDefault("read-mode", "index")));
    }

    /**
     * Splits at {@code sizeBytes} or {@code loadQps}; merges two shards together under a fifth of
     * each (and under what one merge carries, {@link AdminService#MERGE_SOURCE_BYTES_MAX}) once
     * neither range changed for {@code mergeAfterSeconds} (the placement driver counts range age
     * in seconds).
     */
    private static SplitPolicy splitPolicy(long sizeBytes, long loadQps, long mergeAfterSeconds) {
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("split-size-bytes: must be positive: " + sizeBytes);
        }
        if (loadQps <= 0) {
            throw new IllegalArgumentException("split-load-qps: must be positive: " + loadQps);
        }
        if (mergeAfterSeconds < 0) {
            throw new IllegalArgumentException("merge-after-seconds: must not be negative: " + mergeAfterSeconds);
        }
        return new SplitPolicy(sizeBytes, loadQps, Math.min(sizeBytes / 5, AdminService.MERGE_SOURCE_BYTES_MAX),
                loadQps / 5, mergeAfterSeconds);
    }

    private static ReadMode readMode(String value) {
        return switch (value.strip()) {
            case "index" -> ReadMode.READ_INDEX;
            case "lease" -> ReadMode.LEASE;
            default -> throw new IllegalArgumentException("read-mode: expected index or lease, got " + value);
        };
    }

    private static boolean onOff(String key, String value) {
        return switch (value.strip()) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new IllegalArgumentException(key + ": expected on or off, got " + value);
        };
    }

    private static long number(Map<String, String> values, String key, long absent) {
        String v = values.get(key);
        if (v == null) {
            return absent;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a number: " + v);
        }
    }

    /** Parses "host:port". */
    public static InetSocketAddress address(String key, String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim().replaceFirst("^[a-z]+://", "");
        int colon = v.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException(key + ": expected host:port, got " + value);
        }
        try {
            int port = Integer.parseInt(v.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(v.substring(0, colon), port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": bad port in " + value);
        }
    }

    /** Parses "n1=host:port,n2=host:port". */
    public static Map<NodeId, InetSocketAddress> members(String key, String value) {
        var members = new LinkedHashMap<NodeId, InetSocketAddress>();
        if (value == null || value.isBlank()) {
            return members;
        }
        for (String part : value.split(",")) {
            int eq = part.indexOf('=');
            if (eq == 0) {
                // etcdctl member add prints members that have not started yet as "=URL": they
                // have no name to be reached by, and the cluster tells where they are
                continue;
            }
            if (eq < 0) {
                throw new IllegalArgumentException(key + ": expected name=host:port, got " + part);
            }
            NodeId id = NodeId.of(part.substring(0, eq).trim());
            if (members.put(id, address(key, part.substring(eq + 1))) != null) {
                throw new IllegalArgumentException(key + ": " + id + " named twice");
            }
        }
        return members;
    }

    /** Reads a properties file with the flag names as keys. */
    public static Properties readFile(Path file) {
        var p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("config: cannot read " + file + ": " + e.getMessage());
        }
        return p;
    }
}
