package dev.atoll.shard;

import dev.atoll.shard.ChangeResult.Applied;
import dev.atoll.shard.ChangeResult.Rejected;
import dev.atoll.shard.ChangeResult.StaleEpoch;
import dev.atoll.shard.ShardChange.AddLearner;
import dev.atoll.shard.ShardChange.Merge;
import dev.atoll.shard.ShardChange.PromoteLearner;
import dev.atoll.shard.ShardChange.RemoveReplica;
import dev.atoll.shard.ShardChange.Split;
import dev.atoll.shard.ShardChange.TransferLeader;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.atoll.shard.Keys.applied;
import static dev.atoll.shard.Keys.appliedResult;
import static dev.atoll.shard.Keys.k;
import static dev.atoll.shard.Keys.n;
import static dev.atoll.shard.Keys.nodes;
import static dev.atoll.shard.Keys.withKeyspace;
import static org.assertj.core.api.Assertions.assertThat;

class ShardMapTest {
    private static final ShardId S1 = ShardId.of(1);
    private static final ShardId S2 = ShardId.of(2);

    private static Split splitAt(ShardMap map, ShardId id, String key) {
        return new Split(id, map.shard(id).orElseThrow().epoch(), new SplitPoint.AtKey(k(key)));
    }

    @Test
    void aNewRangeKeyspaceIsOneShardHoldingEveryKey() {
        ShardMap map = withKeyspace(KeyspaceSpec.range("users", 3));
        assertThat(map.version()).isEqualTo(1);
        ShardDescriptor only = map.lookup("users", k("anything")).orElseThrow();
        assertThat(only.keyRange()).isEqualTo(KeyRange.ALL);
        assertThat(only.voters()).isEqualTo(nodes("n1", "n2", "n3"));
        assertThat(only.epoch()).isEqualTo(ShardEpoch.INITIAL);
        assertThat(map.lookup("users", Key.MIN).orElseThrow().id()).isEqualTo(S1);
        assertThat(map.lookup("nope", k("a"))).isEmpty();
    }

    @Test
    void splitCutsTheRangeAtTheKeyAndBumpsBothRangeVersions() {
        ShardMap before = withKeyspace(KeyspaceSpec.range("users", 3));
        Applied split = appliedResult(before, splitAt(before, S1, "m"));
        ShardMap map = split.map();

        assertThat(map.version()).isEqualTo(before.version() + 1);
        assertThat(map.lookup("users", k("a")).orElseThrow().id()).isEqualTo(S1);
        assertThat(map.lookup("users", k("l\u00ff")).orElseThrow().id()).isEqualTo(S1);
        assertThat(map.lookup("users", k("m")).orElseThrow().id()).isEqualTo(S2);
        assertThat(map.lookup("users", k("zzz")).orElseThrow().id()).isEqualTo(S2);
        assertThat(split.changed()).extracting(ShardDescriptor::epoch)
                .containsOnly(new ShardEpoch(2, 1));
        assertThat(map.shard(S2).orElseThrow().replicas()).isEqualTo(map.shard(S1).orElseThrow().replicas());
    }

    @Test
    void aChangePlannedAgainstAnOldEpochIsRefusedWithTheCurrentDescriptor() {
        ShardMap v1 = withKeyspace(KeyspaceSpec.range("users", 3));
        Split first = splitAt(v1, S1, "m");
        ShardMap v2 = applied(v1, first);

        ChangeResult again = v2.apply(new Split(S1, first.epoch(), new SplitPoint.AtKey(k("f"))));

        assertThat(again).isInstanceOf(StaleEpoch.class);
        assertThat(((StaleEpoch) again).current()).isEqualTo(v2.shard(S1).orElseThrow());
    }

