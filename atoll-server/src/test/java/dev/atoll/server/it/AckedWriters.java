package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.GetResponse;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import io.grpc.StatusRuntimeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The write load of the process tests that split and merge shards: three writers put keys
 * spread over the whole key space (so every part of every split or merge is written) through
 * the first two members only (the third may be down a while), and remember what was
 * acknowledged. {@link #close} stops them.
 */
final class AckedWriters implements AutoCloseable {
    private final Map<String, String> acked = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> writers = new ArrayList<>();

    AckedWriters(ProcessCluster cluster, String keyspace) {
        List<ServerProcess> nodes = cluster.members();
        for (int w = 0; w < 3; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                for (long seq = 0; !stop.get(); seq++) {
                    String key = String.format("%02x-w%d-%d", (seq * 37 + writer * 11) % 256, writer, seq);
                    String value = "v" + seq;
                    ServerProcess via = nodes.get((int) ((seq + writer) % 2));
                    try {
                        ShardKVGrpc.newBlockingStub(cluster.channel(via)).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .put(PutRequest.newBuilder().setKeyspace(keyspace).setKey(utf8(key))
                                        .setValue(utf8(value)).build());
                        acked.put(key, value);
                    } catch (StatusRuntimeException notAcknowledged) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // pace the next attempt
                    }
                }
            }));
        }
    }

    static ByteString utf8(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /** What was acknowledged so far: key to its last acknowledged value. */
    Map<String, String> acked() {
        return acked;
    }

    /** Waits until {@code more} writes more than now are acknowledged. */
    void awaitMore(int more) throws InterruptedException {
        int target = acked.size() + more;
        ProcessCluster.await(more + " more acknowledged writes", Duration.ofSeconds(60), () -> acked.size() >= target);
    }

    /**
     * Reads every acknowledged key through the members in turn (each read retried for 30 s while
     * refused, the last refusal printed) and checks its last acknowledged value.
     */
    static void assertEveryAckedReadable(ProcessCluster cluster, String keyspace, Map<String, String> acked)
            throws InterruptedException {
        List<ServerProcess> nodes = cluster.members();
        int i = 0;
        for (Map.Entry<String, String> e : acked.entrySet()) {
            ServerProcess via = nodes.get(i++ % nodes.size());
            var lastRefusal = new java.util.concurrent.atomic.AtomicReference<>("none");
            GetResponse got = ProcessCluster.awaitValue("a read of " + e.getKey() + " through " + via.name
                    + " (the last refusal is printed above)", Duration.ofSeconds(30), () -> {
                try {
                    return Optional.of(ShardKVGrpc.newBlockingStub(cluster.channel(via))
                            .withDeadlineAfter(10, TimeUnit.SECONDS).get(GetRequest.newBuilder()
                                    .setKeyspace(keyspace).setKey(utf8(e.getKey())).build()));
                } catch (StatusRuntimeException notNow) {
                    if (!lastRefusal.getAndSet(notNow.getMessage()).equals(notNow.getMessage())) {
                        System.out.println("read of " + e.getKey() + " through " + via.name + " refused: "
                                + notNow.getMessage());
                    }
                    return Optional.empty();
                }
            });
            assertThat(got.getFound()).as("acknowledged %s found", e.getKey()).isTrue();
            assertThat(got.getValue().toStringUtf8()).isEqualTo(e.getValue());
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : writers) {
            t.join(30_000);
        }
    }
}
