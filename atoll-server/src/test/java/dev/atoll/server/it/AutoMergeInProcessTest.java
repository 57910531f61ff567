package dev.atoll.server.it;

import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.shard.KeyRange;
import dev.atoll.server.shard.ShardCodec;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

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
 * The placement driver merges small cold shards on its own: a range keyspace split by hand into
 * four parts is merged back into one while writers keep writing, once its ranges have stood for
 * {@code --merge-after-seconds}; a keyspace created with four shards keeps them. Every
 * acknowledged write is readable afterwards, from the one shard that holds it.
 */
class AutoMergeInProcessTest extends InProcessShardTest {
    @Override
    List<List<String>> serverArgs() {
        List<String> soon = List.of("--merge-after-seconds", "3");
        return List.of(soon, soon, soon);
    }

    @Test
    void smallShardsSplitByHandAreMergedBackUnderWritesButNeverBelowTheInitialShards() throws Exception {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("fixed").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(4).build());
        for (int i = 0; i < 100; i++) {
            kv(i % 3).put(PutRequest.newBuilder().setKeyspace("users").setKey(b(key(i))).setValue(b("v" + i)).build());
        }

        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        var stop = new AtomicBoolean();
        var writers = new ArrayList<Thread>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                for (int n = 0; !stop.get(); n++) {
                    String k = key(1000 + writer * 100_000 + n);
                    String v = "w" + writer + "-" + n;
                    try {
                        kv((writer + n) % 3).put(PutRequest.newBuilder().setKeyspace("users").setKey(b(k))
                                .setValue(b(v)).build());
                        acknowledged.put(k, v);
                    } catch (StatusRuntimeException refused) {
                        // not acknowledged (shard moved while merging, no leader yet): pace the retry
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                    }
                }
            }));
        }
        try {
            long first = shards("users").getFirst().getShard().getId();
            for (int at : new int[] {75, 50, 25}) {
                admin(at % 3).splitShard(SplitShardRequest.newBuilder().setShard(first).setKey(b(key(at))).build());
            }
            assertThat(shards("users")).as("split in four").hasSize(4);
            awaitAcknowledgedAfter(acknowledged::size, 50);
            ProcessCluster.await("users merged back into one shard", Duration.ofSeconds(120), () -> {
                try {
                    return shards("users").size() == 1;
                } catch (StatusRuntimeException electing) {
                    return false; // the meta group between leaders
                }
            });
            awaitAcknowledgedAfter(acknowledged::size, 50);
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
        }
        assertThat(ShardCodec.decode(shards("users").getFirst().getShard()).keyRange()).isEqualTo(KeyRange.ALL);
        assertThat(shards("fixed")).as("a keyspace keeps the shards it was created with").hasSize(4);

        for (int i = 0; i < 100; i++) {
            acknowledged.put(key(i), "v" + i);
        }
        int i = 0;
        for (Map.Entry<String, String> e : acknowledged.entrySet()) {
            int via = i++ % 3;
            var got = ProcessCluster.awaitValue("a read of " + e.getKey(), Duration.ofSeconds(30), () -> {
                try {
                    return Optional.of(kv(via).get(GetRequest.newBuilder().setKeyspace("users")
                            .setKey(b(e.getKey())).build()));
                } catch (StatusRuntimeException notNow) {
                    return Optional.empty(); // a replica catching up, or a channel reconnecting
                }
            });
            assertThat(got.getFound()).as("acknowledged %s found", e.getKey()).isTrue();
            assertThat(got.getValue().toStringUtf8()).as("value of %s", e.getKey()).isEqualTo(e.getValue());
        }
        ProcessCluster.await("every shard's replicas hold only their own keys", Duration.ofSeconds(60), () -> {
            for (int node = 0; node < 3; node++) {
                if (!SplitChecks.eachKeyInOneShard(admin(0), kv(node), "users", acknowledged.keySet())) {
                    return false;
                }
            }
            return true;
        });
    }

    private static String key(int i) {
        return String.format("user-%07d", i);
    }
}
