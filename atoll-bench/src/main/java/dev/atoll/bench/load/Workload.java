package dev.atoll.bench.load;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What the load generator asks of the server: one etcd v3 request shape per workload. */
public enum Workload {
    /** KV.Put of one key. */
    PUT,
    /** KV.Range of one key, linearizable or serializable ({@code --consistency}). */
    RANGE,
    /** The same point read as {@link #RANGE}, by the name it has on a sharded keyspace ({@code --keyspace}). */
    GET,
    /** KV.Txn: compare-and-swap of one key on its mod revision or its value ({@code --txn-compare}). */
    TXN,
    /** Range or Put per request, reads with probability {@code --read-ratio}. */
    MIXED,
    /** {@code --watchers} watch streams on the key prefix while the clients put; reports deliveries. */
    WATCH;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Workload parse(String name) {
        for (Workload w : values()) {
            if (w.cliName().equals(name)) {
                return w;
            }
        }
        throw new IllegalArgumentException("workload: unknown '" + name + "' (known: "
                + Arrays.stream(values()).map(Workload::cliName).collect(Collectors.joining(", ")) + ")");
    }
}
