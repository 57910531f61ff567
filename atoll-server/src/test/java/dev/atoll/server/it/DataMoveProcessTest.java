package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AddShardRequest;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.DirectoryEntry;
import dev.atoll.proto.admin.ListDirectoryRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MoveSlotsRequest;
import dev.atoll.proto.admin.PutDirectoryEntryRequest;
import dev.atoll.proto.admin.RemoveDirectoryEntryRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.SlotRange;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real server processes, a keyspace on all three and a shard added empty: under a write
 * load, data moves to the new shard (hash slots, or directory prefixes); n3 is killed with -9 while
 * a move is under way, which completes on n1 and n2; n3 restarts and catches up from its logs.
 * Afterwards every acknowledged write is readable, and on every node each key is held by exactly
 * one shard, the one its slot (or the table) names.
 */
class DataMoveProcessTest {
    @TempDir
    Path dir;

    /** Runs {@code test} against a fresh three-process cluster, printing its logs when it fails. */
    private interface Exercise {
        void run(ProcessCluster cluster) throws Exception;
    }

    private static void withCluster(Path dir, Exercise test) throws Exception {
        try (ProcessCluster cluster = ProcessCluster.start(dir)) {
            try {
                test.run(cluster);
            } catch (AssertionError | RuntimeException e) {
                System.out.println(cluster.logs());
                throw e;
            }
        }
    }

    @Test
    void acknowledgedWritesSurviveSlotMovesAndANodeKilledDuringOne() throws Exception {
        withCluster(dir, this::slotMoves);
    }

    @Test
    void acknowledgedWritesSurviveDirectoryEditsAndANodeKilledDuringOne() throws Exception {
        withCluster(dir, this::directoryEdits);
    }

    private void directoryEdits(ProcessCluster cluster) throws Exception {
        List<ServerProcess> nodes = cluster.members();
        var admin = AdminGrpc.newBlockingStub(cluster.channel(nodes.get(0)));
        admin.withDeadlineAfter(120, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder()
                .setName("tenants").setSharding("directory").setReplicationFactor(3).setInitialShardCount(2).build());
        long added = admin.withDeadlineAfter(60, TimeUnit.SECONDS).addShard(AddShardRequest.newBuilder()
                .setKeyspace("tenants").build()).getShard().getShard().getId();

        // the writers' keys start with two hex digits: prefix "4" is 1/16 of them, "8" another
        var writers = new AckedWriters(cluster, "tenants");
        Map<String, String> acked = writers.acked();
        try {
            writers.awaitMore(300);
            edit(admin, "4", added);
            writers.awaitMore(200);

            ServerProcess victim = nodes.get(2);
            killDuring(victim, () -> edit(admin, "8", added), writers);
            victim.start();
            victim.awaitListening(ProcessCluster.STARTUP);
            // and "4" back to the default rule
            edit(admin, "4", 0);
            writers.awaitMore(200);
        } finally {
            writers.close();
        }
        assertEveryKeyOnce(cluster, admin, "tenants", acked);
    }

    /**
     * Routes prefix {@code prefix} to shard {@code to} (0: removes its entry) and waits until its data
     * moved, retrying while the meta group has no leader; a retry first checks whether the last
     * attempt took effect (the table shows it).
     */
    private static void edit(AdminGrpc.AdminBlockingStub admin, String prefix, long to) throws InterruptedException {
        var entry = DirectoryEntry.newBuilder().setPrefix(ByteString.copyFromUtf8(prefix)).setShard(to).build();
        ProcessCluster.await("prefix " + prefix + " to s" + to, Duration.ofSeconds(120), () -> {
            try {
                var table = admin.withDeadlineAfter(10, TimeUnit.SECONDS).listDirectory(ListDirectoryRequest
                        .newBuilder().setKeyspace("tenants").build());
                boolean shown = to == 0 ? table.getEntriesList().stream().noneMatch(e -> e.getPrefix().equals(
                        entry.getPrefix())) : table.getEntriesList().contains(entry);
                if (shown) {
                    return table.getRelocationInProgress() == 0;
                }
                var edited = to == 0
                        ? admin.withDeadlineAfter(60, TimeUnit.SECONDS).removeDirectoryEntry(RemoveDirectoryEntryRequest
                                .newBuilder().setKeyspace("tenants").setEntry(entry).setWait(true).build())
                        : admin.withDeadlineAfter(60, TimeUnit.SECONDS).putDirectoryEntry(PutDirectoryEntryRequest
                                .newBuilder().setKeyspace("tenants").setEntry(entry).setWait(true).build());
                System.out.printf("directory_edit prefix=%s to=s%d moves=%d relocation=%d done=%s%n", prefix, to,
                        edited.getMoves(), edited.getRelocation(), edited.getDone());
                return edited.getDone();
            } catch (StatusRuntimeException notNow) {
                System.out.printf("directory_edit_retry %s%n", notNow.getStatus());
                return false;
            }
        });
    }

