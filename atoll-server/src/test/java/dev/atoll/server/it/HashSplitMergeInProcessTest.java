package dev.atoll.server.it;

import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MergeShardsRequest;
import dev.atoll.proto.admin.MergeShardsResponse;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.admin.SplitShardResponse;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.proto.shardkv.RouteToken;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.server.shard.ShardError;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Three AtollServers in one JVM: a hash keyspace of one shard splits at a named slot and at the
 * slot that halves its data, then merges back into one shard (both shards named, then one named
 * alone), while writers keep overwriting their keys through every node; one node restarts in
 * between. Afterwards every key holds its last acknowledged value (or a later write whose answer
 * was lost), read through every node, and is held by exactly one shard on every node; a client
 * with the old route is answered "shard moved". Bad splits and merges are refused with stable codes and change nothing.
 */
class HashSplitMergeInProcessTest extends InProcessShardTest {
    private static final int SLOTS = 256;
    private static final int WRITERS = 3;
    private static final int KEYS_PER_WRITER = 60;

    private static String key(int writer, int j) {
        return "cart-" + writer + "-" + j;
    }

    private static int slotOf(String key) {
        return KeyHash.slot(Key.utf8(key), SLOTS);
    }

    /** What the writers know of one key: its last acknowledged value, and values written since with no answer. */
    private static final class Written {
        volatile String acknowledged;
        final Set<String> unanswered = ConcurrentHashMap.newKeySet();

        void acknowledge(String value) {
            acknowledged = value;
            unanswered.clear();
        }
    }

    @Test
    void acknowledgedWritesSurviveSlotSplitsAndMergesUnderLoadAndEachKeyIsInOneShard() throws Exception {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("carts").setSharding("hash")
                .setHashSlotCount(SLOTS).setReplicationFactor(3).setInitialShardCount(1).build());
        Map<String, Written> written = new ConcurrentHashMap<>();
        for (int w = 0; w < WRITERS; w++) {
            for (int j = 0; j < KEYS_PER_WRITER; j++) {
                String k = key(w, j);
                kv(j % 3).put(PutRequest.newBuilder().setKeyspace("carts").setKey(b(k)).setValue(b("seed")).build());
                written.computeIfAbsent(k, x -> new Written()).acknowledge("seed");
            }
        }
        long s1 = shards().getFirst().getShard().getId();

