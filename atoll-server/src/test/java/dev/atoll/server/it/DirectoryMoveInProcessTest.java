package dev.atoll.server.it;

import dev.atoll.proto.admin.AddShardRequest;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.DirectoryEditResponse;
import dev.atoll.proto.admin.DirectoryEntry;
import dev.atoll.proto.admin.ListDirectoryRequest;
import dev.atoll.proto.admin.ListDirectoryResponse;
import dev.atoll.proto.admin.PutDirectoryEntryRequest;
import dev.atoll.proto.admin.RemoveDirectoryEntryRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.server.shard.ShardError;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Three AtollServers in one JVM: a directory keyspace's table is edited while writers overwrite
 * keys through every node; each edit moves its keys' data to their new shard online, one of them
 * while a node restarts. Afterwards every key has its last acknowledged value through every node
 * and is held by exactly the shard the table names, on every node. Refused edits say why with a
 * stable code and change nothing.
 */
class DirectoryMoveInProcessTest extends InProcessShardTest {
    private final Set<Integer> down = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    List<List<String>> serverArgs() {
        return placementByHand();
    }

    private static DirectoryEntry prefix(String p, long shard) {
        return DirectoryEntry.newBuilder().setPrefix(b(p)).setShard(shard).build();
    }

    private static DirectoryEntry exact(String k, long shard) {
        return DirectoryEntry.newBuilder().setKey(b(k)).setShard(shard).build();
    }

    @Test
    void editedEntriesMoveTheirKeysOnlineUnderWritesAndARestart() throws Exception {
        createDirectoryKeyspace("tenants", 3, 2);
        long s3 = admin(0).addShard(AddShardRequest.newBuilder().setKeyspace("tenants").build()).getShard()
                .getShard().getId();
        var keys = new ArrayList<List<String>>();
        for (int w = 0; w < 3; w++) {
            var own = new ArrayList<String>();
            for (int i = 0; i < 40; i++) {
                own.add(List.of("acme/", "globex/", "other/").get(i % 3) + "w" + w + "-" + i);
            }
            keys.add(own);
        }
        var writers = new MoveWriters("tenants", keys, 3, this::kv, i -> !down.contains(i));
        try {
            writers.awaitProgress(150);

            // a prefix from the default rule (two shards) to the new shard
            DirectoryEditResponse toS3 = put(1, prefix("acme/", s3));
            assertThat(toS3.getMoves()).isEqualTo(2);
            assertThat(toS3.getDone()).isTrue();
            writers.awaitProgress(100);

            // one exact key out of the default rule: from the default shard its hash picks
            DirectoryEditResponse one = put(2, exact("other/w1-2", s3));
            assertThat(one.getMoves()).isEqualTo(1);
            writers.awaitProgress(100);

            // the prefix back to the default rule (each key to the shard the jump hash picks), while n3 restarts
            CompletableFuture<Void> back = CompletableFuture.runAsync(() -> {
                try {
                    InProcessCluster.retried(() -> admin(0).removeDirectoryEntry(RemoveDirectoryEntryRequest
                            .newBuilder().setKeyspace("tenants").setEntry(prefix("acme/", 0)).setWait(true).build()));
                } catch (StatusRuntimeException e) {
                    // an attempt whose answer was lost in the restart removed it already
                    assertThat(ShardError.of(e)).contains(ShardError.DIRECTORY_ENTRY_NOT_FOUND);
                }
            });
            down.add(2);
            cluster.restart(2);
            down.remove(2);
            back.get(120, TimeUnit.SECONDS);
            awaitNoRelocation("tenants");
            writers.awaitProgress(100);

            // globex to the first default shard, with n2 down all along: it catches up from the log
            long s1 = shards("tenants").getFirst().getShard().getId();
            down.add(1);
            cluster.stop(1);
            put(0, prefix("globex/", s1));
            writers.awaitProgress(100);
            cluster.start(1);
            down.remove(1);
            writers.awaitProgress(100);
        } finally {
            writers.close();
        }

        ListDirectoryResponse table = admin(1).listDirectory(ListDirectoryRequest.newBuilder().setKeyspace("tenants")
                .build());
        assertThat(table.getEntriesList()).extracting(e -> e.getMatchCase() == DirectoryEntry.MatchCase.KEY
                ? e.getKey().toStringUtf8() : e.getPrefix().toStringUtf8() + "*").containsExactlyInAnyOrder(
                "other/w1-2", "globex/*");
        assertThat(table.getRelocationInProgress()).isZero();

        Map<String, String> acked = new HashMap<>(writers.acked());
        assertEveryKeyReadable(acked, writers.uncertain());
        awaitEachKeyInItsShard(acked.keySet());
    }

