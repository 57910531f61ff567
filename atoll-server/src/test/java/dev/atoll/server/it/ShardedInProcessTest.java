package dev.atoll.server.it;

import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.DescribeKeyspaceRequest;
import dev.atoll.proto.admin.DropKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.RangeRequest;
import dev.atoll.proto.shardkv.RangeResponse;
import dev.atoll.proto.shardkv.RouteToken;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.proto.shardmap.EpochRecord;
import dev.atoll.server.AtollServer;
import dev.atoll.server.shard.ShardError;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Three AtollServers in one JVM with sharded keyspaces: admin API, routed data path, moves. */
class ShardedInProcessTest extends InProcessShardTest {
    private static PutRequest put(String keyspace, String key, String value) {
        return PutRequest.newBuilder().setKeyspace(keyspace).setKey(b(key)).setValue(b(value)).build();
    }

    private static Optional<String> get(ShardKVGrpc.ShardKVBlockingStub kv, String keyspace, String key) {
        var r = kv.get(GetRequest.newBuilder().setKeyspace(keyspace).setKey(b(key)).build());
        return r.getFound() ? Optional.of(r.getValue().toStringUtf8()) : Optional.empty();
    }

    private static List<String> keys(RangeResponse r) {
        return r.getPairsList().stream().map(kv -> kv.getKey().toString(StandardCharsets.UTF_8)).toList();
    }

