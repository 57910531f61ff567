package dev.atoll.client;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.AddShardRequest;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.MergeShardsRequest;
import dev.atoll.proto.admin.MoveSlotsRequest;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** AtollClient against three servers in this JVM: routing to leaders, splits, moves, hash keyspaces, ranges. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AtollClientTest {
    private TestCluster cluster;

    @BeforeAll
    void startCluster(@TempDir Path dir) throws Exception {
        cluster = TestCluster.start(dir);
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private void create(String name, String sharding, int replicationFactor, int shards) {
        cluster.admin().createKeyspace(CreateKeyspaceRequest.newBuilder().setName(name).setSharding(sharding)
                .setReplicationFactor(replicationFactor).setInitialShardCount(shards).build());
    }

    private long split(String keyspace, long shard, String at) {
        return cluster.admin().splitShard(SplitShardRequest.newBuilder().setShard(shard)
                .setKey(ByteString.copyFromUtf8(at)).build()).getCreated().getShard().getId();
    }

    private static String key(int i) {
        return String.format("k%03d", i);
    }

    @Test
    void writesGoStraightToTheLeaderOfTheirShard() throws Exception {
        create("direct", "range", 3, 1);
        long s1 = cluster.shards("direct").get(0).getId();
        long s2 = split("direct", s1, "k040");
        split("direct", s2, "k080");
        cluster.awaitLeaders("direct");

        var written = new ArrayList<Written>();
        try (var client = AtollClient.connect(List.of(cluster.endpoints.get(0)))) {
            for (int i = 0; i < 120; i++) {
                written.add(client.put("direct", key(i), "v" + i));
            }
            for (int i = 0; i < 120; i++) {
                assertThat(client.get("direct", key(i), ReadConsistency.LINEARIZABLE)).contains("v" + i);
            }
        }

        assertThat(written).extracting(Written::shard).containsOnly(cluster.shards("direct").stream()
                .map(ShardRecord::getId).toArray(Long[]::new)).hasSize(120);
        for (Written w : written) {
            ShardRecord shard = cluster.shard(w.shard());
            assertThat(w.attempts()).as("one request for a write to s%d", w.shard()).isEqualTo(1);
            assertThat(w.endpoint()).as("the node that took the write to s%d", w.shard())
                    .isEqualTo(cluster.endpointOf(shard.getLeaderHint()));
        }
    }

    @Test
    void aSplitIsAnsweredShardMovedAndTheClientFollowsIt() throws Exception {
        create("splitting", "range", 3, 1);
        long s1 = cluster.shards("splitting").get(0).getId();
        try (var client = AtollClient.connect(cluster.endpoints)) {
            for (int i = 0; i < 60; i++) {
                assertThat(client.put("splitting", key(i), "v" + i).shard()).isEqualTo(s1);
            }

            long upper = split("splitting", s1, "k030");

            // the cached map still says s1 holds k045: the node says it moved and names the new shard
            Written moved = client.put("splitting", key(45), "after");
            assertThat(moved.shard()).isEqualTo(upper);
            assertThat(moved.attempts()).isGreaterThanOrEqualTo(2);
            Written lower = client.put("splitting", key(5), "after");
            assertThat(lower.shard()).isEqualTo(s1);
            for (int i = 0; i < 60; i++) {
                String expected = i == 5 || i == 45 ? "after" : "v" + i;
                assertThat(client.get("splitting", key(i), ReadConsistency.LINEARIZABLE)).contains(expected);
            }
            assertThat(client.put("splitting", key(59), "again")).satisfies(w -> {
                assertThat(w.shard()).isEqualTo(upper);
                assertThat(w.attempts()).isEqualTo(1);
            });
        }
    }

    /** A key of {@code prefix} whose slot, in a space of {@code slotCount}, is at or above {@code from} and below {@code to}. */
    private static String keyInSlots(String prefix, int slotCount, int from, int to) {
        for (int i = 0; ; i++) {
            int slot = KeyHash.slot(Key.utf8(prefix + i), slotCount);
            if (slot >= from && slot < to) {
                return prefix + i;
            }
        }
    }

    @Test
    void aHashSlotSplitAndMergeAreAnsweredShardMovedAndTheClientFollowsThem() throws Exception {
        cluster.admin().createKeyspace(CreateKeyspaceRequest.newBuilder().setName("baskets").setSharding("hash")
                .setHashSlotCount(64).setReplicationFactor(3).setInitialShardCount(1).build());
        cluster.awaitLeaders("baskets");
        long s1 = cluster.shards("baskets").get(0).getId();
        String low = keyInSlots("low-", 64, 0, 32);
        String high = keyInSlots("high-", 64, 32, 64);
        // the cached map is never refreshed by age here: only "shard moved" answers change it
        var options = ClientOptions.DEFAULTS.withRouteMaxAge(Duration.ofHours(1));
        try (var client = AtollClient.connect(cluster.endpoints, options)) {
            for (int i = 0; i < 40; i++) {
                assertThat(client.put("baskets", "b" + i, "v" + i).shard()).isEqualTo(s1);
            }
            assertThat(client.put("baskets", high, "before").shard()).isEqualTo(s1);

            long upper = cluster.admin().splitShard(SplitShardRequest.newBuilder().setShard(s1).setAtSlot(32).build())
                    .getCreated().getShard().getId();

            // the cached map still gives s1 all slots: the node says the key moved and names the new shard
            Written moved = client.put("baskets", high, "after split");
            assertThat(moved.shard()).isEqualTo(upper);
            assertThat(moved.attempts()).isGreaterThanOrEqualTo(2);
            assertThat(client.put("baskets", low, "after split").shard()).isEqualTo(s1);
            for (int i = 0; i < 40; i++) {
                assertThat(client.get("baskets", "b" + i, ReadConsistency.LINEARIZABLE)).contains("v" + i);
            }

            cluster.admin().mergeShards(MergeShardsRequest.newBuilder().setLeft(s1).setRight(upper).build());

            // the cached map names the merged-away shard: the node names s1, which holds every slot again
            Written back = client.put("baskets", high, "after merge");
            assertThat(back.shard()).isEqualTo(s1);
            assertThat(back.attempts()).isGreaterThanOrEqualTo(2);
            assertThat(client.get("baskets", high, ReadConsistency.LINEARIZABLE)).contains("after merge");
            assertThat(client.get("baskets", low, ReadConsistency.LINEARIZABLE)).contains("after split");
            for (int i = 0; i < 40; i++) {
                assertThat(client.get("baskets", "b" + i, ReadConsistency.LINEARIZABLE)).contains("v" + i);
            }
            assertThat(client.put("baskets", low, "again").attempts()).isEqualTo(1);
        }
    }

    @Test
    void slotsMovedWithTheirDataAreAnsweredShardMovedAndTheClientFollowsThem() throws Exception {
        cluster.admin().createKeyspace(CreateKeyspaceRequest.newBuilder().setName("crates").setSharding("hash")
                .setHashSlotCount(64).setReplicationFactor(3).setInitialShardCount(1).build());
        cluster.awaitLeaders("crates");
        long s1 = cluster.shards("crates").get(0).getId();
        String low = keyInSlots("low-", 64, 0, 48);
        String high = keyInSlots("high-", 64, 48, 64);
        var options = ClientOptions.DEFAULTS.withRouteMaxAge(Duration.ofHours(1));
        try (var client = AtollClient.connect(cluster.endpoints, options)) {
            for (int i = 0; i < 40; i++) {
                assertThat(client.put("crates", "c" + i, "v" + i).shard()).isEqualTo(s1);
            }
            assertThat(client.put("crates", high, "before").shard()).isEqualTo(s1);
            long added = cluster.admin().addShard(AddShardRequest.newBuilder().setKeyspace("crates").build()).getShard()
                    .getShard().getId();
            assertThat(cluster.admin().moveSlots(MoveSlotsRequest.newBuilder().setFrom(s1).setTo(added)
                    .setSlotStart(48).setSlotEnd(64).setWait(true).build()).getDone()).isTrue();

            // the cached map gives s1 every slot: the node says the key moved, with the shard now holding its data
            assertThat(client.get("crates", high, ReadConsistency.LINEARIZABLE)).contains("before");
            Written moved = client.put("crates", high, "after");
            assertThat(moved.shard()).isEqualTo(added);
            assertThat(client.put("crates", low, "after").shard()).isEqualTo(s1);
            for (int i = 0; i < 40; i++) {
                assertThat(client.get("crates", "c" + i, ReadConsistency.LINEARIZABLE)).contains("v" + i);
            }
            assertThat(client.get("crates", high, ReadConsistency.LINEARIZABLE)).contains("after");
        }
    }

    @Test
    void aMovedReplicaIsFollowedToTheShardsNewLeader() throws Exception {
        create("moving", "range", 2, 1);
        cluster.awaitLeaders("moving");
        ShardRecord before = cluster.shards("moving").get(0);
        String from = before.getLeaderHint();
        List<String> on = before.getReplicasList().stream().map(r -> r.getNode()).toList();
        String to = List.of("n1", "n2", "n3").stream().filter(n -> !on.contains(n)).findFirst().orElseThrow();
        var options = ClientOptions.DEFAULTS.withRouteMaxAge(Duration.ofMillis(200));
        try (var client = AtollClient.connect(cluster.endpoints, options)) {
            assertThat(client.put("moving", "a", "1").endpoint()).isEqualTo(cluster.endpointOf(from));

            var moved = cluster.admin().moveShard(MoveShardRequest.newBuilder().setShard(before.getId())
                    .setFrom(from).setTo(to).setWait(true).build());
            assertThat(moved.getDone()).isTrue();

            // the old leader's node no longer holds the shard; the request still succeeds
            assertThat(client.put("moving", "b", "2").shard()).isEqualTo(before.getId());
            assertThat(client.get("moving", "a", ReadConsistency.LINEARIZABLE)).contains("1");
            // and once the client's map is refreshed it goes to the new leader directly
            TestCluster.await("the client writes straight to the shard's new leader", Duration.ofSeconds(20), () -> {
                String leader = cluster.shard(before.getId()).getLeaderHint();
                Written w = client.put("moving", "c", "3");
                return !leader.isEmpty() && !leader.equals(from) && w.endpoint().equals(cluster.endpointOf(leader))
                        && w.attempts() == 1;
            });
            assertThat(client.get("moving", "b", ReadConsistency.SERIALIZABLE)).isPresent();
        }
    }

    @Test
    void hashKeysGoToTheShardOwningTheirSlot() throws Exception {
        create("carts", "hash", 1, 6);
        cluster.awaitLeaders("carts");
        try (var client = AtollClient.connect(List.of(cluster.endpoints.get(2)))) {
            var written = IntStream.range(0, 60).mapToObj(i -> client.put("carts", "cart-" + i, "c" + i)).toList();
            // one replica per shard: only the node holding it could take the write without forwarding
            for (Written w : written) {
                ShardRecord shard = cluster.shard(w.shard());
                assertThat(w.attempts()).isEqualTo(1);
                assertThat(w.endpoint()).isEqualTo(cluster.endpointOf(shard.getReplicas(0).getNode()));
            }
            assertThat(written.stream().map(Written::shard).distinct().count()).as("shards written").isEqualTo(6);
        }
    }

    @Test
    void aRangeAcrossShardsIsInKeyOrderAndStopsAtTheLimit() throws Exception {
        create("letters", "range", 1, 1);
        long s1 = cluster.shards("letters").get(0).getId();
        long s2 = split("letters", s1, "g");
        split("letters", s2, "p");
        create("bags", "hash", 1, 4);
        var keys = new ArrayList<String>();
        for (char c = 'a'; c <= 'z'; c++) {
            keys.add(c + "1");
            keys.add(c + "2");
        }
        try (var client = AtollClient.connect(cluster.endpoints)) {
            for (String k : keys.reversed()) {
                client.put("letters", k, "v-" + k);
                client.put("bags", k, "v-" + k);
            }
            byte[] none = new byte[0];

            RangeResult all = client.range("letters", none, none, 0);
            assertThat(all.pairs()).extracting(KeyValue::keyUtf8).containsExactlyElementsOf(keys);
            assertThat(all.more()).isFalse();
            assertThat(all.pairs()).allMatch(kv -> kv.valueUtf8().equals("v-" + kv.keyUtf8()));

            RangeResult across = client.range("letters", utf8("e"), utf8("r"), 20);
            assertThat(across.pairs()).extracting(KeyValue::keyUtf8)
                    .containsExactlyElementsOf(keys.subList(keys.indexOf("e1"), keys.indexOf("e1") + 20));
            assertThat(across.more()).isTrue();

            RangeResult exact = client.range("letters", utf8("f"), utf8("h"), 4);
            assertThat(exact.pairs()).extracting(KeyValue::keyUtf8).containsExactly("f1", "f2", "g1", "g2");
            assertThat(exact.more()).isFalse();

            RangeResult hashed = client.range("bags", utf8("c"), none, 5, ReadConsistency.SERIALIZABLE);
            assertThat(hashed.pairs()).extracting(KeyValue::keyUtf8).containsExactly("c1", "c2", "d1", "d2", "e1");
            assertThat(hashed.more()).isTrue();
        }
    }

    @Test
    void anUnknownKeyspaceIsRefusedWithItsCode() {
        try (var client = AtollClient.connect(cluster.endpoints)) {
            var put = catchThrowableOfType(AtollException.class, () -> client.put("nowhere", "k", "v"));
            assertThat(put.code()).isEqualTo("KEYSPACE_NOT_FOUND");
            assertThat(put.toString()).startsWith("atoll: KEYSPACE_NOT_FOUND: ").contains("nowhere");
            var get = catchThrowableOfType(AtollException.class,
                    () -> client.get("nowhere", "k", ReadConsistency.SERIALIZABLE));
            assertThat(get.code()).isEqualTo("KEYSPACE_NOT_FOUND");

            create("empty-keys", "range", 1, 1);
            var empty = catchThrowableOfType(AtollException.class, () -> client.put("empty-keys", "", "v"));
            assertThat(empty.code()).isEqualTo("INVALID_REQUEST");
            assertThat(client.get("empty-keys", "absent", ReadConsistency.LINEARIZABLE)).isEqualTo(Optional.empty());
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
