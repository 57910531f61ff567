package dev.atoll.sim;

import dev.atoll.core.NodeId;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.PersistentState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SimDiskTest {
    private final Membership members = Membership.ofVoters(Set.of(NodeId.of("n1")));

    private static Entry e(long index, long term) {
        return new Entry(index, term, Entry.Kind.NOOP, null);
    }

    @Test
    void syncedWritesSurviveACrashAndUnsyncedOnesDoNot() {
        var disk = new SimDisk(PersistentState.bootstrap(members));
        long first = disk.write(null, List.of(e(1, 1), e(2, 1)), new HardState(1, null, 2));
        disk.syncThrough(first);
        disk.write(null, List.of(e(3, 1)), new HardState(1, null, 3));
        disk.crash(new SeededRandom(1), false);
        var state = disk.load();
        assertThat(state.entries()).extracting(Entry::index).containsExactly(1L, 2L);
        assertThat(state.hardState().commit()).isEqualTo(2);
    }

    @Test
    void aTornWriteKeepsAPrefixAndTheLogStaysContiguous() {
        for (long seed = 0; seed < 50; seed++) {
            var disk = new SimDisk(PersistentState.bootstrap(members));
            disk.write(null, List.of(e(1, 1), e(2, 1), e(3, 1)), new HardState(1, null, 0));
            disk.crash(new SeededRandom(seed), true);
            var entries = disk.load().entries();
            for (int i = 0; i < entries.size(); i++) {
                assertThat(entries.get(i).index()).isEqualTo(i + 1);
            }
        }
    }

    @Test
    void aLaterWriteTruncatesTheConflictingSuffix() {
        var disk = new SimDisk(PersistentState.bootstrap(members));
        disk.syncThrough(disk.write(null, List.of(e(1, 1), e(2, 1), e(3, 1)), null));
        disk.syncThrough(disk.write(null, List.of(e(2, 2)), null));
        assertThat(disk.load().entries()).containsExactly(e(1, 1), e(2, 2));
    }
}
