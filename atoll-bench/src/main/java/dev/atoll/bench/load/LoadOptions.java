package dev.atoll.bench.load;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Everything one run of {@code atoll bench WORKLOAD [--option value ...]} is told. Bad values
 * are refused by {@link #parse} with an {@link IllegalArgumentException} naming the option;
 * the record itself re-checks its invariants, so an instance is always runnable.
 *
 * @param workload             what to send
 * @param endpoints            host:port of the members; connection i goes to endpoint i mod n
 * @param connCount            gRPC channels (HTTP/2 connections)
 * @param clientCount          requests in flight at once, spread round-robin over the channels
 * @param totalOps             measured requests to send, or 0 for no limit (then durationMillis)
 * @param durationMillis       how long to measure, or 0 for no limit (then totalOps)
 * @param warmupMillis         load sent before measuring starts, not recorded
 * @param keyCount             keys are prefix + a zero-padded index in [0, keyCount)
 * @param keyDistribution      how request keys are drawn
 * @param zipfTheta            skew of the zipfian distribution (YCSB's default 0.99)
 * @param keyBytes             length of every key, prefix included
 * @param valueBytes           length of every value written
 * @param prefix               the common prefix of every key (the watch workload watches it)
 * @param ratePerSecond        open-loop target in requests/s over all clients, or 0 for closed loop
 * @param consistency          of the range requests (range and mixed)
 * @param readRatio            share of ranges in the mixed workload
 * @param txnCompare           what the compare-and-swap compares
 * @param watcherCount         watch streams of the watch workload
 * @param requestTimeoutMillis gRPC deadline of each request
 * @param seed                 of the key and mix choices, so two runs send the same sequence
 * @param json                 print the result as one JSON object on stdout
 * @param progress             print a progress line every second on stderr
 * @param keyspace             a sharded keyspace to drive through atoll-client (ShardKV API), or empty
 *                             for the etcd v3 API (keyspace {@code default})
 */
public record LoadOptions(
        Workload workload,
        List<String> endpoints,
        int connCount,
        int clientCount,
        long totalOps,
        long durationMillis,
        long warmupMillis,
        int keyCount,
        KeyDistribution keyDistribution,
        double zipfTheta,
        int keyBytes,
        int valueBytes,
        String prefix,
        double ratePerSecond,
        Consistency consistency,
        double readRatio,
        TxnCompare txnCompare,
        int watcherCount,
        long requestTimeoutMillis,
        long seed,
        boolean json,
        boolean progress,
        String keyspace) {

    /** Limits that keep a typo from exhausting the machine. */
    public static final int CONN_COUNT_MAX = 1_024;
    public static final int CLIENT_COUNT_MAX = 100_000;
    public static final int WATCHER_COUNT_MAX = 100_000;
    public static final int KEY_COUNT_MAX = 100_000_000;
    public static final int KEY_BYTES_MAX = 1_024;
    public static final int VALUE_BYTES_MAX = 1_024 * 1_024;
    public static final long DURATION_MILLIS_DEFAULT = 10_000;

    public enum KeyDistribution { UNIFORM, ZIPFIAN }

    /** etcd's names: {@code l} linearizable (a ReadIndex round), {@code s} serializable (local). */
    public enum Consistency { LINEARIZABLE, SERIALIZABLE }

    /** Compare-and-swap on the key's mod revision (etcd's usual CAS) or on its current value. */
    public enum TxnCompare { MOD, VALUE }

    public LoadOptions {
        endpoints = List.copyOf(endpoints);
        require(!endpoints.isEmpty(), "endpoints: at least one host:port");
        for (String e : endpoints) {
            int colon = e.lastIndexOf(':');
            require(colon > 0 && colon < e.length() - 1, "endpoints: expected host:port, got '" + e + "'");
        }
        require(connCount >= 1 && connCount <= CONN_COUNT_MAX, "conns: 1.." + CONN_COUNT_MAX);
        require(clientCount >= 1 && clientCount <= CLIENT_COUNT_MAX, "clients: 1.." + CLIENT_COUNT_MAX);
        require(connCount <= clientCount, "conns: more connections (" + connCount + ") than clients ("
                + clientCount + ") would leave some idle");
        require(totalOps >= 0 && durationMillis >= 0 && warmupMillis >= 0, "total, duration, warmup: not negative");
        require(totalOps > 0 || durationMillis > 0, "total or duration: one of them is needed");
        require(keyCount >= 1 && keyCount <= KEY_COUNT_MAX, "key-count: 1.." + KEY_COUNT_MAX);
        require(zipfTheta > 0 && zipfTheta < 1, "zipf-theta: strictly between 0 and 1");
        require(keyBytes >= prefix.length() + digits(keyCount - 1) && keyBytes <= KEY_BYTES_MAX,
                "key-size: " + keyBytes + " cannot hold prefix '" + prefix + "' and " + digits(keyCount - 1)
                        + " digits (at most " + KEY_BYTES_MAX + ")");
        require(valueBytes >= 0 && valueBytes <= VALUE_BYTES_MAX, "val-size: 0.." + VALUE_BYTES_MAX);
        require(!prefix.isEmpty(), "prefix: not empty (the watch workload watches it)");
        require(ratePerSecond >= 0 && Double.isFinite(ratePerSecond), "rate: 0 (closed loop) or a positive ops/s");
        require(readRatio >= 0 && readRatio <= 1, "read-ratio: between 0 and 1");
        require(watcherCount >= 1 && watcherCount <= WATCHER_COUNT_MAX, "watchers: 1.." + WATCHER_COUNT_MAX);
        require(workload != Workload.WATCH || valueBytes >= WatchLoad.STAMP_BYTES,
                "val-size: the watch workload stamps the send time in the first " + WatchLoad.STAMP_BYTES + " bytes");
        require(requestTimeoutMillis >= 1, "timeout: positive");
        require(keyspace.isEmpty() || SHARDED_WORKLOADS.contains(workload),
                "keyspace: a sharded keyspace takes put, get (range) and mixed, not " + workload.cliName());
    }

    /** What a sharded keyspace is driven with: point writes and reads. */
    public static final Set<Workload> SHARDED_WORKLOADS = Set.of(Workload.PUT, Workload.GET, Workload.RANGE,
            Workload.MIXED);

    /** Drives a sharded keyspace through atoll-client rather than the etcd v3 API. */
    public boolean sharded() {
        return !keyspace.isEmpty();
    }

    /** The options a bare {@code atoll bench WORKLOAD} runs with. */
    public static LoadOptions defaults(Workload workload) {
        return new LoadOptions(workload, List.of("127.0.0.1:2379"), 1, 1, 0, DURATION_MILLIS_DEFAULT, 0,
                10_000, KeyDistribution.UNIFORM, 0.99, 16, 256, "bench/", 0, Consistency.LINEARIZABLE, 0.9,
                TxnCompare.MOD, 16, 10_000, 1, false, true, "");
    }

    public boolean openLoop() {
        return ratePerSecond > 0;
    }

    public static final String USAGE = """
            Usage: atoll bench WORKLOAD [options]
            Drives any etcd v3 API server (Atoll or etcd) and reports throughput and latency.
            Workloads: put | range | txn | mixed | watch; with --keyspace: put | get | mixed

              --endpoints H:P,H:P     members to connect to (default 127.0.0.1:2379)
              --conns N               gRPC connections, spread over the endpoints (default 1)
              --clients N             requests in flight at once, spread over conns (default 1)
              --total N               measured requests to send (default: none, use --duration)
              --duration D            how long to measure, e.g. 10s, 500ms, 1m (default 10s)
              --warmup D              load sent before measuring, not recorded (default 0)
              --rate R                open loop: R requests/s in total; latency counts from each
                                      request's intended start (no coordinated omission).
                                      0 = closed loop (default)
              --key-count N           distinct keys (default 10000)
              --key-dist uniform|zipfian   (default uniform; zipfian: key 0 is the hottest)
              --zipf-theta T          skew of zipfian, 0 < T < 1 (default 0.99)
              --key-size B            key length, prefix included (default 16)
              --val-size B            value length (default 256)
              --prefix P              key prefix (default bench/)
              --consistency l|s       range reads: linearizable or serializable (default l)
              --read-ratio F          mixed: share of ranges (default 0.9)
              --txn-compare mod|value txn: compare-and-swap on mod revision or value (default mod)
              --watchers N            watch: watch streams on the prefix (default 16)
              --timeout D             deadline of each request (default 10s)
              --seed N                seed of key and mix choices (default 1)
              --keyspace K            drive sharded keyspace K through atoll-client (each key
                                      straight to its shard's leader) instead of the etcd API;
                                      --conns is then unused (one channel per node)
              --json                  print the result as JSON on stdout
              --no-progress           no per-second progress line on stderr
            """;

    private static final Set<String> FLAGS = Set.of("json", "no-progress", "help");
    private static final Set<String> VALUED = Set.of("endpoints", "conns", "clients", "total", "duration",
            "warmup", "rate", "key-count", "key-dist", "zipf-theta", "key-size", "val-size", "prefix",
            "consistency", "read-ratio", "txn-compare", "watchers", "timeout", "seed", "keyspace");

    /** True when the arguments ask for the usage text. */
    public static boolean wantsHelp(String[] args) {
        return args.length == 0 || List.of(args).contains("--help") || List.of(args).contains("-h");
    }

    /**
     * Parses {@code WORKLOAD [--key value | --key=value | --flag]...}. Unknown or repeated options
     * and bad values are refused with a message naming the option.
     */
    public static LoadOptions parse(String[] args) {
        Workload workload = null;
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                require(workload == null, "unexpected argument '" + a + "' (the workload is already " + workload + ")");
                workload = Workload.parse(a);
                continue;
            }
            String key = a.substring(2);
            String value = null;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            }
            if (FLAGS.contains(key)) {
                require(value == null, key + ": takes no value");
                value = "true";
            } else if (VALUED.contains(key)) {
                if (value == null) {
                    require(i + 1 < args.length, key + ": needs a value");
                    value = args[++i];
                }
            } else {
                throw new IllegalArgumentException(key + ": unknown option (see atoll bench --help)");
            }
            require(values.put(key, value) == null, key + ": given twice");
        }
        require(workload != null, "workload: one of put, range, txn, mixed, watch (get with --keyspace)");
        LoadOptions d = defaults(workload);
        long total = longValue(values, "total", 0);
        long duration = values.containsKey("duration") ? millis("duration", values.get("duration"))
                : total > 0 ? 0 : d.durationMillis();
        return new LoadOptions(workload,
                values.containsKey("endpoints") ? endpoints(values.get("endpoints")) : d.endpoints(),
                (int) longValue(values, "conns", d.connCount()),
                (int) longValue(values, "clients", d.clientCount()),
                total, duration,
                values.containsKey("warmup") ? millis("warmup", values.get("warmup")) : d.warmupMillis(),
                (int) longValue(values, "key-count", d.keyCount()),
                enumValue(values, "key-dist", KeyDistribution.class, d.keyDistribution()),
                doubleValue(values, "zipf-theta", d.zipfTheta()),
                (int) longValue(values, "key-size", d.keyBytes()),
                (int) longValue(values, "val-size", d.valueBytes()),
                values.getOrDefault("prefix", d.prefix()),
                doubleValue(values, "rate", d.ratePerSecond()),
                consistency(values.get("consistency"), d.consistency()),
                doubleValue(values, "read-ratio", d.readRatio()),
                enumValue(values, "txn-compare", TxnCompare.class, d.txnCompare()),
                (int) longValue(values, "watchers", d.watcherCount()),
                values.containsKey("timeout") ? millis("timeout", values.get("timeout")) : d.requestTimeoutMillis(),
                longValue(values, "seed", d.seed()),
                values.containsKey("json"),
                !values.containsKey("no-progress"),
                values.getOrDefault("keyspace", d.keyspace()).trim());
    }

    /** Parses a duration: {@code 250ms}, {@code 10s}, {@code 1.5s}, {@code 2m}, or bare seconds. */
    static long millis(String key, String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        double scale = 1_000;
        if (v.endsWith("ms")) {
            scale = 1;
            v = v.substring(0, v.length() - 2);
        } else if (v.endsWith("s")) {
            v = v.substring(0, v.length() - 1);
        } else if (v.endsWith("m")) {
            scale = 60_000;
            v = v.substring(0, v.length() - 1);
        }
        try {
            double amount = Double.parseDouble(v);
            require(amount >= 0 && Double.isFinite(amount), key + ": not negative: " + value);
            return Math.round(amount * scale);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a duration (e.g. 10s, 500ms, 1m): " + value);
        }
    }

    private static List<String> endpoints(String value) {
        var list = new ArrayList<String>();
        for (String part : value.split(",")) {
            String e = part.trim().replaceFirst("^[a-z]+://", "");
            if (!e.isEmpty()) {
                list.add(e);
            }
        }
        return list;
    }

    private static Consistency consistency(String value, Consistency absent) {
        if (value == null) {
            return absent;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "l", "linearizable" -> Consistency.LINEARIZABLE;
            case "s", "serializable" -> Consistency.SERIALIZABLE;
            default -> throw new IllegalArgumentException("consistency: l or s, got " + value);
        };
    }

    private static long longValue(Map<String, String> values, String key, long absent) {
        String v = values.get(key);
        if (v == null) {
            return absent;
        }
        try {
            long n = Long.parseLong(v.trim().replace("_", ""));
            require(key.equals("seed") || n <= Integer.MAX_VALUE || key.equals("total"), key + ": too large: " + v);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a whole number: " + v);
        }
    }

    private static double doubleValue(Map<String, String> values, String key, double absent) {
        String v = values.get(key);
        if (v == null) {
            return absent;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": not a number: " + v);
        }
    }

    private static <E extends Enum<E>> E enumValue(Map<String, String> values, String key, Class<E> type, E absent) {
        String v = values.get(key);
        if (v == null) {
            return absent;
        }
        try {
            return Enum.valueOf(type, v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": unknown '" + v + "' (known: "
                    + List.of(type.getEnumConstants()).toString().toLowerCase(Locale.ROOT) + ")");
        }
    }

    static int digits(long n) {
        return Long.toString(Math.max(0, n)).length();
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
