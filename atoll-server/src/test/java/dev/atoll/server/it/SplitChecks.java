package dev.atoll.server.it;

import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.DescribeKeyspaceRequest;
import dev.atoll.proto.admin.DirectoryEntry;
import dev.atoll.proto.admin.ListDirectoryRequest;
import dev.atoll.proto.admin.ListDirectoryResponse;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.shardkv.KeyValue;
import dev.atoll.proto.shardkv.RouteToken;
import dev.atoll.proto.shardkv.ShardKVGrpc;
import dev.atoll.proto.shardkv.ShardRangeRequest;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.shard.Directory;
import dev.atoll.shard.Key;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.replica.ShardBounds;
import io.grpc.StatusRuntimeException;

import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the split, merge and data move tests check afterwards: each key in exactly one shard, the one
 * the map names (by span, slots, or a directory keyspace's table).
 */
final class SplitChecks {
    private SplitChecks() {
    }

    /**
     * Whether the node behind {@code kv} holds every one of {@code expected} once, asked shard by
     * shard of {@code keyspace} (serializable reads: its own replicas); false while a replica is
     * behind or not reachable, an assertion failure when a key is in two shards or in a shard
     * whose span (range, or slots for a hash keyspace, or the table for a directory keyspace) does not
     * hold it; false too while a directory keyspace's keys are moving.
     */
    static boolean eachKeyInOneShard(AdminGrpc.AdminBlockingStub admin, ShardKVGrpc.ShardKVBlockingStub kv,
                                     String keyspace, Set<String> expected) {
        var owner = new HashMap<String, Long>();
        try {
            List<ShardInfo> shards = admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(ListShardsRequest
                    .newBuilder().setKeyspace(keyspace).build()).getShardsList();
            Sharding sharding = ShardCodec.decode(admin.withDeadlineAfter(10, TimeUnit.SECONDS).describeKeyspace(
                    DescribeKeyspaceRequest.newBuilder().setName(keyspace).build()).getKeyspace().getSpec()).sharding();
            Directory directory = null;
            if (sharding instanceof Sharding.Directory) {
                var table = admin.withDeadlineAfter(10, TimeUnit.SECONDS).listDirectory(ListDirectoryRequest
                        .newBuilder().setKeyspace(keyspace).build());
                if (table.getRelocationInProgress() != 0) {
                    return false; // keys still moving
                }
                directory = tableOf(table);
            }
            for (ShardInfo s : shards) {
                ShardDescriptor d = ShardCodec.decode(s.getShard());
                Directory table = directory;
                Predicate<Key> bounds = table != null ? k -> table.shardFor(k).equals(d.id())
                        : ShardBounds.of(d, sharding)::contains;
                var part = kv.withDeadlineAfter(30, TimeUnit.SECONDS).shardRange(ShardRangeRequest.newBuilder()
                        .setKeyspace(keyspace).setSerializable(true).setRoute(RouteToken.newBuilder()
                                .setShard(d.id().value()).setEpoch(ShardCodec.encode(d.epoch())))
                        .setLimit(100_000).build());
                for (KeyValue pair : part.getPairsList()) {
                    String k = pair.getKey().toStringUtf8();
                    assertThat(owner.put(k, d.id().value())).as("%s in one shard", k).isNull();
                    assertThat(bounds.test(Key.of(pair.getKey().toByteArray())))
                            .as("%s belongs to %s", k, d).isTrue();
                }
            }
        } catch (StatusRuntimeException notNow) {
            return false;
        }
        return owner.keySet().containsAll(expected);
    }

    /** The shards of {@code keyspace}, asked again for a minute while the cluster does not answer. */
    static List<ShardInfo> shardList(AdminGrpc.AdminBlockingStub admin, String keyspace) throws InterruptedException {
        return ProcessCluster.awaitValue("the shard list", java.time.Duration.ofSeconds(60), () -> {
            try {
                return java.util.Optional.of(admin.withDeadlineAfter(10, TimeUnit.SECONDS).listShards(ListShardsRequest
                        .newBuilder().setKeyspace(keyspace).build()).getShardsList());
            } catch (StatusRuntimeException notNow) {
                return java.util.Optional.empty();
            }
        });
    }

    /** The directory table a ListDirectory answer describes. */
    static Directory tableOf(ListDirectoryResponse table) {
        Directory d = Directory.withDefault(table.getDefaultShardsList().stream().map(ShardId::of).toList());
        for (DirectoryEntry e : table.getEntriesList()) {
            Directory.Match match = e.getMatchCase() == DirectoryEntry.MatchCase.KEY
                    ? new Directory.Exact(Key.of(e.getKey().toByteArray()))
                    : new Directory.Prefix(Key.of(e.getPrefix().toByteArray()));
            d = d.put(match, ShardId.of(e.getShard())).directory();
        }
        return d;
    }
}