    @Test
    void keyspacesServeWritesAndReadsFromEveryNodeAndRangesAreStitchedInKeyOrder() {
        var created = admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users")
                .setSharding("range").setReplicationFactor(2).setInitialShardCount(4).build());
        assertThat(created.getShardsList()).hasSize(4);
        admin(1).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("carts").setSharding("hash")
                .setReplicationFactor(2).setInitialShardCount(6).build());

        for (int i = 0; i < 60; i++) {
            String key = String.format("%c-key-%02d", (char) ('A' + (i * 7) % 60), i);
            kv(i % 3).put(put("users", key, "u" + i));
            kv((i + 1) % 3).put(put("carts", "cart-" + i, "c" + i));
        }
        for (int i = 0; i < 60; i++) {
            String key = String.format("%c-key-%02d", (char) ('A' + (i * 7) % 60), i);
            assertThat(get(kv((i + 2) % 3), "users", key)).contains("u" + i);
            assertThat(get(kv(i % 3), "carts", "cart-" + i)).contains("c" + i);
        }

        RangeResponse all = kv(0).range(RangeRequest.newBuilder().setKeyspace("users").build());
        assertThat(keys(all)).hasSize(60).isSorted();
        RangeResponse limited = kv(1).range(RangeRequest.newBuilder().setKeyspace("users").setStart(b("B"))
                .setLimit(10).build());
        assertThat(keys(limited)).hasSize(10).isSorted().allMatch(k -> k.compareTo("B") >= 0);
        assertThat(keys(limited)).isEqualTo(keys(all).stream().filter(k -> k.compareTo("B") >= 0).limit(10).toList());
        assertThat(limited.getMore()).isTrue();
        RangeResponse carts = kv(2).range(RangeRequest.newBuilder().setKeyspace("carts").setStart(b("cart-1"))
                .setEnd(b("cart-2")).setLimit(5).build());
        assertThat(keys(carts)).containsExactly("cart-1", "cart-10", "cart-11", "cart-12", "cart-13");

        var describe = admin(2).describeKeyspace(DescribeKeyspaceRequest.newBuilder().setName("carts").build());
        assertThat(describe.getShardsList()).hasSize(6)
                .allMatch(s -> s.getShard().getReplicasCount() == 2 && !s.getShard().getLeaderHint().isEmpty());
    }

    @Test
    void aMovedShardKeepsItsDataAndAStaleRouteIsToldWhereTheKeyIsNow() throws Exception {
        admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(2).setInitialShardCount(2).build());
        for (int i = 0; i < 50; i++) {
            kv(i % 3).put(put("users", "k" + i, "v" + i));
        }
        ShardInfo shard = admin(0).listShards(ListShardsRequest.newBuilder().setKeyspace("users").build())
                .getShards(0);
        List<String> on = shard.getShard().getReplicasList().stream().map(r -> r.getNode()).toList();
        String from = on.get(0);
        String to = List.of("n1", "n2", "n3").stream().filter(n -> !on.contains(n)).findFirst().orElseThrow();

        var moved = admin(1).moveShard(MoveShardRequest.newBuilder().setShard(shard.getShard().getId())
                .setFrom(from).setTo(to).setWait(true).build());

        assertThat(moved.getDone()).isTrue();
        assertThat(moved.getShard().getShard().getReplicasList()).extracting(r -> r.getNode())
                .contains(to).doesNotContain(from);
        AtollServer target = cluster.servers.get(Integer.parseInt(to.substring(1)) - 1);
        assertThat(target.shardHost().replica(dev.atoll.shard.ShardId.of(shard.getShard().getId()))).isPresent();
        for (int i = 0; i < 50; i++) {
            assertThat(get(kv(i % 3), "users", "k" + i)).contains("v" + i);
        }
        AtollServer source = cluster.servers.get(Integer.parseInt(from.substring(1)) - 1);
        ProcessCluster.await("the source drops its replica", Duration.ofSeconds(20), () -> source.shardHost()
                .replica(dev.atoll.shard.ShardId.of(shard.getShard().getId())).isEmpty());

        String leaderTo = moved.getShard().getShard().getReplicasList().stream().map(r -> r.getNode())
                .filter(n -> !n.equals(moved.getShard().getShard().getLeaderHint())).findFirst().orElseThrow();
        var transferred = admin(2).transferShardLeader(TransferShardLeaderRequest.newBuilder()
                .setShard(shard.getShard().getId()).setTo(leaderTo).build());
        assertThat(transferred.getShard().getShard().getLeaderHint()).isEqualTo(leaderTo);

        // a client that cached the first shard (keys below 0x80) is told that "été" is in the other one
        ShardInfo other = admin(0).listShards(ListShardsRequest.newBuilder().setKeyspace("users").build())
                .getShards(1);
        var stale = catchThrowableOfType(StatusRuntimeException.class, () -> kv(0).put(put("users", "\u00e9t\u00e9", "1")
                .toBuilder().setRoute(RouteToken.newBuilder().setShard(shard.getShard().getId())
                        .setEpoch(EpochRecord.newBuilder().setRangeVersion(1).setConfVersion(1))).build()));
        assertThat(ShardError.of(stale)).contains(ShardError.SHARD_MOVED);
        assertThat(ShardError.movedTo(stale).orElseThrow().id().value()).isEqualTo(other.getShard().getId());
    }

    @Test
    void refusalsHaveStableCodesAndChangeNothing() throws InterruptedException {
        admin(0).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setReplicationFactor(1).build());
        long version = admin(0).listShards(ListShardsRequest.getDefaultInstance()).getMapVersion();

        assertThat(code(() -> admin(1).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users")
                .setReplicationFactor(1).build()))).isEqualTo(ShardError.KEYSPACE_EXISTS);
        assertThat(code(() -> admin(1).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("Bad Name!")
                .setReplicationFactor(1).build()))).isEqualTo(ShardError.INVALID_KEYSPACE);
        assertThat(code(() -> admin(1).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("default")
                .setReplicationFactor(1).build()))).isEqualTo(ShardError.INVALID_KEYSPACE);
        assertThat(code(() -> admin(1).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("big")
                .setReplicationFactor(5).build()))).isEqualTo(ShardError.UNPLACEABLE);
        assertThat(code(() -> admin(1).createKeyspace(CreateKeyspaceRequest.newBuilder().setName("x")
                .setSharding("random").setReplicationFactor(1).build()))).isEqualTo(ShardError.INVALID_KEYSPACE);
        assertThat(code(() -> admin(2).dropKeyspace(DropKeyspaceRequest.newBuilder().setName("nope").build())))
                .isEqualTo(ShardError.KEYSPACE_NOT_FOUND);
        assertThat(code(() -> admin(2).moveShard(MoveShardRequest.newBuilder().setShard(999).setFrom("n1")
                .setTo("n2").build()))).isEqualTo(ShardError.SHARD_NOT_FOUND);
        assertThat(code(() -> kv(0).put(put("nope", "k", "v")))).isEqualTo(ShardError.KEYSPACE_NOT_FOUND);
        assertThat(code(() -> kv(0).put(put("users", "", "v")))).isEqualTo(ShardError.INVALID_REQUEST);

        assertThat(admin(0).listShards(ListShardsRequest.getDefaultInstance()).getMapVersion()).isEqualTo(version);
        assertThat(admin(0).dropKeyspace(DropKeyspaceRequest.newBuilder().setName("users").build())
                .getShardsDropped()).isEqualTo(1);
        ProcessCluster.await("every node drops the shard", Duration.ofSeconds(20),
                () -> cluster.servers.stream().allMatch(s -> s.shardHost().hostedCount() == 0));
    }

    private static ShardError code(Runnable call) {
        var e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        assertThat(e).as("refused").isNotNull();
        return ShardError.of(e).orElseThrow(() -> new AssertionError("no atoll error code in " + e));
    }
}