    private void slotMoves(ProcessCluster cluster) throws Exception {
        List<ServerProcess> nodes = cluster.members();
        var admin = AdminGrpc.newBlockingStub(cluster.channel(nodes.get(0)));
        admin.withDeadlineAfter(120, TimeUnit.SECONDS).createKeyspace(CreateKeyspaceRequest.newBuilder()
                .setName("carts").setSharding("hash").setReplicationFactor(3).setInitialShardCount(2).build());
        List<ShardDescriptor> two = shards(admin).stream().map(s -> ShardCodec.decode(s.getShard())).toList();
        long added = admin.withDeadlineAfter(60, TimeUnit.SECONDS).addShard(AddShardRequest.newBuilder()
                .setKeyspace("carts").build()).getShard().getShard().getId();

        var writers = new AckedWriters(cluster, "carts");
        Map<String, String> acked = writers.acked();
        try {
            writers.awaitMore(300);
            moveSlots(admin, two.get(0), added);
            writers.awaitMore(200);

            // n3 dies (kill -9) while the next move runs: it completes on n1 and n2
            ServerProcess victim = nodes.get(2);
            killDuring(victim, () -> moveSlots(admin, two.get(1), added), writers);

            victim.start();
            victim.awaitListening(ProcessCluster.STARTUP);
            writers.awaitMore(200);
        } finally {
            writers.close();
        }
        ShardDescriptor taken = shards(admin).stream().map(s -> ShardCodec.decode(s.getShard()))
                .filter(d -> d.id().value() == added).findFirst().orElseThrow();
        System.out.printf("slot_moves acknowledged=%d new_shard_slots=%s%n", acked.size(), taken.span());
        assertThat(taken.hashSlots().slotCount()).isEqualTo(2 * 1024);

        assertEveryKeyOnce(cluster, admin, "carts", acked);
    }

    /**
     * Moves the top 1024 slots of {@code from} to shard {@code to} and waits until the data moved,
     * retrying while the meta group has no leader; a retry first checks whether the last attempt
     * took effect (the target owns the slots).
     */
    private static void moveSlots(AdminGrpc.AdminBlockingStub admin, ShardDescriptor from, long to)
            throws InterruptedException {
        SlotRange run = from.hashSlots().ranges().getLast();
        HashSlots slots = HashSlots.of(new SlotRange(run.end() - 1024, run.end()));
        ProcessCluster.await("slots " + slots + " moved", Duration.ofSeconds(120), () -> {
            try {
                List<ShardInfo> now = admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(
                        ListShardsRequest.newBuilder().setKeyspace("carts").build()).getShardsList();
                boolean owned = now.stream().map(s -> ShardCodec.decode(s.getShard()))
                        .anyMatch(d -> d.id().value() == to && d.hashSlots().containsAll(slots));
                if (!owned) {
                    var moved = admin.withDeadlineAfter(60, TimeUnit.SECONDS).moveSlots(MoveSlotsRequest.newBuilder()
                            .setFrom(from.id().value()).setTo(to).setSlotStart(run.end() - 1024)
                            .setSlotEnd(run.end()).setWait(true).build());
                    System.out.printf("slot_move relocation=%d done=%s%n", moved.getRelocation(), moved.getDone());
                    return moved.getDone();
                }
                // moved by an earlier attempt: wait until its data is there
                return now.stream().allMatch(s -> s.getRelocation() == 0);
            } catch (StatusRuntimeException notNow) {
                System.out.printf("slot_move_retry %s%n", notNow.getStatus());
                return false;
            }
        });
    }

    private static List<ShardInfo> shards(AdminGrpc.AdminBlockingStub admin) throws InterruptedException {
        return SplitChecks.shardList(admin, "carts");
    }

    /**
     * Every acknowledged write readable through every member, no server stopped on its own, and on
     * every node each key held by exactly one shard, the one the map names.
     */
    private static void assertEveryKeyOnce(ProcessCluster cluster, AdminGrpc.AdminBlockingStub admin, String keyspace,
                                           Map<String, String> acked) throws InterruptedException {
        AckedWriters.assertEveryAckedReadable(cluster, keyspace, acked);
        assertThat(cluster.members()).as("no server stopped on its own").allMatch(ServerProcess::alive);
        for (ServerProcess node : cluster.members()) {
            ProcessCluster.await(node.name + "'s replicas hold every key in exactly one shard, the map's",
                    Duration.ofSeconds(60), () -> SplitChecks.eachKeyInOneShard(admin,
                            ShardKVGrpc.newBlockingStub(cluster.channel(node)), keyspace, acked.keySet()));
        }
    }

    /** A step that may wait. */
    @FunctionalInterface
    private interface Step {
        void run() throws InterruptedException;
    }

    /** Kills {@code victim} with -9 while {@code step} runs; waits for the step and for 200 more acknowledged writes. */
    private static void killDuring(ServerProcess victim, Step step, AckedWriters writers) throws Exception {
        CompletableFuture<Void> underWay = CompletableFuture.runAsync(() -> {
            try {
                step.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        victim.kill();
        underWay.get(120, TimeUnit.SECONDS);
        writers.awaitMore(200);
    }
}