package dev.atoll.server;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerConfigTest {
    private static ServerConfig parse(String... extra) {
        var args = new java.util.ArrayList<>(java.util.List.of("--name", "n4", "--data-dir", "/tmp/x",
                "--listen-client", "127.0.0.1:1", "--listen-peer", "127.0.0.1:2"));
        args.addAll(java.util.List.of(extra));
        return ServerConfig.fromArgs(args.toArray(String[]::new));
    }

    @Test
    void aMemberFoundsANewClusterUnlessToldToJoinAnExistingOne() {
        assertThat(parse().initialClusterState()).isEqualTo(ServerConfig.ClusterState.NEW);
        ServerConfig joining = parse("--initial-cluster-state=existing",
                "--initial-cluster", "n1=http://127.0.0.1:5,n4=http://127.0.0.1:2");
        assertThat(joining.initialClusterState()).isEqualTo(ServerConfig.ClusterState.EXISTING);
        assertThatThrownBy(() -> parse("--initial-cluster-state", "maybe"))
                .hasMessageContaining("initial-cluster-state");
        assertThatThrownBy(() -> parse("--initial-cluster-state", "existing"))
                .as("nobody to join through").hasMessageContaining("initial-cluster");
    }

    @Test
    void etcdctlsInitialClusterIsTakenAsPrinted() {
        // etcdctl member add prints members that have not started as "=URL"
        ServerConfig c = parse("--initial-cluster",
                "n1=http://127.0.0.1:5,=http://127.0.0.1:6,n4=http://127.0.0.1:2", "--initial-cluster-state", "existing");
        assertThat(c.initialCluster()).hasSize(2).containsKeys(dev.atoll.core.NodeId.of("n1"), c.nodeId());
        assertThat(c.initialCluster().get(dev.atoll.core.NodeId.of("n1")).getPort()).isEqualTo(5);
    }

    @Test
    void aNodeStatesItsRegionZoneAndCapacityOrGetsTheDefaults() {
        ServerConfig labelled = parse("--region", "eu-west", "--zone=eu-west-1a", "--capacity-bytes", "1000000");
        assertThat(labelled.labels()).isEqualTo(new dev.atoll.server.cluster.NodeLabels("eu-west", "eu-west-1a", 1_000_000));
        assertThat(parse().labels()).isEqualTo(dev.atoll.server.cluster.NodeLabels.DEFAULT);
        assertThat(parse().labels().zoneOr("n4")).as("no zone: a zone of its own").isEqualTo("n4");
        assertThatThrownBy(() -> parse("--region", "EU West")).hasMessageStartingWith("region:");
        assertThatThrownBy(() -> parse("--zone", "-a")).hasMessageStartingWith("zone:");
        assertThatThrownBy(() -> parse("--capacity-bytes", "0")).hasMessageStartingWith("capacity-bytes:");
        assertThatThrownBy(() -> parse("--capacity-bytes", "lots")).hasMessageStartingWith("capacity-bytes:");
    }

    @Test
    void thePlacementDriverRunsUnlessSwitchedOffAndSplitThresholdsAreChecked() {
        assertThat(parse().rebalance()).isTrue();
        assertThat(parse("--rebalance", "off").rebalance()).isFalse();
        assertThatThrownBy(() -> parse("--rebalance", "sometimes")).hasMessageStartingWith("rebalance:");
        assertThat(parse("--split-size-bytes", "65536").splitPolicy().splitSizeBytes()).isEqualTo(65_536);
        assertThat(parse("--split-size-bytes", "65536").splitPolicy().mergeSizeBytesMax()).isEqualTo(13_107);
        assertThatThrownBy(() -> parse("--split-load-qps", "0")).hasMessageStartingWith("split-load-qps:");
    }

    @Test
    void mergesWaitAnHourByDefaultAndAreCappedByWhatOneMergeCarries() {
        assertThat(parse().splitPolicy().mergeRangeAgeTicksMin()).isEqualTo(3600);
        assertThat(parse("--merge-after-seconds", "3").splitPolicy().mergeRangeAgeTicksMin()).isEqualTo(3);
        assertThat(parse().splitPolicy().mergeSizeBytesMax()).isEqualTo(512 << 10);
        assertThatThrownBy(() -> parse("--merge-after-seconds", "-1")).hasMessageStartingWith("merge-after-seconds:");
        assertThatThrownBy(() -> parse("--merge-after-seconds", "soon")).hasMessageStartingWith("merge-after-seconds:");
    }

    @Test
    void linearizableReadsUseReadIndexUnlessLeaseReadsAreAskedFor() {
        assertThat(parse().readMode()).isEqualTo(dev.atoll.consensus.raft.ReadMode.READ_INDEX);
        assertThat(parse("--read-mode", "index").readMode()).isEqualTo(dev.atoll.consensus.raft.ReadMode.READ_INDEX);
        assertThat(parse("--read-mode=lease").readMode()).isEqualTo(dev.atoll.consensus.raft.ReadMode.LEASE);
        assertThatThrownBy(() -> parse("--read-mode", "optimistic")).hasMessageStartingWith("read-mode:");
    }
}