    @Test
    void aClientWithAStaleMapIsToldTheShardMovedAndWhereTheKeyIsNow() {
        ShardMap v1 = withKeyspace(KeyspaceSpec.range("users", 3));
        ShardDescriptor cached = v1.lookup("users", k("zebra")).orElseThrow();
        ShardMap v2 = applied(v1, splitAt(v1, S1, "m"));

        assertThat(v1.checkRoute("users", k("zebra"), cached.id(), cached.epoch())).isInstanceOf(RouteCheck.Current.class);
        RouteCheck check = v2.checkRoute("users", k("zebra"), cached.id(), cached.epoch());
        assertThat(check).isEqualTo(new RouteCheck.ShardMoved(v2.shard(S2).orElseThrow()));
        ShardDescriptor fresh = v2.shard(S2).orElseThrow();
        assertThat(v2.checkRoute("users", k("zebra"), fresh.id(), fresh.epoch())).isInstanceOf(RouteCheck.Current.class);
    }

    @Test
    void splitKeysOutsideOrAtTheStartOfTheShardAreRejected() {
        ShardMap map = applied(withKeyspace(KeyspaceSpec.range("users", 3)), splitAt(withKeyspace(KeyspaceSpec.range("users", 3)), S1, "m"));
        assertThat(map.apply(splitAt(map, S2, "m"))).isInstanceOf(Rejected.class);
        assertThat(map.apply(splitAt(map, S2, "a"))).isInstanceOf(Rejected.class);
        assertThat(map.apply(splitAt(map, S1, "z"))).isInstanceOf(Rejected.class);
        assertThat(map.apply(new Split(S1, map.shard(S1).orElseThrow().epoch(), new SplitPoint.AtSlot(3))))
                .isInstanceOf(Rejected.class);
    }

    @Test
    void adjacentCoLocatedShardsMergeIntoTheLeftOnePastBothEpochs() {
        ShardMap v1 = withKeyspace(KeyspaceSpec.range("users", 3));
        ShardMap v2 = applied(v1, splitAt(v1, S1, "m"));
        ShardMap v3 = applied(v2, splitAt(v2, S2, "t"));
        ShardDescriptor s1 = v3.shard(S1).orElseThrow();
        ShardDescriptor s2 = v3.shard(S2).orElseThrow();

        Applied merged = appliedResult(v3, new Merge(S1, s1.epoch(), S2, s2.epoch()));

        assertThat(merged.removed()).containsExactly(S2);
        ShardDescriptor m = merged.map().shard(S1).orElseThrow();
        assertThat(m.keyRange()).isEqualTo(new KeyRange(Key.MIN, k("t")));
        assertThat(m.epoch().rangeVersion()).isGreaterThan(Math.max(s1.epoch().rangeVersion(), s2.epoch().rangeVersion()));
        assertThat(merged.map().lookup("users", k("p")).orElseThrow().id()).isEqualTo(S1);
    }

    @Test
    void mergeNeedsNeighboursWithReplicasOnTheSameNodes() {
        ShardMap v1 = withKeyspace(KeyspaceSpec.range("users", 3));
        ShardMap v2 = applied(v1, splitAt(v1, S1, "m"));
        ShardMap v3 = applied(v2, splitAt(v2, S2, "t"));
        ShardId s3 = ShardId.of(3);
        var notAdjacent = new Merge(S1, v3.shard(S1).orElseThrow().epoch(), s3, v3.shard(s3).orElseThrow().epoch());
        assertThat(v3.apply(notAdjacent)).isInstanceOf(Rejected.class);

        ShardMap moved = applied(v3, new AddLearner(S2, v3.shard(S2).orElseThrow().epoch(), n("n4")));
        var notCoLocated = new Merge(S1, moved.shard(S1).orElseThrow().epoch(), S2, moved.shard(S2).orElseThrow().epoch());
        assertThat(moved.apply(notCoLocated)).isInstanceOf(Rejected.class);
    }