    @Test
    void refusedEditsSayWhyAndChangeNothing() throws Exception {
        createDirectoryKeyspace("tenants", 3, 2);
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("sessions").setSharding("hash")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        long foreign = shards("sessions").getFirst().getShard().getId();
        // a shard with its only replica on n3: a move to it cannot finish while n3 is down
        long lonely = admin(0).addShard(AddShardRequest.newBuilder().setKeyspace("tenants").addNodes("n3").build())
                .getShard().getShard().getId();
        for (int i = 0; i < 20; i++) {
            kv(0).put(PutRequest.newBuilder().setKeyspace("tenants").setKey(b("acme/" + i)).setValue(b("v" + i)).build());
        }
        long version = admin(0).listDirectory(ListDirectoryRequest.newBuilder().setKeyspace("tenants").build())
                .getMapVersion();

        assertThat(putRefusal("sessions", prefix("acme/", foreign))).contains(ShardError.NOT_DIRECTORY);
        assertThat(putRefusal("nope", prefix("acme/", foreign))).contains(ShardError.KEYSPACE_NOT_FOUND);
        assertThat(putRefusal("tenants", prefix("acme/", foreign))).contains(ShardError.DIRECTORY_SHARD_MISMATCH);
        assertThat(putRefusal("tenants", prefix("acme/", 999))).contains(ShardError.DIRECTORY_SHARD_MISMATCH);
        assertThat(putRefusal("tenants", prefix("", lonely))).contains(ShardError.INVALID_REQUEST);
        assertThat(putRefusal("tenants", DirectoryEntry.newBuilder().setShard(lonely).build()))
                .contains(ShardError.INVALID_REQUEST);
        var missing = catchThrowableOfType(StatusRuntimeException.class, () -> admin(1).removeDirectoryEntry(
                RemoveDirectoryEntryRequest.newBuilder().setKeyspace("tenants").setEntry(prefix("acme/", 0)).build()));
        assertThat(ShardError.of(missing)).contains(ShardError.DIRECTORY_ENTRY_NOT_FOUND);
        assertThat(admin(0).listDirectory(ListDirectoryRequest.newBuilder().setKeyspace("tenants").build())
                .getMapVersion()).isEqualTo(version);

        // an edit whose data cannot move yet (its target's only replica is down) holds the next one back
        down.add(2);
        cluster.stop(2);
        // (retried while the meta group re-elects: n3 may have led it, or been about to)
        DirectoryEditResponse started = InProcessCluster.retried(() -> admin(0).putDirectoryEntry(
                PutDirectoryEntryRequest.newBuilder().setKeyspace("tenants").setEntry(prefix("acme/", lonely))
                        .setWait(false).build()));
        assertThat(started.getMoves()).isEqualTo(2);
        assertThat(started.getDone()).isFalse();
        assertThat(putRefusal("tenants", exact("zz", lonely))).contains(ShardError.DIRECTORY_MOVE_IN_PROGRESS);
        // meanwhile the moved keys are answered "shard moved", never a wrong value
        var moved = catchThrowableOfType(StatusRuntimeException.class, () -> kv(0).withDeadlineAfter(5,
                TimeUnit.SECONDS).get(GetRequest.newBuilder().setKeyspace("tenants").setKey(b("acme/1")).build()));
        assertThat(moved).isNotNull();
        cluster.start(2);
        down.remove(2);
        awaitNoRelocation("tenants");
        for (int i = 0; i < 20; i++) {
            int k = i;
            var got = ProcessCluster.awaitValue("acme/" + i + " at its new shard", Duration.ofSeconds(30), () -> {
                try {
                    return Optional.of(kv(k % 3).get(GetRequest.newBuilder().setKeyspace("tenants")
                            .setKey(b("acme/" + k)).build()));
                } catch (StatusRuntimeException notYet) {
                    return Optional.empty();
                }
            });
            assertThat(got.getValue().toStringUtf8()).isEqualTo("v" + i);
            assertThat(got.getServedBy().getShard()).isEqualTo(lonely);
        }
    }

