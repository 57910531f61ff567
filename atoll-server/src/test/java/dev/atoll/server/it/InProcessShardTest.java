package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.server.shard.ShardError;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.IntSupplier;

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
        ProcessCluster.await("keyspace " + request.getName() + " created", Duration.ofSeconds(60), () -> {
            try {
                admin(0).createKeyspace(request);
                return true;
            } catch (StatusRuntimeException e) {
                return switch (ShardError.of(e).orElse(ShardError.NO_LEADER)) {
                    case KEYSPACE_EXISTS -> true; // an earlier try took effect
                    case NO_LEADER, TIMEOUT, OUTCOME_UNKNOWN, STARTING -> false;
                    default -> throw e;
                };
            }
        });
    }

    /** Waits until {@code more} writes were acknowledged after now: the writers make progress. */
    static void awaitAcknowledgedAfter(IntSupplier acknowledged, int more) throws InterruptedException {
        int target = acknowledged.getAsInt() + more;
        ProcessCluster.await(more + " more acknowledged writes", Duration.ofSeconds(60),
                () -> acknowledged.getAsInt() >= target);
    }
}
