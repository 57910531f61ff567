package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.InstallSnapshot;
import dev.atoll.consensus.raft.RaftMessage.SnapshotResponse;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/** Log compaction and InstallSnapshot (Raft §7, thesis §5), chunked over a lossy network. */
class RaftSnapshotTest {
    static final int CHUNK_BYTES = 1024;
    static final RaftConfig CONFIG = RaftConfig.defaults().withSnapshotChunkBytesMax(CHUNK_BYTES);

    /** The application's snapshot: some bytes that name the index they stand for. */
    static byte[] stateAt(long index) {
        byte[] data = new byte[10 * CHUNK_BYTES + 123];
        Arrays.fill(data, (byte) index);
        return data;
    }

    /** Compacts a node the way a driver does: tell the core, then persist the snapshot it reports. */
    static void compact(Cluster c, String name) {
        RaftNode node = c.node(name);
        long applied = node.status().appliedIndex();
        node.compact(applied, stateAt(applied));
        Snapshot s = node.snapshot();
        var disk = c.disks.get(id(name));
        disk.snapshot = s;
        disk.entries.removeIf(e -> e.index() <= s.index());
    }

    private static Cluster clusterWithLaggingN3() {
        var c = Cluster.of(3, CONFIG).electLeader("n1");
        c.crash("n3");
        for (int i = 0; i < 20; i++) {
            c.propose("n1", "v" + i);
        }
        c.stabilize().tick(1);
        compact(c, "n1");
        compact(c, "n2");
        return c;
    }

    @Test
    void compactionKeepsTheSnapshotWithTheMembershipInForce() {
        var c = clusterWithLaggingN3();
        RaftNode n1 = c.node("n1");
        assertThat(n1.snapshot().index()).isEqualTo(21);
        assertThat(n1.snapshot().term()).isEqualTo(n1.status().term());
        assertThat(n1.snapshot().membership()).isEqualTo(n1.status().membership());
        assertThat(n1.log().entry(21)).isNull();
        assertThat(n1.log().term(21)).isEqualTo(n1.status().term());
        assertThat(n1.status().firstIndex()).isEqualTo(22);
    }

    @Test
    void aLaggingFollowerGetsTheSnapshotInChunksDespiteLostAndDuplicatedChunks() {
        var c = clusterWithLaggingN3();
        int[] chunkCount = {0};
        c.dropRule = e -> e.message() instanceof InstallSnapshot && ++chunkCount[0] % 3 == 0;
        c.restart("n3");
        c.propose("n1", "after");
        c.tick(40);
        // Duplicate every chunk delivered so far, out of order: nothing changes.
        List<Envelope<RaftMessage>> chunks = c.delivered.stream()
                .filter(e -> e.message() instanceof InstallSnapshot).toList();
        for (int i = chunks.size() - 1; i >= 0; i--) {
            c.nodes.get(chunks.get(i).to()).step(chunks.get(i));
        }
        c.dropRule = e -> false;
        c.tick(3);

        assertThat(c.sent).filteredOn(e -> e.message() instanceof InstallSnapshot)
                .hasSizeGreaterThan(11)
                .allSatisfy(e -> assertThat(((InstallSnapshot) e.message()).chunk().length).isLessThanOrEqualTo(CHUNK_BYTES));
        var n3 = c.machine("n3");
        assertThat(n3.installed).hasSize(1);
        Snapshot installed = n3.installed.get(0);
        assertThat(installed.index()).isEqualTo(21);
        assertThat(installed.data()).isEqualTo(stateAt(21));
        assertThat(installed.membership()).isEqualTo(Membership.ofVoters(c.nodes.keySet()));
        assertThat(c.appliedCommands("n3")).containsExactly("after");
        assertThat(c.commit("n3")).isEqualTo(c.commit("n1"));
        assertThat(c.sent).anyMatch(e -> e.message() instanceof SnapshotResponse r && r.installed());
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void aFollowerRestartsFromAnInstalledSnapshot() {
        var c = clusterWithLaggingN3();
        c.restart("n3").tick(5);
        assertThat(c.disks.get(id("n3")).snapshot.index()).isEqualTo(21);
        c.crash("n3").restart("n3");
        assertThat(c.node("n3").status().appliedIndex()).isEqualTo(21);
        c.propose("n1", "later");
        c.stabilize();
        assertThat(c.appliedCommands("n3")).containsExactly("later");
    }

    @Test
    void aSnapshotKeepsLaterEntriesThatMatch() {
        var c = clusterWithLaggingN3();
        RaftNode n2 = c.node("n2");
        long last = n2.log().lastIndex();
        // A stale InstallSnapshot (n2 already committed past it) is acknowledged and changes nothing.
        Snapshot s = c.node("n1").snapshot();
        n2.step(new Envelope<>(id("n1"), id("n2"), new InstallSnapshot(n2.status().term(), s.index(), s.term(),
                s.membership(), s.data().length, 0, Arrays.copyOf(s.data(), CHUNK_BYTES), false)));
        var r = n2.ready();
        assertThat(r.snapshot()).isNull();
        assertThat(r.messages()).singleElement().satisfies(e ->
                assertThat(((SnapshotResponse) e.message()).installed()).isTrue());
        n2.advance(r);
        assertThat(n2.log().lastIndex()).isEqualTo(last);
    }
}
