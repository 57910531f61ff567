package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the in-process sharding tests share: a cluster of {@link AtollServer}s in one JVM, started
 * before each test with {@link #serverArgs()} and stopped after it, and the admin and data stubs
 * of each node.
 */
abstract class InProcessShardTest {
    @TempDir
    Path dir;

    InProcessCluster cluster;

    /** Each node's extra server flags, one list per node (n1, n2, ...): three nodes by default. */
    List<List<String>> serverArgs() {
        return List.of(List.of(), List.of(), List.of());
    }

    /** Three nodes that leave replica placement to the test ({@code --rebalance off}). */
    static List<List<String>> placementByHand() {
        List<String> manual = List.of("--rebalance", "off");
        return List.of(manual, manual, manual);
    }

    @BeforeEach
    void startCluster() throws Exception {
        cluster = InProcessCluster.start(dir, serverArgs());
    }

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    AdminGrpc.AdminBlockingStub admin(int i) {
        return cluster.admin(i);
    }

    ShardKVGrpc.ShardKVBlockingStub kv(int i) {
        return cluster.kv(i);
    }

    static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    List<ShardInfo> shards(String keyspace) {
        return admin(0).listShards(ListShardsRequest.newBuilder().setKeyspace(keyspace).build()).getShardsList();
    }

    /** Creates a keyspace, trying again while the meta group elects its first leader. */
    void createKeyspace(CreateKeyspaceRequest request) throws InterruptedException {
        cluster.createKeyspace(request);
    }

    /**
     * Puts {@code key} through node {@code via}, again while refused (a leader changing, a shard
     * moving) for up to 30 s: the same value each time, so a put whose answer was lost is harmless.
     */
    void put(int via, String keyspace, String key, String value) throws InterruptedException {
        ProcessCluster.await("a put of " + key, Duration.ofSeconds(30), () -> {
            try {
                kv(via).put(PutRequest.newBuilder().setKeyspace(keyspace).setKey(b(key)).setValue(b(value)).build());
                return true;
            } catch (StatusRuntimeException refused) {
                return false;
            }
        });
    }

    /** Waits until {@code more} writes were acknowledged after now: the writers make progress. */
    static void awaitAcknowledgedAfter(IntSupplier acknowledged, int more) throws InterruptedException {
        int target = acknowledged.getAsInt() + more;
        ProcessCluster.await(more + " more acknowledged writes", Duration.ofSeconds(60),
                () -> acknowledged.getAsInt() >= target);
    }

    /** The key writer {@code writer} puts {@code n}-th. */
    @FunctionalInterface
    interface KeyOf {
        String key(int writer, int n);
    }

    /**
     * Writers that put new keys into a keyspace through the nodes in turn until closed, and
     * remember what was acknowledged (key to its last acknowledged value). A refused put (a stale
     * map, a frozen source, no leader yet) is not acknowledged; the writer paces its next one.
     */
    final class Writers implements AutoCloseable {
        final Map<String, String> acknowledged = new ConcurrentHashMap<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();

        Writers(String keyspace, int count, KeyOf keyOf) {
            this(keyspace, count, keyOf, Duration.ZERO);
        }

        /** Writers that rest {@code pause} after each acknowledged write: a load of at most count/pause. */
        Writers(String keyspace, int count, KeyOf keyOf, Duration pause) {
            for (int w = 0; w < count; w++) {
                int writer = w;
                threads.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                    for (int n = 0; !stop.get(); n++) {
                        String k = keyOf.key(writer, n);
                        String v = "w" + writer + "-" + n;
                        try {
                            kv((writer + n) % cluster.servers.size()).put(PutRequest.newBuilder()
                                    .setKeyspace(keyspace).setKey(b(k)).setValue(b(v)).build());
                            acknowledged.put(k, v);
                            LockSupport.parkNanos(pause.toNanos());
                        } catch (StatusRuntimeException refused) {
                            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                        }
                    }
                }));
            }
        }

        /** Waits until {@code more} writes more than now are acknowledged: the writers make progress. */
        void awaitMore(int more) throws InterruptedException {
            awaitAcknowledgedAfter(acknowledged::size, more);
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    /**
     * Reads every key of {@code expected} through the nodes in turn (each read retried for 30 s
     * while refused) and checks its value.
     */
    void assertEveryKeyReadable(String keyspace, Map<String, String> expected) throws InterruptedException {
        int i = 0;
        for (Map.Entry<String, String> e : expected.entrySet()) {
            int via = i++ % cluster.servers.size();
            var got = ProcessCluster.awaitValue("a read of " + e.getKey(), Duration.ofSeconds(30), () -> {
                try {
                    return Optional.of(kv(via).get(GetRequest.newBuilder().setKeyspace(keyspace)
                            .setKey(b(e.getKey())).build()));
                } catch (StatusRuntimeException notNow) {
                    return Optional.empty(); // a replica catching up, a channel reconnecting
                }
            });
            assertThat(got.getFound()).as("acknowledged %s found", e.getKey()).isTrue();
            assertThat(got.getValue().toStringUtf8()).as("value of %s", e.getKey()).isEqualTo(e.getValue());
        }
    }

    /** Waits until every node holds each of {@code keys} once, in the shard the map names. */
    void awaitEachKeyInOneShard(String keyspace, Set<String> keys) throws InterruptedException {
        ProcessCluster.await("every shard's replicas hold only their own keys", Duration.ofSeconds(60), () -> {
            for (int node = 0; node < cluster.servers.size(); node++) {
                if (!SplitChecks.eachKeyInOneShard(admin(0), kv(node), keyspace, keys)) {
                    return false;
                }
            }
            return true;
        });
    }
}
