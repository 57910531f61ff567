package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Placement;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardChange.AddLearner;
import dev.atoll.shard.ShardChange.Operation;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SplitPolicy;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class RebalancerTest {
    private static final RebalancerConfig CONFIG = RebalancerConfig.defaults();

    private static SimCluster threeZones(int nodeCount) {
        var c = new SimCluster(CONFIG);
        for (int i = 1; i <= nodeCount; i++) {
            c.node("n" + i, "r1", "z" + ((i - 1) % 3 + 1));
        }
        return c;
    }

    private static NodeId n(String id) {
        return NodeId.of(id);
    }

    @Test
    void aNewKeyspaceIsSpreadEvenlyOverZones() {
        SimCluster c = threeZones(6).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(12));
        assertThat(c.replicasPerNode().values()).containsOnly(6);
        for (ShardDescriptor s : c.map.shards()) {
            assertThat(s.voters().stream().map(c::zone).distinct()).as("one replica per zone: %s", s).hasSize(3);
        }
        assertThat(c.rebalancer.plan(c.state()).isEmpty()).as("a fresh keyspace needs nothing but leaders").isFalse();
    }

    @Test
    void aNewEmptyNodeReceivesReplicasUntilBalanced() {
        var c = new SimCluster(CONFIG);
        c.node("n1", "r1", "z1").node("n2", "r1", "z2").node("n3", "r1", "z3");
        c.keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(12));
        c.runUntilStable(20);
        c.history.clear();

        c.node("n4", "r1", "z4");
        Plan first = c.rebalancer.plan(c.state());
        assertThat(first.operations()).filteredOn(op -> op instanceof AddLearner).isNotEmpty()
                .as("a balance move names the voter it relieves, one that holds the shard")
                .allMatch(op -> first.replaced((AddLearner) op).filter(from -> !from.equals(n("n4"))
                        && c.map.shard(op.shard()).orElseThrow().voters().contains(from)).isPresent());
        int steps = c.runUntilStable(50);

        assertThat(c.replicasPerNode()).containsEntry(n("n4"), 9);
        assertThat(c.replicasPerNode().values()).containsOnly(9);
        long added = c.history.stream().filter(op -> op instanceof AddLearner).count();
        assertThat(added).as("only the replicas the new node should hold move: 36/4").isEqualTo(9);
        assertThat(c.history).filteredOn(op -> op instanceof AddLearner).allMatch(op -> ((AddLearner) op).node().equals(n("n4")));
        System.out.printf("new node: balanced in %d steps with %d operations%n", steps, c.history.size());
    }

    @Test
    void zoneSpreadComesBeforeBalance() {
        // Three zones, RF 3: every zone holds one replica of every shard. A node joining zone z1
        // can only share z1's replicas with n1; taking one from z2 or z3 would put two in z1.
        var c = new SimCluster(CONFIG);
        c.node("n1", "r1", "z1").node("n2", "r1", "z2").node("n3", "r1", "z3");
        c.keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(12));
        c.node("n4", "r1", "z1");
        c.runUntilStable(50);
        assertThat(c.replicasPerNode()).containsEntry(n("n1"), 6).containsEntry(n("n4"), 6)
                .containsEntry(n("n2"), 12).containsEntry(n("n3"), 12);
    }

    @Test
    void aDownNodesReplicasAreRecreatedElsewhereWithoutEverDroppingQuorum() {
        SimCluster c = threeZones(6).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(10));
        c.runUntilStable(30);
        Set<ShardId> onN2 = new HashSet<>();
        c.map.shards().stream().filter(s -> s.hasReplicaOn(n("n2"))).forEach(s -> onN2.add(s.id()));

        c.setState("n2", Node.State.DOWN);
        Plan first = c.step();

        assertThat(first.operations()).as("a move starts by adding a learner, never by removing")
                .allMatch(op -> op instanceof AddLearner || op instanceof ShardChange.TransferLeader);
        assertThat(first.operations()).filteredOn(op -> op instanceof AddLearner)
                .extracting(Operation::shard).containsExactlyInAnyOrderElementsOf(onN2);
        assertThat(first.operations()).filteredOn(op -> op instanceof AddLearner)
                .as("each new learner names the down voter it replaces")
                .allMatch(op -> first.replaced((AddLearner) op).equals(java.util.Optional.of(n("n2"))));
        c.runUntilStable(50);
        assertThat(c.replicasPerNode()).containsEntry(n("n2"), 0);
        for (ShardDescriptor s : c.map.shards()) {
            assertThat(s.voters()).hasSize(3).doesNotContain(n("n2"));
            assertThat(s.voters().stream().map(c::zone).distinct()).as("still one per zone: %s", s).hasSize(3);
        }
    }

    @Test
    void aDrainingNodeIsEmptiedAndGivesUpItsLeadersFirst() {
        SimCluster c = threeZones(6).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(10));
        c.runUntilStable(30);
        c.setState("n1", Node.State.DRAINING);
        c.runUntilStable(60);
        assertThat(c.replicasPerNode()).containsEntry(n("n1"), 0);
        assertThat(c.leadersPerNode()).containsEntry(n("n1"), 0);
        assertThat(c.history).filteredOn(op -> op instanceof ShardChange.RemoveReplica r && r.node().equals(n("n1")))
                .isNotEmpty();
    }

    @Test
    void aShardThatLostQuorumIsReportedNotTouched() {
        SimCluster c = threeZones(3).keyspace(KeyspaceSpec.range("users", 3));
        c.node("n4", "r1", "z1");
        c.setState("n2", Node.State.DOWN).setState("n3", Node.State.DOWN);
        Plan plan = c.rebalancer.plan(c.state());
        assertThat(plan.operations()).isEmpty();
        assertThat(plan.quorumLost()).containsExactly(ShardId.of(1));
    }

    @Test
    void replicasStayInTheAllowedRegionsWithOnePerRegion() {
        var c = new SimCluster(CONFIG);
        for (String r : List.of("eu", "us", "ap")) {
            c.node(r + "1", r, "a").node(r + "2", r, "b");
        }
        c.node("sa1", "sa", "a");
        var spec = KeyspaceSpec.range("orders", 3).withInitialShardCount(6)
                .withPlacement(Placement.replicaPerRegion(List.of("eu", "us", "ap")));
        c.keyspace(spec);
        c.runUntilStable(30);
        c.setState("eu1", Node.State.DOWN);
        c.runUntilStable(60);
        for (ShardDescriptor s : c.map.shards()) {
            assertThat(s.voters().stream().map(c::region).sorted().toList()).as("%s", s).containsExactly("ap", "eu", "us");
        }
        assertThat(c.replicasPerNode()).containsEntry(n("sa1"), 0).containsEntry(n("eu1"), 0).containsEntry(n("eu2"), 6);
    }

    @Test
    void geoShardsLiveOnlyInTheirRegionAndAreRepairedIntoIt() {
        var c = new SimCluster(CONFIG);
        for (String r : List.of("eu", "us")) {
            c.node(r + "1", r, "a").node(r + "2", r, "b").node(r + "3", r, "c");
        }
        var geo = new KeyspaceSpec("profiles", new Sharding.Geo((byte) '/', List.of("eu", "us"), "us"), 3, 1,
                Placement.ANYWHERE);
        c.keyspace(geo);
        assertGeoPlacement(c);
        for (String at : List.of("eu/c", "eu/f", "eu/j", "eu/n", "eu/s")) {
            ShardDescriptor s = c.map.lookup("profiles", Key.utf8(at)).orElseThrow();
            c.apply(new ShardChange.Split(s.id(), s.epoch(), new dev.atoll.shard.SplitPoint.AtKey(Key.utf8(at))));
        }
        assertThat(c.map.shards("profiles")).hasSize(8);

        // A region grows: its shards spread onto the new node, the other region's never do.
        c.node("eu4", "eu", "d");
        c.runUntilStable(40);
        assertGeoPlacement(c);
        assertThat(c.replicasPerNode().get(n("eu4"))).isPositive();

        // A shard put in the wrong region (by hand) is moved home.
        ShardDescriptor eu = c.map.lookup("profiles", Key.utf8("eu/alice")).orElseThrow();
        c.apply(new AddLearner(eu.id(), eu.epoch(), n("us1")));
        c.runUntilStable(40);
        assertGeoPlacement(c);
    }

    private static void assertGeoPlacement(SimCluster c) {
        for (ShardDescriptor s : c.map.shards("profiles")) {
            String region = c.map.regionOf(s).orElseThrow();
            assertThat(s.nodes()).as("%s is in %s", s, region).allMatch(node -> c.region(node).equals(region));
        }
    }

    @Test
    void leadersSpreadAcrossNodes() {
        SimCluster c = threeZones(3).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(30));
        assertThat(c.leadersPerNode()).as("every shard elects its first voter").containsEntry(n("n1"), 30);
        c.runUntilStable(20);
        assertThat(c.leadersPerNode().values()).containsOnly(10);
    }

    @Test
    void aPlanIsBoundedAndTouchesEachShardOnce() {
        var c = new SimCluster(CONFIG.withOpsPerStepMax(4));
        c.node("n1", "r1", "z1").node("n2", "r1", "z2").node("n3", "r1", "z3");
        c.keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(40));
        c.node("n4", "r1", "z4").node("n5", "r1", "z5");
        for (int i = 0; i < 200; i++) {
            Plan plan = c.step();
            assertThat(plan.operations().size()).isLessThanOrEqualTo(4);
            assertThat(plan.operations().stream().map(Operation::shard).distinct().count())
                    .isEqualTo(plan.operations().size());
            if (plan.isEmpty()) {
                break;
            }
        }
        assertThat(c.rebalancer.plan(c.state()).isEmpty()).isTrue();
        assertThat(c.replicasPerNode().values()).as("within the 5%% band around 24").allMatch(r -> r >= 23 && r <= 25);
    }

    @Test
    void shardsAreBalancedByBytesRelativeToCapacity() {
        var c = new SimCluster(new RebalancerConfig(16, 4, 1, 0.05, SplitPolicy.defaults()));
        c.node("n1", "r1", "z1", 1000L << 30).node("n2", "r1", "z1", 1000L << 30).node("n3", "r1", "z1", 2000L << 30);
        c.keyspace(KeyspaceSpec.range("blobs", 1).withInitialShardCount(16));
        for (ShardDescriptor s : c.map.shards()) {
            c.sizeBytes.put(s.id(), (s.id().value() % 4 + 1) * (1L << 30));
        }
        c.runUntilStable(40);
        TreeMap<NodeId, Long> bytes = c.bytesPerNode();
        long total = bytes.values().stream().mapToLong(Long::longValue).sum();
        System.out.printf("bytes by node (capacities 1:1:2): %s%n", bytes);
        assertThat(bytes.get(n("n3")) / (double) total).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.07));
        assertThat(bytes.get(n("n1")) / (double) total).isCloseTo(0.25, org.assertj.core.data.Offset.offset(0.07));
    }

    @Test
    void addingASixthNodeMovesAboutASixthOfTheData() {
        var c = new SimCluster(CONFIG);
        for (int i = 1; i <= 5; i++) {
            c.node("n" + i, "r1", "z" + i);
        }
        c.keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(60));
        for (ShardDescriptor s : c.map.shards()) {
            c.sizeBytes.put(s.id(), (64 + (s.id().value() * 37) % 64) * (1L << 20));
        }
        c.runUntilStable(60);
        c.history.clear();
        long totalBytes = c.bytesPerNode().values().stream().mapToLong(Long::longValue).sum();

        c.node("n6", "r1", "z6");
        c.runUntilStable(80);

        var stats = c.stats();
        long movedBytes = c.history.stream().filter(op -> op instanceof AddLearner)
                .mapToLong(op -> stats.get(op.shard()).sizeBytes()).sum();
        double fraction = movedBytes / (double) totalBytes;
        System.out.printf("rebalancer 5->6 nodes: moved %.4f of replica bytes (ideal %.4f), bytes per node %s%n",
                fraction, 1 / 6.0, c.bytesPerNode());
        assertThat(fraction).isBetween(1 / 6.0 - 0.03, 1 / 6.0 + 0.03);
    }

    @Test
    void aMoveNeverRemovesBeforeTheNewReplicaVotes() {
        SimCluster c = threeZones(4).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(8));
        c.runUntilStable(30);
        c.setState("n4", Node.State.DOWN);
        c.runUntilStable(40);
        // Every shard's sequence of conf changes is add learner, promote, remove, in that order.
        var perShard = new TreeMap<ShardId, StringBuilder>();
        for (Operation op : c.history) {
            char code = switch (op) {
                case AddLearner a -> 'A';
                case ShardChange.PromoteLearner p -> 'P';
                case ShardChange.RemoveReplica r -> 'R';
                default -> '-';
            };
            if (code != '-') {
                perShard.computeIfAbsent(op.shard(), x -> new StringBuilder()).append(code);
            }
        }
        assertThat(perShard.values()).allMatch(s -> s.toString().matches("(APR)*"));
    }

    @Test
    void everyReplicaOfAFreshNodeIsAVoterOnceStable() {
        SimCluster c = threeZones(3).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(6));
        c.node("n4", "r1", "z1");
        c.runUntilStable(40);
        assertThat(c.map.shards()).allMatch(s -> s.replicas().stream().allMatch(Replica::isVoter));
    }

    @Test
    void aLearnerStillCatchingUpIsNotPromoted() {
        SimCluster c = threeZones(4).keyspace(KeyspaceSpec.range("users", 3));
        ShardDescriptor s = c.map.shards().iterator().next();
        NodeId spare = c.nodes.keySet().stream().filter(n -> !s.hasReplicaOn(n)).findFirst().orElseThrow();
        c.apply(new AddLearner(s.id(), s.epoch(), spare));
        ShardDescriptor withLearner = c.map.shard(s.id()).orElseThrow();
        var stats = new TreeMap<>(c.stats());
        stats.put(s.id(), new dev.atoll.shard.ShardStats(s.id(), withLearner.epoch(), 0, 0, 0, List.of(spare),
                dev.atoll.shard.KeySample.EMPTY));
        Plan waiting = c.rebalancer.plan(ClusterState.of(List.copyOf(c.nodes.values()), c.map, stats));
        assertThat(waiting.operations()).noneMatch(op -> op.shard().equals(s.id()));

        Plan caughtUp = c.rebalancer.plan(c.state());
        assertThat(caughtUp.operations()).contains(new ShardChange.PromoteLearner(s.id(), withLearner.epoch(), spare));
    }

    @Test
    void aKeyspaceTheClusterCannotHoldIsRefusedWithTheReason() {
        var c = new SimCluster(CONFIG);
        c.node("eu1", "eu", "a").node("eu2", "eu", "b").node("us1", "us", "a");
        var geo = new KeyspaceSpec("profiles", new Sharding.Geo((byte) '/', List.of("eu", "us"), "eu"), 2, 1,
                Placement.ANYWHERE);
        var placed = c.rebalancer.placeKeyspace(geo, c.state());
        assertThat(placed).isInstanceOf(Rebalancer.NewKeyspace.Unplaceable.class);
        assertThat(((Rebalancer.NewKeyspace.Unplaceable) placed).reason()).contains("region us");
        assertThat(c.rebalancer.placeKeyspace(KeyspaceSpec.range("big", 5), c.state()))
                .isInstanceOf(Rebalancer.NewKeyspace.Unplaceable.class);
    }

    @Test
    void aReplicaWithNowhereToGoIsReportedAndTheShardKeepsServing() {
        SimCluster c = threeZones(3).keyspace(KeyspaceSpec.range("users", 3).withInitialShardCount(2));
        c.setState("n3", Node.State.DOWN);
        c.runUntilStable(10);
        Plan plan = c.rebalancer.plan(c.state());
        assertThat(plan.unplaceable()).containsExactly(ShardId.of(1), ShardId.of(2));
        assertThat(c.map.shards()).allMatch(s -> s.voters().size() == 3);
    }
}
