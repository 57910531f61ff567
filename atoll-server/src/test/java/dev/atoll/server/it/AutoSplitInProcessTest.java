package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.RangeRequest;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A range (or hash) shard that grows past the split size is split by the placement driver, at a
 * key (or slot) from its data, again and again until every part is under the size; every key
 * stays readable and the keyspace's range scan returns each key once, in order.
 */
class AutoSplitInProcessTest {
    private static final int KEYS = 400;

    @TempDir
    Path dir;

    private InProcessCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private int shardCount() {
        try {
            return cluster.admin(0).listShards(ListShardsRequest.newBuilder().setKeyspace("events").build())
                    .getShardsCount();
        } catch (StatusRuntimeException notNow) {
            return 0;
        }
    }

    private static String key(int i) {
        return String.format("event-%05d", i);
    }

    @Test
    void aShardOverTheSplitSizeIsSplitFromItsDataUntilEveryPartIsUnderIt() throws Exception {
        splitsFromItsDataUntilEveryPartIsUnderTheSize("range");
    }

    @Test
    void aHashShardOverTheSplitSizeIsSplitAtSlotsFromItsDataUntilEveryPartIsUnderIt() throws Exception {
        var spans = splitsFromItsDataUntilEveryPartIsUnderTheSize("hash");
        assertThat(spans).allMatch(span -> span.startsWith("slots{"));
    }

    /** Writes about 420 KB into a keyspace of {@code sharding} and one shard; answers its shards' spans once split. */
    private List<String> splitsFromItsDataUntilEveryPartIsUnderTheSize(String sharding) throws Exception {
        List<String> small = List.of("--split-size-bytes", "65536");
        cluster = InProcessCluster.start(dir, List.of(small, small, small));
        cluster.admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("events").setSharding(sharding)
                .setReplicationFactor(3).build());
        String value = "x".repeat(1024);
        for (int n = 0; n < KEYS; n++) {
            int i = n;
            // shards split under these writes: a new shard not hosted yet, or a stale route, is retried
            ProcessCluster.await("write " + key(i), Duration.ofSeconds(20), () -> {
                try {
                    cluster.kv(i % 3).put(PutRequest.newBuilder().setKeyspace("events")
                            .setKey(ByteString.copyFromUtf8(key(i))).setValue(ByteString.copyFromUtf8(value + i))
                            .build());
                    return true;
                } catch (StatusRuntimeException retryable) {
                    assertThat(retryable.getStatus().getCode()).as(retryable.getMessage())
                            .isIn(io.grpc.Status.Code.UNAVAILABLE, io.grpc.Status.Code.FAILED_PRECONDITION);
                    return false;
                }
            });
        }

        // about 420 KB in shards of at most 64 KiB: at least 7 shards
        ProcessCluster.await("the keyspace split into at least 7 shards", Duration.ofSeconds(120),
                () -> shardCount() >= 7);
        var spans = cluster.admin(1).listShards(ListShardsRequest.newBuilder().setKeyspace("events").build())
                .getShardsList().stream().map(s -> s.getSpan()).toList();
        System.out.println("auto_split sharding=" + sharding + " spans=" + spans);

        for (int n = 0; n < KEYS; n++) {
            int i = n;
            String got = ProcessCluster.awaitValue("read " + key(i), Duration.ofSeconds(20), () -> {
                try {
                    var r = cluster.kv(2).get(GetRequest.newBuilder().setKeyspace("events")
                            .setKey(ByteString.copyFromUtf8(key(i))).build());
                    return java.util.Optional.of(r.getValue().toStringUtf8());
                } catch (StatusRuntimeException movedOrNoLeaderYet) {
                    return java.util.Optional.empty();
                }
            });
            assertThat(got).isEqualTo(value + i);
        }
        var keys = new ArrayList<String>();
        for (var kv : cluster.kv(0).range(RangeRequest.newBuilder().setKeyspace("events").setLimit(KEYS + 10).build())
                .getPairsList()) {
            keys.add(kv.getKey().toString(StandardCharsets.UTF_8));
        }
        assertThat(keys).as("each key once, in order").hasSize(KEYS).isSorted().doesNotHaveDuplicates();
        ProcessCluster.await("every node holds each key once, in the shard whose span holds it",
                Duration.ofSeconds(60), () -> {
                    for (int node = 0; node < 3; node++) {
                        if (!SplitChecks.eachKeyInOneShard(cluster.admin(0), cluster.kv(node), "events",
                                new java.util.HashSet<>(keys))) {
                            return false;
                        }
                    }
                    return true;
                });
        return spans;
    }
}
