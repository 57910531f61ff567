package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The write load of the data move tests: each writer overwrites keys of its own (so each key's
 * last acknowledged value is well defined) through the nodes in turn, and retries a refused put
 * with the same value until it is acknowledged before writing anything else, so the value a key
 * ends with is its last acknowledged one. {@link #close} lets each writer finish its put.
 */
final class MoveWriters implements AutoCloseable {
    private final Map<String, String> acked = new ConcurrentHashMap<>();
    private final java.util.Set<String> uncertain = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong ackCount = new java.util.concurrent.atomic.AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> writers = new ArrayList<>();

    /** {@code keys.get(w)}: writer w's keys; {@code kv}: a stub to node i (of {@code nodes}, skipped while down). */
    MoveWriters(String keyspace, List<List<String>> keys, int nodes, IntFunction<ShardKVGrpc.ShardKVBlockingStub> kv,
                java.util.function.IntPredicate up) {
        for (int w = 0; w < keys.size(); w++) {
            List<String> own = keys.get(w);
            int writer = w;
            writers.add(Thread.ofPlatform().name("move-writer-" + w).start(() -> {
                for (long seq = 0; !stop.get(); seq++) {
                    String key = own.get((int) ((seq * 7) % own.size()));
                    String value = "w" + writer + "-" + seq;
                    for (int attempt = 0; ; attempt++) {
                        int via = (int) ((seq + attempt + writer) % nodes);
                        if (stop.get() && attempt > 3000) {
                            uncertain.add(key); // given up after a minute: it may hold this value or the last acknowledged
                            return;
                        }
                        if (!up.test(via)) {
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                            continue;
                        }
                        try {
                            kv.apply(via).put(PutRequest.newBuilder().setKeyspace(keyspace)
                                    .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value))
                                    .build());
                            acked.put(key, value);
                            ackCount.incrementAndGet();
                            break;
                        } catch (StatusRuntimeException refused) {
                            // shard moved, no leader yet, a node restarting: the same put again, paced
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                        }
                    }
                }
            }));
        }
    }

    /** Key to its last acknowledged value. */
    Map<String, String> acked() {
        return acked;
    }

    /** Keys whose last put was given up at close: their value is the last acknowledged or that put's. */
    java.util.Set<String> uncertain() {
        return uncertain;
    }

    /** Waits until {@code more} more puts are acknowledged than now. */
    void awaitProgress(int more) throws InterruptedException {
        long target = ackCount.get() + more;
        ProcessCluster.await(more + " more acknowledged writes", Duration.ofSeconds(90), () -> ackCount.get() >= target);
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(120));
        }
    }
}