        var acknowledgedCount = new AtomicInteger();
        var stop = new AtomicBoolean();
        var writers = new ArrayList<Thread>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                for (int n = 0; !stop.get(); n++) {
                    // each writer overwrites its own keys in turn, so a key's writes never race each other
                    Written state = written.get(key(writer, n % KEYS_PER_WRITER));
                    String k = key(writer, n % KEYS_PER_WRITER);
                    String v = "w" + writer + "-n" + n;
                    try {
                        kv((writer + n) % 3).put(PutRequest.newBuilder().setKeyspace("carts").setKey(b(k))
                                .setValue(b(v)).build());
                        state.acknowledge(v);
                        acknowledgedCount.incrementAndGet();
                    } catch (StatusRuntimeException refused) {
                        // not acknowledged (a stale map, a frozen source, no leader yet, a timeout): it may
                        // still have been applied, so it may be the key's value; pace the next one
                        state.unanswered.add(v);
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                    }
                }
            }));
        }
        var gone = new ArrayList<ShardId>();
        RouteToken staleRoute;
        try {
            awaitAcknowledgedAfter(acknowledgedCount::get, 50);
            // at a named slot: the new shard takes the slots from 192 up
            SplitShardResponse atSlot = admin(1).splitShard(SplitShardRequest.newBuilder().setShard(s1)
                    .setAtSlot(192).build());
            ShardDescriptor upper = ShardCodec.decode(atSlot.getCreated().getShard());
            assertThat(ShardCodec.decode(atSlot.getShard().getShard()).span()).isEqualTo(slots(0, 192));
            assertThat(upper.span()).isEqualTo(slots(192, SLOTS));
            awaitAcknowledgedAfter(acknowledgedCount::get, 50);

            // at the slot that halves s1's bytes
            SplitShardResponse median = admin(2).splitShard(SplitShardRequest.newBuilder().setShard(s1).build());
            ShardDescriptor middle = ShardCodec.decode(median.getCreated().getShard());
            int cut = ((HashSlots) middle.span()).ranges().getFirst().start();
            assertThat(ShardCodec.decode(median.getShard().getShard()).span()).isEqualTo(slots(0, cut));
            assertThat(middle.span()).isEqualTo(slots(cut, 192));
            long below = written.keySet().stream().filter(k -> slotOf(k) < cut).count();
            long above = written.keySet().stream().filter(k -> slotOf(k) >= cut && slotOf(k) < 192).count();
            assertThat(Math.min(below, above)).as("keys below and from slot %d: %d and %d", cut, below, above)
                    .isGreaterThanOrEqualTo((below + above) / 4);
            staleRoute = route(upper);
            awaitAcknowledgedAfter(acknowledgedCount::get, 50);

            // a node restarts between the splits and the merges: its replicas, the new shards' too,
            // resume from its store and log
            cluster.restart(2);
            ProcessCluster.await("n3 answers again", Duration.ofSeconds(30), () -> {
                try {
                    return admin(2).listShards(ListShardsRequest.newBuilder().setKeyspace("carts").build())
                            .getShardsCount() == 3;
                } catch (StatusRuntimeException notYet) {
                    return false; // its client channel reconnects after a back-off
                }
            });
            awaitAcknowledgedAfter(acknowledgedCount::get, 50);

            // back into one: both named, then s1 alone with the owner of the slot after its last (192: upper)
            MergeShardsResponse both = admin(0).mergeShards(MergeShardsRequest.newBuilder().setLeft(s1)
                    .setRight(middle.id().value()).build());
            assertThat(both.getMerged()).isEqualTo(middle.id().value());
            assertThat(ShardCodec.decode(both.getShard().getShard()).span()).isEqualTo(slots(0, 192));
            gone.add(middle.id());
            awaitAcknowledgedAfter(acknowledgedCount::get, 50);
            MergeShardsResponse alone = admin(1).mergeShards(MergeShardsRequest.newBuilder().setLeft(s1).build());
            assertThat(alone.getMerged()).isEqualTo(upper.id().value());
            gone.add(upper.id());
            awaitAcknowledgedAfter(acknowledgedCount::get, 50);
        } finally {
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
        }
        assertThat(shards()).hasSize(1);
        assertThat(ShardCodec.decode(shards().getFirst().getShard()).span()).isEqualTo(slots(0, SLOTS));

        // a client still routing by the merged-away shard is told where the key is now
        String upperKey = written.keySet().stream().filter(k -> slotOf(k) >= 192).findFirst().orElseThrow();
        var moved = catchThrowableOfType(StatusRuntimeException.class, () -> kv(0).put(PutRequest.newBuilder()
                .setKeyspace("carts").setKey(b(upperKey)).setValue(b("stale")).setRoute(staleRoute).build()));
        assertThat(ShardError.of(moved)).contains(ShardError.SHARD_MOVED);
        assertThat(ShardError.movedTo(moved).map(ShardDescriptor::id)).contains(ShardId.of(s1));

        // every key holds its last acknowledged value (or a later unanswered one), through every node
        for (Map.Entry<String, Written> e : written.entrySet()) {
            var allowed = new HashSet<>(e.getValue().unanswered);
            allowed.add(e.getValue().acknowledged);
            for (int via = 0; via < 3; via++) {
                int node = via;
                var got = ProcessCluster.awaitValue("a read of " + e.getKey(), Duration.ofSeconds(30), () -> {
                    try {
                        return Optional.of(kv(node).get(GetRequest.newBuilder().setKeyspace("carts")
                                .setKey(b(e.getKey())).build()));
                    } catch (StatusRuntimeException notNow) {
                        return Optional.empty();
                    }
                });
                assertThat(got.getFound()).as("%s found via n%d", e.getKey(), node + 1).isTrue();
                assertThat(got.getValue().toStringUtf8()).as("value of %s via n%d", e.getKey(), node + 1)
                        .isIn(allowed);
            }
        }

        // each key in one shard, on every node, and the merged shards' groups gone from every node
        ProcessCluster.await("every node holds each key once, in the merged shard", Duration.ofSeconds(60), () -> {
            for (int node = 0; node < 3; node++) {
                if (!SplitChecks.eachKeyInOneShard(admin(0), kv(node), "carts", written.keySet())) {
                    return false;
                }
            }
            return true;
        });
        ProcessCluster.await("no node hosts a merged shard", Duration.ofSeconds(30),
                () -> cluster.servers.stream().allMatch(s -> gone.stream()
                        .allMatch(id -> s.shardHost().replica(id).isEmpty())));
    }

    @Test
    void splitsAndMergesThatCannotBeDoneAreRefusedWithStableCodesAndChangeNothing() throws Exception {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("carts").setSharding("hash")
                .setHashSlotCount(SLOTS).setReplicationFactor(3).setInitialShardCount(1).build());
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("bags").setSharding("hash")
                .setHashSlotCount(SLOTS).setReplicationFactor(3).setInitialShardCount(1).build());
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("dir").setSharding("directory")
                .setReplicationFactor(3).setInitialShardCount(2).build());
        long carts = shards("carts").getFirst().getShard().getId();
        long bags = shards("bags").getFirst().getShard().getId();
        long users = shards("users").getFirst().getShard().getId();
        List<ShardInfo> directory = shards("dir");
        Map<String, List<String>> before = spans();

        // a hash shard splits at a slot strictly inside its slots, never at a key; a range shard never at a slot
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(carts).setKey(b("m"))))
                .contains(ShardError.INVALID_REQUEST);
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(carts).setKey(b("m")).setAtSlot(8)))
                .contains(ShardError.INVALID_REQUEST);
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(carts).setAtSlot(0)))
                .as("nothing below slot 0").contains(ShardError.REJECTED);
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(carts).setAtSlot(SLOTS)))
                .as("past the last slot").contains(ShardError.REJECTED);
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(carts).setAtSlot(-1)))
                .as("slot 2^32 - 1").contains(ShardError.REJECTED);
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(users).setAtSlot(8)))
                .contains(ShardError.INVALID_REQUEST);
        assertThat(splitRefusal(SplitShardRequest.newBuilder().setShard(directory.getFirst().getShard().getId())))
                .contains(ShardError.INVALID_REQUEST);

        // merges across keyspaces, of directory shards, of a hash shard with no neighbour
        assertThat(mergeRefusal(carts, bags)).contains(ShardError.MERGE_KEYSPACE_MISMATCH);
        assertThat(mergeRefusal(carts, users)).contains(ShardError.MERGE_KEYSPACE_MISMATCH);
        assertThat(mergeRefusal(users, carts)).contains(ShardError.MERGE_KEYSPACE_MISMATCH);
        assertThat(mergeRefusal(directory.get(0).getShard().getId(), directory.get(1).getShard().getId()))
                .contains(ShardError.MERGE_NOT_RANGE);
        assertThat(mergeRefusal(carts, 0)).as("the only shard has no neighbour")
                .contains(ShardError.MERGE_NOT_ADJACENT);
        assertThat(mergeRefusal(0, carts)).contains(ShardError.MERGE_NOT_ADJACENT);
        assertThat(mergeRefusal(carts, carts)).contains(ShardError.INVALID_REQUEST);

        assertThat(spans()).isEqualTo(before);
    }

    private Optional<ShardError> splitRefusal(SplitShardRequest.Builder request) {
        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> admin(1).splitShard(request.build()));
        assertThat(refused).as("split %s refused", request).isNotNull();
        return ShardError.of(refused);
    }

    private Optional<ShardError> mergeRefusal(long left, long right) {
        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> admin(2).mergeShards(
                MergeShardsRequest.newBuilder().setLeft(left).setRight(right).build()));
        assertThat(refused).as("merge of %d and %d refused", left, right).isNotNull();
        return ShardError.of(refused);
    }

    /** Each keyspace's shards' spans and epochs. */
    private Map<String, List<String>> spans() {
        var all = new java.util.TreeMap<String, List<String>>();
        for (ShardInfo s : admin(0).listShards(ListShardsRequest.getDefaultInstance()).getShardsList()) {
            all.computeIfAbsent(s.getShard().getKeyspace(), k -> new ArrayList<>())
                    .add("s" + s.getShard().getId() + " " + s.getSpan() + " " + s.getShard().getEpoch());
        }
        return all;
    }

    private static HashSlots slots(int start, int end) {
        return HashSlots.of(new SlotRange(start, end));
    }

    private static RouteToken route(ShardDescriptor d) {
        return RouteToken.newBuilder().setShard(d.id().value()).setEpoch(ShardCodec.encode(d.epoch())).build();
    }

    private List<ShardInfo> shards() {
        return shards("carts");
    }

}