    @Test
    void aWholeClusterStoppedMidMoveCompletesItFromTheMetaGroupsIntentOnRestart() throws Exception {
        createDirectoryKeyspace("tenants", 3, 2);
        long s3 = admin(0).addShard(AddShardRequest.newBuilder().setKeyspace("tenants").build()).getShard()
                .getShard().getId();
        var expected = new HashMap<String, String>();
        for (int i = 0; i < 300; i++) {
            String k = (i % 2 == 0 ? "acme/" : "globex/") + i;
            kv(i % 3).put(PutRequest.newBuilder().setKeyspace("tenants").setKey(b(k)).setValue(b("v" + i)).build());
            expected.put(k, "v" + i);
        }
        // every node stops as soon as the meta group recorded the move, wherever the groups' steps are
        for (DirectoryEntry edit : List.of(prefix("acme/", s3), prefix("globex/", s3))) {
            DirectoryEditResponse started = InProcessCluster.retried(() -> admin(0).putDirectoryEntry(
                    PutDirectoryEntryRequest.newBuilder().setKeyspace("tenants").setEntry(edit).setWait(false)
                            .build()));
            assertThat(started.getRelocation()).isPositive();
            cluster.stopAndStartEveryNode();
            awaitNoRelocation("tenants");
        }
        // and back to the default rule, stopped again
        InProcessCluster.retried(() -> admin(1).removeDirectoryEntry(RemoveDirectoryEntryRequest.newBuilder()
                .setKeyspace("tenants").setEntry(prefix("acme/", 0)).setWait(false).build()));
        cluster.stopAndStartEveryNode();
        awaitNoRelocation("tenants");

        assertEveryKeyReadable(expected, Set.of());
        awaitEachKeyInItsShard(expected.keySet());
    }

    // ------------------------------------------------------------------ helpers

    private DirectoryEditResponse put(int via, DirectoryEntry entry) {
        return InProcessCluster.retried(() -> admin(via).putDirectoryEntry(PutDirectoryEntryRequest.newBuilder()
                .setKeyspace("tenants").setEntry(entry).setWait(true).build()));
    }

    private Optional<ShardError> putRefusal(String keyspace, DirectoryEntry entry) {
        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> admin(1).putDirectoryEntry(
                PutDirectoryEntryRequest.newBuilder().setKeyspace(keyspace).setEntry(entry).build()));
        assertThat(refused).as("put of %s in %s refused", entry, keyspace).isNotNull();
        return ShardError.of(refused);
    }

    private void awaitNoRelocation(String keyspace) throws InterruptedException {
        ProcessCluster.await("the data moves of " + keyspace + " done", Duration.ofSeconds(90), () -> {
            try {
                return admin(0).withDeadlineAfter(5, TimeUnit.SECONDS).listDirectory(ListDirectoryRequest.newBuilder()
                        .setKeyspace(keyspace).build()).getRelocationInProgress() == 0;
            } catch (StatusRuntimeException notNow) {
                return false;
            }
        });
    }

    private void assertEveryKeyReadable(Map<String, String> acked, Set<String> uncertain) throws InterruptedException {
        int i = 0;
        for (Map.Entry<String, String> e : acked.entrySet()) {
            int via = i++ % 3;
            var got = ProcessCluster.awaitValue("a read of " + e.getKey(), Duration.ofSeconds(30), () -> {
                try {
                    return Optional.of(kv(via).get(GetRequest.newBuilder().setKeyspace("tenants")
                            .setKey(b(e.getKey())).build()));
                } catch (StatusRuntimeException notNow) {
                    return Optional.empty();
                }
            });
            assertThat(got.getFound()).as("acknowledged %s found", e.getKey()).isTrue();
            if (!uncertain.contains(e.getKey())) {
                assertThat(got.getValue().toStringUtf8()).as("value of %s", e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    /** Waits until every node holds each of {@code keys} once, in the shard the table names. */
    private void awaitEachKeyInItsShard(Set<String> keys) throws InterruptedException {
        ProcessCluster.await("every node holds each key once, in the shard the table names", Duration.ofSeconds(60),
                () -> {
                    for (int node = 0; node < 3; node++) {
                        if (!SplitChecks.eachKeyInOneShard(admin(0), kv(node), "tenants", keys)) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    private void createDirectoryKeyspace(String name, int replicationFactor, int shards) throws InterruptedException {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName(name).setSharding("directory")
                .setReplicationFactor(replicationFactor).setInitialShardCount(shards).build());
    }
}
