package dev.atoll.sim;

import dev.atoll.sim.raft.RaftFactory;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** One seed is one run: the same seed replays byte for byte, another seed does not. */
class SimulationDeterminismTest {
    private final SimOptions options = SimOptions.of(5, FaultProfile.Set.ALL);

    @Test
    void sameSeedReplaysTheSameRunExactly() {
        for (long seed = 11; seed < 14; seed++) {
            var first = new Simulation<>(seed, options, new RaftFactory(), true);
            var second = new Simulation<>(seed, options, new RaftFactory(), true);
            SimResult a = first.run();
            SimResult b = second.run();
            assertThat(b.digest()).isEqualTo(a.digest());
            assertThat(b.eventCount()).isEqualTo(a.eventCount());
            assertThat(second.transcript()).isEqualTo(first.transcript());
            assertThat(second.history().toString()).isEqualTo(first.history().toString());
        }
    }

    @Test
    void differentSeedsExploreDifferentRuns() {
        SimResult a = Campaign.runOne(new RaftFactory(), options, 21);
        SimResult b = Campaign.runOne(new RaftFactory(), options, 22);
        assertThat(a.digest()).isNotEqualTo(b.digest());
        assertThat(a.operationCount()).isPositive();
    }
}