    @Test
    void replicaChangesBumpTheConfVersionAndLeaderChangesBumpNothing() {
        ShardMap map = withKeyspace(KeyspaceSpec.range("users", 3));
        ShardEpoch e0 = map.shard(S1).orElseThrow().epoch();
        map = applied(map, new AddLearner(S1, e0, n("n4")));
        ShardEpoch e1 = map.shard(S1).orElseThrow().epoch();
        assertThat(e1).isEqualTo(e0.nextConf());
        assertThat(map.shard(S1).orElseThrow().learners()).containsExactly(n("n4"));

        map = applied(map, new PromoteLearner(S1, e1, n("n4")));
        ShardEpoch e2 = map.shard(S1).orElseThrow().epoch();
        map = applied(map, new TransferLeader(S1, e2, n("n4")));
        assertThat(map.shard(S1).orElseThrow().epoch()).isEqualTo(e2);
        assertThat(map.shard(S1).orElseThrow().leaderHint()).isEqualTo(n("n4"));

        map = applied(map, new RemoveReplica(S1, e2, n("n4")));
        assertThat(map.shard(S1).orElseThrow().voters()).isEqualTo(nodes("n1", "n2", "n3"));
        assertThat(map.shard(S1).orElseThrow().leaderHint()).as("the removed leader is no longer hinted").isNull();
    }

    @Test
    void theLastVoterIsNeverRemovedAndLearnersAreNotLeaders() {
        ShardMap map = withKeyspace(KeyspaceSpec.range("solo", 1));
        ShardEpoch e = map.shard(S1).orElseThrow().epoch();
        assertThat(map.apply(new RemoveReplica(S1, e, n("n1")))).isInstanceOf(Rejected.class);
        ShardMap withLearner = applied(map, new AddLearner(S1, e, n("n2")));
        assertThat(withLearner.apply(new TransferLeader(S1, e.nextConf(), n("n2")))).isInstanceOf(Rejected.class);
        assertThat(withLearner.apply(new AddLearner(S1, e.nextConf(), n("n2")))).isInstanceOf(Rejected.class);
    }

    @Test
    void hashKeyspacesRouteBySlotAndSplitAtASlot() {
        ShardMap map = withKeyspace(KeyspaceSpec.hash("sessions", 3, 4));
        assertThat(map.shards("sessions")).extracting(s -> s.hashSlots().slotCount()).containsOnly(4096);
        for (String key : List.of("a", "b", "user:1", "{user1}.cart")) {
            int slot = KeyHash.slot(k(key), 16384);
            assertThat(map.lookup("sessions", k(key)).orElseThrow().hashSlots().contains(slot)).isTrue();
        }
        ShardDescriptor first = map.shard(S1).orElseThrow();
        Applied split = appliedResult(map, new Split(S1, first.epoch(), new SplitPoint.AtSlot(1000)));
        ShardId created = ShardId.of(5);
        assertThat(split.map().shard(S1).orElseThrow().hashSlots()).isEqualTo(HashSlots.of(new SlotRange(0, 1000)));
        assertThat(split.map().shard(created).orElseThrow().hashSlots()).isEqualTo(HashSlots.of(new SlotRange(1000, 4096)));
        assertThat(map.apply(new Split(S1, first.epoch(), new SplitPoint.AtSlot(0)))).isInstanceOf(Rejected.class);
    }

    @Test
    void slotsMoveBetweenHashShardsWithADataMove() {
        ShardMap map = withKeyspace(KeyspaceSpec.hash("sessions", 3, 2));
        map = applied(map, new ShardChange.AddShard("sessions", nodes("n1", "n2", "n3")));
        ShardId empty = ShardId.of(3);
        assertThat(map.shard(empty).orElseThrow().hashSlots().isEmpty()).isTrue();
        HashSlots some = HashSlots.of(new SlotRange(100, 200));
        Applied moved = appliedResult(map, new ShardChange.MoveSlots(S1, map.shard(S1).orElseThrow().epoch(), empty,
                map.shard(empty).orElseThrow().epoch(), some));
        assertThat(moved.moves()).containsExactly(new DataMove(some, S1, empty));
        assertThat(moved.map().shard(empty).orElseThrow().hashSlots()).isEqualTo(some);
        assertThat(moved.map().shard(S1).orElseThrow().hashSlots().slotCount()).isEqualTo(8192 - 100);
        assertThat(moved.map().apply(new ShardChange.MoveSlots(S1, moved.map().shard(S1).orElseThrow().epoch(), empty,
                moved.map().shard(empty).orElseThrow().epoch(), some))).isInstanceOf(Rejected.class);
    }

