package dev.atoll.consensus.raft;

import dev.atoll.core.NodeId;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Snapshot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What a replica finds on its disk after a crash, including writes the crash tore. */
class RaftRestartTest {
    private static final NodeId N1 = NodeId.of("n1");
    private final Membership three = Membership.ofVoters(Set.of(N1, NodeId.of("n2"), NodeId.of("n3")));

    private static Entry entry(long index, long term) {
        return new Entry(index, term, Entry.Kind.NOOP, null);
    }

    // found by `atoll sim raft --faults all --first-seed 103549`: a torn write kept a Ready's
    // entries of a new term but not its hard state, and the restart refused the disk
    @Test
    void aRestartAfterATornWriteAdoptsTheNewerTermOfItsEntriesWithNoVote() {
        var disk = new PersistentState(new HardState(3, NodeId.of("n2"), 1), Snapshot.bootstrap(three),
                List.of(entry(1, 2), entry(2, 4)));
        var node = new RaftNode(N1, RaftConfig.defaults(), disk, new SeededRandom(1));
        assertThat(node.status().term()).isEqualTo(4);
        // the adopted term is persisted with the next Ready, without the vote of term 3
        Ready<RaftMessage> ready = node.ready();
        assertThat(ready.hardState()).isEqualTo(new HardState(4, null, 1));
        node.advance(ready);
    }

    @Test
    void aRestartKeepsTheVoteOfItsPersistedTerm() {
        var disk = new PersistentState(new HardState(5, NodeId.of("n2"), 0), Snapshot.bootstrap(three),
                List.of(entry(1, 4)));
        var node = new RaftNode(N1, RaftConfig.defaults(), disk, new SeededRandom(1));
        assertThat(node.status().term()).isEqualTo(5);
        assertThat(node.hasReady()).isFalse();
    }
}
