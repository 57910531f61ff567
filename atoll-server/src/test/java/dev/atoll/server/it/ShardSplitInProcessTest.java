package dev.atoll.server.it;

import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.admin.SplitShardResponse;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.server.shard.ShardError;
import dev.atoll.shard.Key;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Three AtollServers in one JVM: a range shard splits several times, at named and at median
 * keys, while writers keep writing through every node. Afterwards every acknowledged write is
 * readable from the shard the map names, and no key is held by two shards. One node restarts
 * between splits.
 */
class ShardSplitInProcessTest extends InProcessShardTest {
    @Test
    void acknowledgedWritesSurviveRepeatedSplitsUnderLoadAndEveryKeyIsInOneShard() throws Exception {
        admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        for (int i = 0; i < 200; i++) {
            kv(i % 3).put(PutRequest.newBuilder().setKeyspace("users").setKey(b(key(i))).setValue(b("v" + i)).build());
        }

        Map<String, String> acknowledged;
        try (Writers writers = new Writers("users", 3, (writer, n) -> key(1000 + writer * 100_000 + n))) {
            acknowledged = writers.acknowledged;
            long first = onlyShard(admin(0)).getShard().getId();
            // a named key, then median keys of the lower and the upper part, then both again
            SplitShardResponse s1 = admin(1).splitShard(SplitShardRequest.newBuilder().setShard(first)
                    .setKey(b(key(100))).build());
            assertThat(s1.getCreated().getShard().getId()).isNotEqualTo(first);
            writers.awaitMore(50);
            SplitShardResponse s2 = admin(2).splitShard(SplitShardRequest.newBuilder().setShard(first).build());
            SplitShardResponse s3 = admin(0).splitShard(SplitShardRequest.newBuilder()
                    .setShard(s1.getCreated().getShard().getId()).build());
            writers.awaitMore(50);

            // a node restarts between splits: its replicas resume from its store and log
            cluster.restart(2);
            ProcessCluster.await("n3 answers again", Duration.ofSeconds(30), () -> {
                try {
                    return !admin(2).listShards(ListShardsRequest.newBuilder().setKeyspace("users").build())
                            .getShardsList().isEmpty();
                } catch (StatusRuntimeException notYet) {
                    return false; // its client channel reconnects after a back-off
                }
            });
            writers.awaitMore(50);

            admin(1).splitShard(SplitShardRequest.newBuilder().setShard(s2.getCreated().getShard().getId()).build());
            admin(2).splitShard(SplitShardRequest.newBuilder().setShard(s3.getCreated().getShard().getId()).build());
            writers.awaitMore(100);
        }
        assertThat(shards("users")).hasSize(6);

        // a bad split changes nothing and says why, with a stable code
        var bad = catchThrowableOfType(StatusRuntimeException.class, () -> admin(0).splitShard(
                SplitShardRequest.newBuilder().setShard(999).build()));
        assertThat(ShardError.of(bad)).contains(ShardError.SHARD_NOT_FOUND);
        long lowest = shards("users").stream().filter(s -> ShardCodec.decode(s.getShard()).keyRange().start()
                .equals(Key.MIN)).findFirst().orElseThrow().getShard().getId();
        var outside = catchThrowableOfType(StatusRuntimeException.class, () -> admin(0).splitShard(
                SplitShardRequest.newBuilder().setShard(lowest).setKey(b("zzzz")).build()));
        assertThat(ShardError.of(outside)).contains(ShardError.REJECTED);
        assertThat(shards("users")).hasSize(6);

        // every acknowledged write, and every seeded one, is readable through every node
        for (int i = 0; i < 200; i++) {
            acknowledged.put(key(i), "v" + i);
        }
        assertEveryKeyReadable("users", acknowledged);

        // no key in two shards: once every group applied its changes, each replica holds only its span
        awaitEachKeyInOneShard("users", acknowledged.keySet());
    }

    private static ShardInfo onlyShard(AdminGrpc.AdminBlockingStub admin) {
        var shards = admin.listShards(ListShardsRequest.newBuilder().setKeyspace("users").build()).getShardsList();
        assertThat(shards).hasSize(1);
        return shards.getFirst();
    }

    private static String key(int i) {
        return String.format("user-%07d", i);
    }
}
