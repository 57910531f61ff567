package dev.atoll.server.it;

import dev.atoll.proto.admin.AddShardRequest;
import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MoveSlotsRequest;
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
 * Three real server processes, a hash keyspace of two shards on all three and a third shard added
 * empty: under a write load, slots move to the new shard with their data; n3 is killed with -9
 * while a move is under way, which completes on n1 and n2; n3 restarts and catches up from its
 * logs. Afterwards every acknowledged write is readable, and on every node each key is held by
 * exactly one shard, the one its slot names.
 */
class SlotMoveProcessTest {
    @TempDir
    Path dir;

    @Test
    void acknowledgedWritesSurviveSlotMovesAndANodeKilledDuringOne() throws Exception {
        try (ProcessCluster cluster = ProcessCluster.start(dir)) {
            try {
                exercise(cluster);
            } catch (AssertionError | RuntimeException e) {
                System.out.println(cluster.logs());
                throw e;
            }
        }
    }

    private void exercise(ProcessCluster cluster) throws Exception {
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
            CompletableFuture<Void> underWay = CompletableFuture.runAsync(() -> {
                try {
                    moveSlots(admin, two.get(1), added);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            victim.kill();
            underWay.get(120, TimeUnit.SECONDS);
            writers.awaitMore(200);

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

        AckedWriters.assertEveryAckedReadable(cluster, "carts", acked);
        assertThat(nodes).as("no server stopped on its own").allMatch(ServerProcess::alive);
        for (ServerProcess node : nodes) {
            ProcessCluster.await(node.name + "'s replicas hold every key in exactly one shard",
                    Duration.ofSeconds(60), () -> SplitChecks.eachKeyInOneShard(admin,
                            ShardKVGrpc.newBlockingStub(cluster.channel(node)), "carts", acked.keySet()));
        }
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
        return ProcessCluster.awaitValue("the shard list", Duration.ofSeconds(60), () -> {
            try {
                return Optional.of(admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(ListShardsRequest
                        .newBuilder().setKeyspace("carts").build()).getShardsList());
            } catch (StatusRuntimeException notNow) {
                return Optional.empty();
            }
        });
    }
}
