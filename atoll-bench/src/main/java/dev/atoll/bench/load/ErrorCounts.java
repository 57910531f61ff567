package dev.atoll.bench.load;

import dev.atoll.client.AtollException;
import io.grpc.Status;

import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Failed requests by gRPC status code (e.g. {@code UNAVAILABLE}), or by Atoll's code for atoll-client's; thread-safe. */
final class ErrorCounts {
    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

    /** Counts one failure; {@code what} qualifies the code when it is not a KV request ("watch"). */
    void add(String what, Throwable error) {
        String code = error instanceof AtollException refused ? refused.code()
                : Status.fromThrowable(error).getCode().name();
        counts.computeIfAbsent(what == null ? code : what + ":" + code, k -> new LongAdder()).increment();
    }

    long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    SortedMap<String, Long> snapshot() {
        var copy = new TreeMap<String, Long>();
        counts.forEach((k, v) -> copy.put(k, v.sum()));
        return copy;
    }
}
