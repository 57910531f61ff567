package dev.atoll.bench.load;

import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one run measured, after warmup: completed requests, throughput, latency of the
 * requests that succeeded (from intended start in open loop, from send in closed loop), and
 * failures counted by gRPC status code (over the whole run, warmup included: a failure is
 * worth seeing whenever it happened). {@link #toJson} is the machine-readable form that
 * bench/compare-etcd.sh reads.
 *
 * @param options         what was asked
 * @param durationSeconds from the start of measuring to the last measured completion
 * @param opCount         measured requests that succeeded
 * @param latency         of those requests
 * @param errors          failed requests by gRPC status code name
 * @param txn             compare-and-swap outcomes, or null for other workloads
 * @param watch           deliveries, or null for other workloads
 * @param clientCpuMicrosPerOp the load generator's own CPU (its whole process, every thread) per
 *                        request completed while measuring, or NaN when not measured: on a
 *                        machine the generator shares with the servers, what it takes is not
 *                        theirs, and it bounds the throughput ratio any server can reach
 */
public record LoadResult(LoadOptions options, double durationSeconds, long opCount, Latency latency,
                         SortedMap<String, Long> errors, TxnOutcomes txn, WatchDeliveries watch,
                         double clientCpuMicrosPerOp) {

    /** Of the measured compare-and-swaps: how many swapped and how many found the key changed. */
    public record TxnOutcomes(long swapCount, long conflictCount) {
    }

    /** Events delivered to every watcher for measured puts, and their delivery latency. */
    public record WatchDeliveries(int watcherCount, long eventCount, double eventsPerSecond, Latency latency) {
    }

    public LoadResult {
        errors = new TreeMap<>(errors);
    }

    /** A result whose load generator CPU was not measured. */
    public LoadResult(LoadOptions options, double durationSeconds, long opCount, Latency latency,
                      SortedMap<String, Long> errors, TxnOutcomes txn, WatchDeliveries watch) {
        this(options, durationSeconds, opCount, latency, errors, txn, watch, Double.NaN);
    }

    public double opsPerSecond() {
        return durationSeconds > 0 ? opCount / durationSeconds : 0;
    }

    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    public String toJson() {
        var o = new JsonObject();
        o.put("workload", options.workload().cliName());
        if (options.sharded()) {
            o.put("keyspace", options.keyspace());
        }
        o.putRaw("endpoints", JsonObject.array(options.endpoints()));
        o.put("conns", options.connCount());
        o.put("clients", options.clientCount());
        o.put("rate", options.ratePerSecond());
        o.put("keyCount", options.keyCount());
        o.put("keyDist", options.keyDistribution().name().toLowerCase(Locale.ROOT));
        o.put("keySize", options.keyBytes());
        o.put("valSize", options.valueBytes());
        if (options.workload() == Workload.RANGE || options.workload() == Workload.GET
                || options.workload() == Workload.MIXED) {
            o.put("consistency", options.consistency().name().toLowerCase(Locale.ROOT));
        }
        if (options.workload() == Workload.MIXED) {
            o.put("readRatio", options.readRatio());
        }
        o.put("durationSeconds", durationSeconds);
        o.put("opCount", opCount);
        o.put("opsPerSecond", opsPerSecond());
        putLatency(o, "latency", latency);
        o.put("errorCount", errorCount());
        if (Double.isFinite(clientCpuMicrosPerOp)) {
            o.put("clientCpuMicrosPerOp", clientCpuMicrosPerOp);
        }
        var e = new JsonObject();
        errors.forEach(e::put);
        o.putRaw("errors", e.toString());
        if (txn != null) {
            o.put("txnCompare", options.txnCompare().name().toLowerCase(Locale.ROOT));
            o.put("txnSwapCount", txn.swapCount());
            o.put("txnConflictCount", txn.conflictCount());
        }
        if (watch != null) {
            o.put("watcherCount", watch.watcherCount());
            o.put("watchEventCount", watch.eventCount());
            o.put("watchEventsPerSecond", watch.eventsPerSecond());
            putLatency(o, "watchLatency", watch.latency());
        }
        return o.toString();
    }

    private static void putLatency(JsonObject o, String name, Latency l) {
        o.put(name + "MicrosP50", l.microsP50());
        o.put(name + "MicrosP90", l.microsP90());
        o.put(name + "MicrosP99", l.microsP99());
        o.put(name + "MicrosP999", l.microsP999());
        o.put(name + "MicrosMax", l.microsMax());
        o.put(name + "MicrosMean", l.microsMean());
    }

    /** The summary a person reads. */
    public String toText() {
        var b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%s: %d ops in %.2f s = %.1f ops/s (%d clients, %s, %s)%n",
                options.workload().cliName() + (options.sharded() ? " on keyspace " + options.keyspace() : ""),
                opCount, durationSeconds, opsPerSecond(), options.clientCount(),
                options.sharded() ? "atoll-client" : options.connCount() + " conns", options.openLoop()
                        ? String.format(Locale.ROOT, "open loop at %.0f/s", options.ratePerSecond()) : "closed loop"));
        b.append(latencyLine(options.openLoop() ? "latency from intended start" : "latency", latency));
        if (txn != null) {
            b.append(String.format(Locale.ROOT, "compare-and-swap on %s: %d swapped, %d found the key changed%n",
                    options.txnCompare().name().toLowerCase(Locale.ROOT), txn.swapCount(), txn.conflictCount()));
        }
        if (watch != null) {
            b.append(String.format(Locale.ROOT, "watch: %d watchers, %d events delivered = %.1f events/s%n",
                    watch.watcherCount(), watch.eventCount(), watch.eventsPerSecond()));
            b.append(latencyLine("delivery latency (put sent to event received)", watch.latency()));
        }
        if (Double.isFinite(clientCpuMicrosPerOp)) {
            b.append(String.format(Locale.ROOT, "load generator CPU: %.0f us per request%n", clientCpuMicrosPerOp));
        }
        b.append(errors.isEmpty() ? "errors: none" : "errors: " + errorCount() + " " + errors).append('\n');
        return b.toString();
    }

    private static String latencyLine(String what, Latency l) {
        return String.format(Locale.ROOT, "%s ms: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %.3f%n", what,
                Latency.millis(l.microsP50()), Latency.millis(l.microsP90()), Latency.millis(l.microsP99()),
                Latency.millis(l.microsP999()), Latency.millis(l.microsMax()), l.microsMean() / 1000);
    }

    /** A JSON object written in insertion order; enough for flat results, no library needed. */
    static final class JsonObject {
        private final StringBuilder body = new StringBuilder();

        void put(String key, String value) {
            putRaw(key, quote(value));
        }

        void put(String key, long value) {
            putRaw(key, Long.toString(value));
        }

        void put(String key, double value) {
            putRaw(key, Double.isFinite(value) ? String.format(Locale.ROOT, "%.3f", value) : "null");
        }

        void putRaw(String key, String json) {
            if (!body.isEmpty()) {
                body.append(',');
            }
            body.append(quote(key)).append(':').append(json);
        }

        @Override
        public String toString() {
            return "{" + body + "}";
        }

        static String array(List<String> values) {
            var b = new StringBuilder("[");
            for (int i = 0; i < values.size(); i++) {
                b.append(i == 0 ? "" : ",").append(quote(values.get(i)));
            }
            return b.append(']').toString();
        }

        static String quote(String s) {
            var b = new StringBuilder("\"");
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }
    }
}
