package dev.atoll.sim;

import dev.atoll.sim.raft.RaftFactory;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CI campaign: Raft under every fault on hundreds of seeds (longer campaigns run from
 * {@code ./atoll sim raft}). Every seed must pass its invariants, converge after healing and
 * produce a linearizable history.
 */
class RaftCampaignTest {
    private static int threads() {
        return Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    @Test
    void threeNodesUnderEveryFault() {
        var summary = Campaign.run(new RaftFactory(), SimOptions.of(3, FaultProfile.Set.ALL), 1_000, 1_000,
                threads(), r -> { });
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
        assertThat(summary.operationCount()).isGreaterThan(1_000 * 100L);
    }

    @Test
    void fiveNodesUnderEveryFault() {
        var summary = Campaign.run(new RaftFactory(), SimOptions.of(5, FaultProfile.Set.ALL), 50_000, 500,
                threads(), r -> { });
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
    }

    @Test
    void threeNodesUnderNetworkFaultsOnly() {
        var summary = Campaign.run(new RaftFactory(), SimOptions.of(3, FaultProfile.Set.NET), 90_000, 200,
                threads(), r -> { });
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
    }

    @Test
    void sevenNodesUnderEveryFault() {
        var summary = Campaign.run(new RaftFactory(), SimOptions.of(7, FaultProfile.Set.ALL), 70_000, 100,
                threads(), r -> { });
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
    }

    @Test
    void sevenNodesWithoutFaultsAgreeAndServeEveryClient() {
        var summary = Campaign.run(new RaftFactory(), SimOptions.of(7, FaultProfile.Set.NONE), 7, 20,
                threads(), r -> { });
        assertThat(summary.failures()).as(describe(summary)).isEmpty();
    }

    private static String describe(Campaign.Summary s) {
        var sb = new StringBuilder(s.line());
        for (SimResult r : s.failures()) {
            sb.append('\n').append(r.seed()).append(": ").append(r.violation()).append("\n  ").append(r.summary());
        }
        return sb.toString();
    }
}
