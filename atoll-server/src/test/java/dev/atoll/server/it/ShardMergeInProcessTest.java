package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MergeShardsRequest;
import dev.atoll.proto.admin.MergeShardsResponse;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.shardkv.GetRequest;
import dev.atoll.proto.shardkv.PutRequest;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.server.AtollServer;
import dev.atoll.server.runtime.MetaStateMachine;
import dev.atoll.server.shard.ShardCodec;
import dev.atoll.server.shard.ShardState;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.ShardChange;
import dev.atoll.server.shard.ShardError;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Three AtollServers in one JVM: range shards split, then merge back two by two while writers
 * keep writing through every node; one node restarts while a merge is under way, and is down
 * during another (it applies that merge from its log once back). Afterwards
 * every acknowledged write is readable from the shard the map names, no key is held by two
 * shards, and no node still hosts a merged shard. Refused merges say why with a stable code.
 */
class ShardMergeInProcessTest extends InProcessShardTest {
    /** Placement by hand: the placement driver would co-locate the replicas the refusals need apart. */
    @Override
    List<List<String>> serverArgs() {
        return placementByHand();
    }

    @Test
    void acknowledgedWritesSurviveMergesUnderLoadAndARestartMidMerge() throws Exception {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        for (int i = 0; i < 200; i++) {
            kv(i % 3).put(PutRequest.newBuilder().setKeyspace("users").setKey(b(key(i))).setValue(b("v" + i)).build());
        }
        long first = shards("users").getFirst().getShard().getId();
        for (int at : new int[] {150, 100, 50}) {
            admin(0).splitShard(SplitShardRequest.newBuilder().setShard(first).setKey(b(key(at))).build());
        }
        List<ShardDescriptor> four = inKeyOrder(shards("users"));
        assertThat(four).hasSize(4);

        Map<String, String> acknowledged;
        var merged = new ArrayList<ShardId>();
        // new keys all over the four shards: each sorts just after a seeded key
        try (Writers writers = new Writers("users", 3,
                (writer, n) -> key((n * 37 + writer * 11) % 200) + "-w" + writer + "-" + n)) {
            acknowledged = writers.acknowledged;
            writers.awaitMore(50);
            // the second shard into the first, both named
            MergeShardsResponse m1 = admin(1).mergeShards(MergeShardsRequest.newBuilder()
                    .setLeft(four.get(0).id().value()).setRight(four.get(1).id().value()).build());
            assertThat(m1.getMerged()).isEqualTo(four.get(1).id().value());
            assertThat(ShardCodec.decode(m1.getShard().getShard()).keyRange())
                    .isEqualTo(new KeyRange(Key.MIN, four.get(1).keyRange().end()));
            merged.add(four.get(1).id());
            writers.awaitMore(50);

            // the last shard into its left neighbour, while a node restarts
            // a request during the restart may be refused as retryable (NO_LEADER): it is retried until the
            // map shows the merge (an earlier attempt may have gone through: then the source is gone)
            long source = four.get(3).id().value();
            CompletableFuture<Long> m2 = CompletableFuture.supplyAsync(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (true) {
                    try {
                        return admin(0).mergeShards(MergeShardsRequest.newBuilder().setRight(source).build())
                                .getMerged();
                    } catch (StatusRuntimeException e) {
                        if (ShardError.of(e).equals(Optional.of(ShardError.SHARD_NOT_FOUND))) {
                            return source; // merged by an attempt whose answer was lost
                        }
                        if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE
                                || System.nanoTime() - deadline > 0) {
                            throw e;
                        }
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
                    }
                }
            });
            cluster.restart(2);
            assertThat(m2.get(90, TimeUnit.SECONDS)).isEqualTo(source);
            assertThat(shards("users")).noneMatch(sh -> sh.getShard().getId() == source);
            merged.add(four.get(3).id());
            writers.awaitMore(50);