    @Test
    void geoKeyspacesCutTheKeySpaceAtRegionBoundaries() {
        var geo = new Sharding.Geo((byte) '/', List.of("eu", "us"), "us");
        ShardMap map = withKeyspace(new KeyspaceSpec("profiles", geo, 3, 1, Placement.ANYWHERE));
        var p = (GeoPartitioner) map.partitioner("profiles").orElseThrow();

        assertThat(p.regionOf(k("eu/alice"))).isEqualTo("eu");
        assertThat(p.regionOf(k("us/bob"))).isEqualTo("us");
        assertThat(p.regionOf(k("mars/x"))).as("unknown regions go home").isEqualTo("us");
        ShardDescriptor eu = map.lookup("profiles", k("eu/alice")).orElseThrow();
        assertThat(eu.keyRange()).isEqualTo(KeyRange.ofPrefix(k("eu/")));
        assertThat(map.regionOf(eu)).contains("eu");
        assertThat(map.lookup("profiles", k("eu0")).orElseThrow().id()).isNotEqualTo(eu.id());
        // Shards on either side of the eu segment are both home (us) but not adjacent: three shards.
        assertThat(map.shards("profiles")).hasSize(3);
    }

    @Test
    void geoShardsSplitInsideTheirRegionButNeverMergeAcrossIt() {
        var geo = new Sharding.Geo((byte) '/', List.of("eu", "us"), "us");
        ShardMap map = withKeyspace(new KeyspaceSpec("profiles", geo, 3, 1, Placement.ANYWHERE));
        ShardDescriptor below = map.lookup("profiles", k("a")).orElseThrow();
        ShardDescriptor eu = map.lookup("profiles", k("eu/a")).orElseThrow();
        assertThat(map.apply(new Merge(below.id(), below.epoch(), eu.id(), eu.epoch()))).isInstanceOf(Rejected.class);

        ShardMap split = applied(map, new Split(eu.id(), eu.epoch(), new SplitPoint.AtKey(k("eu/m"))));
        ShardDescriptor upper = split.lookup("profiles", k("eu/z")).orElseThrow();
        assertThat(split.regionOf(upper)).contains("eu");
    }

    @Test
    void aKeyspaceIsCreatedOnceWithVotersForEveryInitialShard() {
        ShardMap map = withKeyspace(KeyspaceSpec.range("users", 3));
        assertThat(map.apply(new ShardChange.CreateKeyspace(KeyspaceSpec.range("users", 3), List.of(nodes("n1")))))
                .isInstanceOf(Rejected.class);
        var fourShards = KeyspaceSpec.range("events", 3).withInitialShardCount(4);
        assertThat(map.apply(new ShardChange.CreateKeyspace(fourShards, List.of(nodes("n1")))))
                .isInstanceOf(Rejected.class);
        assertThat(map.apply(new ShardChange.CreateKeyspace(KeyspaceSpec.range("events", 3), List.of(nodes("n1", "n1")))))
                .isInstanceOf(Rejected.class);
        ShardMap two = withKeyspace(fourShards);
        assertThat(two.shards("events")).extracting(s -> s.keyRange().start())
                .containsExactly(Key.MIN, Key.of(new byte[]{64}), Key.of(new byte[]{(byte) 128}), Key.of(new byte[]{(byte) 192}));
    }
}
