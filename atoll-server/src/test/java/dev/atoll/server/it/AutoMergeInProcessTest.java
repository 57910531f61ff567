package dev.atoll.server.it;

import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.shard.KeyRange;
import dev.atoll.server.shard.ShardCodec;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The placement driver merges small cold shards on its own: a range keyspace split by hand into
 * four parts is merged back into one (the first merge while writers write), once its ranges have stood for
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
            put(i % 3, "users", key(i), "v" + i);
        }

        // new keys all over the four parts (each sorts just after a seeded key), until a first merge is done;
        // at most 2 x 100 writes a second, well under the 500 a merged pair may take and still be cold
        // (a fifth of the 2,500 of a load split): unpaced writers on a quiet machine go over it
        Map<String, String> acknowledged;
        try (Writers writers = new Writers("users", 2,
                (writer, n) -> key((n * 37 + writer * 11) % 100) + "-w" + writer + "-" + n, Duration.ofMillis(10))) {
            acknowledged = writers.acknowledged;
            long first = shards("users").getFirst().getShard().getId();
            for (int at : new int[] {75, 50, 25}) {
                admin(at % 3).splitShard(SplitShardRequest.newBuilder().setShard(first).setKey(b(key(at))).build());
            }
            assertThat(shards("users")).as("split in four").hasSize(4);
            writers.awaitMore(50);
            awaitShardCount("a first merge, under writes", count -> count < 4);
            writers.awaitMore(50);
        }
        // the rest once the writes stop: a shard taking writes is neither cold nor settled
        awaitShardCount("users merged back into one shard", count -> count == 1);
        assertThat(ShardCodec.decode(shards("users").getFirst().getShard()).keyRange()).isEqualTo(KeyRange.ALL);
        assertThat(shards("fixed")).as("a keyspace keeps the shards it was created with").hasSize(4);

        for (int i = 0; i < 100; i++) {
            acknowledged.put(key(i), "v" + i);
        }
        assertEveryKeyReadable("users", acknowledged);
        awaitEachKeyInOneShard("users", acknowledged.keySet());
    }

    private static String key(int i) {
        return String.format("user-%07d", i);
    }

    private void awaitShardCount(String what, IntPredicate wanted) throws InterruptedException {
        ProcessCluster.await(what, Duration.ofSeconds(120), () -> {
            try {
                return wanted.test(shards("users").size());
            } catch (StatusRuntimeException electing) {
                return false; // the meta group between leaders
            }
        });
    }
}