            // and the two that are left, the left one named alone, while n3 is down: it applies the
            // merge from its log once back (the frozen rows travel in the entry), and drops the source
            cluster.stop(2);
            MergeShardsResponse m3 = admin(1).mergeShards(MergeShardsRequest.newBuilder()
                    .setLeft(four.get(0).id().value()).build());
            assertThat(m3.getMerged()).isEqualTo(four.get(2).id().value());
            merged.add(four.get(2).id());
            writers.awaitMore(50);
            cluster.start(2);
            writers.awaitMore(100);
        }
        assertThat(shards("users")).hasSize(1);
        assertThat(ShardCodec.decode(shards("users").getFirst().getShard()).keyRange()).isEqualTo(KeyRange.ALL);

        // every acknowledged write, and every seeded one, is readable through every node
        for (int i = 0; i < 200; i++) {
            acknowledged.put(key(i), "v" + i);
        }
        assertEveryKeyReadable("users", acknowledged);

        // no key in two shards: once every group applied its changes, each replica holds only its span
        awaitEachKeyInOneShard("users", acknowledged.keySet());
        ProcessCluster.await("no node hosts a merged shard", Duration.ofSeconds(30),
                () -> cluster.servers.stream().allMatch(s -> merged.stream()
                        .allMatch(id -> s.shardHost().replica(id).isEmpty())));
    }

    @Test
    void aWholeClusterStoppedMidMergeCompletesItFromTheMetaGroupsIntentOnRestart() throws Exception {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        for (int i = 0; i < 100; i++) {
            kv(i % 3).put(PutRequest.newBuilder().setKeyspace("users").setKey(b(key(i))).setValue(b("v" + i)).build());
        }
        long first = shards("users").getFirst().getShard().getId();
        admin(0).splitShard(SplitShardRequest.newBuilder().setShard(first).setKey(b(key(75))).build());
        admin(0).splitShard(SplitShardRequest.newBuilder().setShard(first).setKey(b(key(25))).build());
        List<ShardDescriptor> three = inKeyOrder(shards("users"));

        // every node stops right after the meta group applied the merge (step 1), before the groups' steps
        proposeMergeToMeta(three.get(1), three.get(2));
        cluster.stopAndStartEveryNode();
        awaitMergeDone(three.get(2).id());

        // and right after the source froze on some node (step 2), before or after the commit
        ShardDescriptor left = inKeyOrder(shards("users")).get(0);
        ShardDescriptor right = inKeyOrder(shards("users")).get(1);
        proposeMergeToMeta(left, right);
        ProcessCluster.await("the source frozen on some node", Duration.ofSeconds(30), () -> cluster.servers.stream()
                .anyMatch(s -> s.shardHost().replica(right.id()).flatMap(r -> r.stateMachine().pendingMerge())
                        .isPresent() || s.shardHost().replica(right.id()).isEmpty()));
        cluster.stopAndStartEveryNode();
        awaitMergeDone(right.id());

        assertThat(shards("users")).hasSize(1);
        var expected = new java.util.HashSet<String>();
        for (int i = 0; i < 100; i++) {
            expected.add(key(i));
            for (int via = 0; via < 3; via++) {
                int node = via;
                int k = i;
                var got = ProcessCluster.awaitValue("a read of " + key(i), Duration.ofSeconds(30), () -> {
                    try {
                        return Optional.of(kv(node).get(GetRequest.newBuilder().setKeyspace("users")
                                .setKey(b(key(k))).build()));
                    } catch (StatusRuntimeException notNow) {
                        return Optional.empty();
                    }
                });
                assertThat(got.getValue().toStringUtf8()).as("value of %s via n%d", key(i), via + 1)
                        .isEqualTo("v" + i);
            }
        }
        ProcessCluster.await("every node holds each key once, in the merged shard", Duration.ofSeconds(60), () -> {
            for (int node = 0; node < 3; node++) {
                if (!SplitChecks.eachKeyInOneShard(admin(0), kv(node), "users", expected)) {
                    return false;
                }
            }
            return true;
        });
        ProcessCluster.await("no node hosts a merged shard", Duration.ofSeconds(30),
                () -> cluster.servers.stream().allMatch(s -> s.shardHost().replica(three.get(1).id()).isEmpty()
                        && s.shardHost().replica(three.get(2).id()).isEmpty()));
    }

    /** Has the meta group's leader apply the merge (the admin API's checks passed by construction). */
    private void proposeMergeToMeta(ShardDescriptor left, ShardDescriptor right) throws Exception {
        byte[] command = MetaStateMachine.command(MetaCommand.newBuilder().setShardMap(ShardState.command(
                new ShardChange.Merge(left.id(), left.epoch(), right.id(), right.epoch()))).build());
        Object answer = ProcessCluster.awaitValue("the merge applied by the meta group", Duration.ofSeconds(30), () -> {
            for (AtollServer s : cluster.servers) {
                var status = s.runtime().status(AtollServer.META_GROUP);
                if (status != null && status.role() == Role.LEADER) {
                    try {
                        return Optional.of(s.runtime().propose(AtollServer.META_GROUP, command).get(10, TimeUnit.SECONDS));
                    } catch (Exception notNow) {
                        return Optional.empty();
                    }
                }
            }
            return Optional.empty();
        });
        assertThat(answer).isInstanceOf(ChangeResult.Applied.class);
    }

    /** Waits until the map no longer has the source nor its merge intent (asked of every node in turn). */
    private void awaitMergeDone(ShardId source) throws InterruptedException {
        ProcessCluster.await("the merge of " + source + " done", Duration.ofSeconds(60), () -> {
            try {
                List<ShardInfo> now = admin(0).withDeadlineAfter(5, TimeUnit.SECONDS).listShards(
                        ListShardsRequest.newBuilder().setKeyspace("users").build()).getShardsList();
                return now.stream().noneMatch(s -> s.getShard().getId() == source.value() || s.getMergingFrom() != 0);
            } catch (StatusRuntimeException notYet) {
                return false; // the client channel reconnects after a back-off
            }
        });
    }

    @Test
    void mergesThatCannotBeDoneAreRefusedWithStableCodesAndChangeNothing() throws Exception {
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("users").setSharding("range")
                .setReplicationFactor(3).setInitialShardCount(1).build());
        long users = shards("users").getFirst().getShard().getId();
        admin(0).splitShard(SplitShardRequest.newBuilder().setShard(users).setKey(b("m")).build());
        admin(0).splitShard(SplitShardRequest.newBuilder().setShard(users).setKey(b("f")).build());
        List<ShardDescriptor> u = inKeyOrder(shards("users"));
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("dir").setSharding("directory")
                .setReplicationFactor(3).setInitialShardCount(2).build());
        // two shards of one replica each, on different nodes
        createKeyspace(CreateKeyspaceRequest.newBuilder().setName("solo").setSharding("range")
                .setReplicationFactor(1).setInitialShardCount(1).build());
        ShardDescriptor solo = ShardCodec.decode(shards("solo").getFirst().getShard());
        admin(0).splitShard(SplitShardRequest.newBuilder().setShard(solo.id().value()).setKey(b("m")).build());
        List<ShardDescriptor> s = inKeyOrder(shards("solo"));
        String from = s.get(1).voters().getFirst().value();
        String to = from.equals("n1") ? "n2" : "n1";
        assertThat(admin(0).moveShard(MoveShardRequest.newBuilder().setShard(s.get(1).id().value()).setFrom(from)
                .setTo(to).setWait(true).build()).getDone()).isTrue();
        List<ShardInfo> before = shards("users");

        assertThat(refusal(u.get(0).id().value(), u.get(2).id().value())).contains(ShardError.MERGE_NOT_ADJACENT);
        assertThat(refusal(u.get(1).id().value(), u.get(0).id().value())).contains(ShardError.MERGE_NOT_ADJACENT);
        assertThat(refusal(u.get(2).id().value(), 0)).contains(ShardError.MERGE_NOT_ADJACENT); // the last has no right
        assertThat(refusal(u.get(0).id().value(), s.get(1).id().value()))
                .contains(ShardError.MERGE_KEYSPACE_MISMATCH);
        List<ShardInfo> directory = shards("dir");
        assertThat(refusal(directory.get(0).getShard().getId(), directory.get(1).getShard().getId()))
                .contains(ShardError.MERGE_NOT_RANGE);
        assertThat(refusal(s.get(0).id().value(), s.get(1).id().value())).contains(ShardError.MERGE_NOT_COLOCATED);
        assertThat(refusal(0, 0)).contains(ShardError.INVALID_REQUEST);
        // a source whose rows would not fit in one log entry
        for (int i = 0; i < 6; i++) {
            kv(0).put(PutRequest.newBuilder().setKeyspace("users").setKey(b("x" + i))
                    .setValue(ByteString.copyFrom(new byte[100_000])).build());
        }
        // the size is read from the source's leader, which holds every acknowledged put: no waiting
        // for the admin node's replica (MergeSizeAtLeaderInProcessTest has one that lags)
        assertThat(refusal(u.get(1).id().value(), u.get(2).id().value())).contains(ShardError.MERGE_TOO_LARGE);
        assertThat(refusal(999, 0)).contains(ShardError.SHARD_NOT_FOUND);
        assertThat(shards("users")).hasSize(3).map(ShardInfo::getSpan)
                .containsExactlyElementsOf(before.stream().map(ShardInfo::getSpan).toList());
    }

    private Optional<ShardError> refusal(long left, long right) {
        var refused = catchThrowableOfType(StatusRuntimeException.class, () -> admin(1).mergeShards(
                MergeShardsRequest.newBuilder().setLeft(left).setRight(right).build()));
        assertThat(refused).as("merge of %d and %d refused", left, right).isNotNull();
        return ShardError.of(refused);
    }

    private static List<ShardDescriptor> inKeyOrder(List<ShardInfo> shards) {
        return shards.stream().map(s -> ShardCodec.decode(s.getShard()))
                .sorted(Comparator.comparing(d -> d.keyRange().start())).toList();
    }

    private static String key(int i) {
        return String.format("user-%07d", i);
    }
}
