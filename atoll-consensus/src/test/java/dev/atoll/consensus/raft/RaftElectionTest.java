package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.RequestVote;
import dev.atoll.consensus.raft.RaftMessage.VoteResponse;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/** Leader election (Raft §5.2, §5.4.1) with PreVote and CheckQuorum (thesis §9.6, §6.2, §4.2.3). */
class RaftElectionTest {
    static final int ELECTION_TICKS = RaftConfig.ELECTION_TIMEOUT_TICKS;

    @Test
    void aThreeNodeClusterElectsExactlyOneLeaderFromRandomizedTimeouts() {
        var c = Cluster.of(3).tickUntilLeader(3 * ELECTION_TICKS);
        long leaders = c.nodes.values().stream().filter(n -> n.status().role() == Role.LEADER).count();
        assertThat(leaders).isEqualTo(1);
        String leader = c.leader().value();
        assertThat(c.nodes.values()).allSatisfy(n -> {
            assertThat(n.status().term()).isEqualTo(c.term(leader));
            assertThat(n.status().leader()).isEqualTo(c.leader());
        });
        // The NOOP of the new term commits everywhere (§8).
        assertThat(c.commit("n1")).isEqualTo(1);
    }

    @Test
    void preVoteDoesNotBumpTheTermWhenTheCandidateCannotWin() {
        var c = Cluster.of(3).electLeader("n1");
        long termBefore = c.term("n1");
        c.isolate("n3").tick(10 * ELECTION_TICKS);
        // Alone, n3 keeps asking and never moves to a new term.
        assertThat(c.term("n3")).isEqualTo(termBefore);
        assertThat(c.node("n3").status().role()).isIn(Role.PRE_CANDIDATE, Role.FOLLOWER);
    }

    @Test
    void isolatedFollowerDoesNotDisruptLeaderWithPreVote() {
        var c = Cluster.of(3).electLeader("n1");
        long termBefore = c.term("n1");
        c.isolate("n3").tick(10 * ELECTION_TICKS);
        c.propose("n1", "x");
        c.heal().tick(2 * ELECTION_TICKS);
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.term("n1")).isEqualTo(termBefore);
        assertThat(c.appliedCommands("n3")).containsExactly("x");
    }

    @Test
    void withoutPreVoteARejoiningNodeDisruptsTheTerm() {
        var c = Cluster.of(3, RaftConfig.defaults().withPreVote(false).withCheckQuorum(false)).electLeader("n1");
        long termBefore = c.term("n1");
        c.isolate("n3").tick(10 * ELECTION_TICKS);
        assertThat(c.term("n3")).isGreaterThan(termBefore);
        c.heal().tick(2 * ELECTION_TICKS);
        // n3's higher term deposes n1: the disruption PreVote exists to prevent.
        assertThat(c.term("n1")).isGreaterThan(termBefore);
    }

    @Test
    void checkQuorumMakesAnIsolatedLeaderStepDown() {
        var c = Cluster.of(3).electLeader("n1");
        // Within two election timeouts a full CheckQuorum window passes without any answer.
        c.isolate("n1").tick(2 * ELECTION_TICKS);
        assertThat(c.node("n1").status().role()).isEqualTo(Role.FOLLOWER);
        c.tick(3 * ELECTION_TICKS);
        assertThat(c.leader()).isIn(id("n2"), id("n3"));
    }

    @Test
    void stickyFollowerIgnoresVoteRequestsWhileItHearsFromTheLeader() {
        var c = Cluster.of(3).electLeader("n1").tick(2);
        long termBefore = c.term("n1");
        // n3 is forced to campaign (as if its timer fired early) while n1 is healthy.
        c.node("n3").campaign();
        c.stabilize();
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.term("n2")).isEqualTo(termBefore);
        assertThat(c.sent).noneMatch(e -> e.message() instanceof VoteResponse v && v.granted() && e.to().equals(id("n3")));
    }

    @Test
    void votesOnlyForCandidatesWhoseLogIsAtLeastAsUpToDate() {
        var c = Cluster.of(3, RaftConfig.defaults().withPreVote(false).withCheckQuorum(false)).electLeader("n1");
        c.isolate("n3");
        c.propose("n1", "a");
        c.stabilize();
        c.heal();
        // n3 missed "a": §5.4.1 denies it the votes of n1 and n2.
        c.node("n3").campaign();
        c.stabilize();
        assertThat(c.node("n3").status().role()).isNotEqualTo(Role.LEADER);
        assertThat(c.sent).filteredOn(e -> e.message() instanceof VoteResponse && e.to().equals(id("n3")))
                .allSatisfy(e -> assertThat(((VoteResponse) e.message()).granted()).isFalse());
    }

    @Test
    void voteWithoutLogCheckMutationElectsAStaleCandidate() {
        var c = Cluster.of(3, RaftConfig.defaults().withPreVote(false).withCheckQuorum(false)
                .withMutations(java.util.Set.of(RaftMutation.VOTE_WITHOUT_LOG_CHECK))).electLeader("n1");
        c.isolate("n3");
        c.propose("n1", "a");
        c.stabilize();
        c.heal();
        c.node("n3").campaign();
        c.stabilize();
        assertThat(c.leader()).isEqualTo(id("n3"));
    }

    @Test
    void theVoteIsPersistedInTheSameReadyAsTheVoteResponse() {
        var c = Cluster.of(3);
        RaftNode n2 = c.node("n2");
        n2.step(new Envelope<>(id("n1"), id("n2"), new RequestVote(1, 0, 0, false, false)));
        Ready<RaftMessage> r = n2.ready();
        assertThat(r.hardState()).isNotNull();
        assertThat(r.hardState().term()).isEqualTo(1);
        assertThat(r.hardState().vote()).isEqualTo(id("n1"));
        assertThat(r.messages()).singleElement().satisfies(e ->
                assertThat(((VoteResponse) e.message()).granted()).isTrue());
        n2.advance(r);
        // One vote per term (§5.2).
        n2.step(new Envelope<>(id("n3"), id("n2"), new RequestVote(1, 5, 1, false, false)));
        assertThat(((VoteResponse) n2.ready().messages().get(0).message()).granted()).isFalse();
    }

    @Test
    void aLoneVoterLeadsOnlyOnceItsVoteForItselfIsDurable() {
        var c = Cluster.of(1);
        RaftNode n1 = c.node("n1");
        n1.campaign();
        // Found by the simulator with slow disks (seed 18, --nodes 1): a lone voter that led term
        // 1 at once, then lost that term's hard state in a crash, led term 1 again with other entries.
        assertThat(n1.status().role()).isEqualTo(Role.CANDIDATE);
        Ready<RaftMessage> r = n1.ready();
        assertThat(r.hardState().term()).isEqualTo(1);
        assertThat(r.hardState().vote()).isEqualTo(id("n1"));
        n1.advance(r);
        assertThat(n1.status().role()).isEqualTo(Role.LEADER);
    }

    @Test
    void aNodeOutsideTheMembershipNeverCampaigns() {
        var c = Cluster.of(3).addNode("n4");
        c.tick(5 * ELECTION_TICKS);
        assertThat(c.term("n4")).isZero();
        assertThat(c.sent).noneMatch(e -> e.from().equals(id("n4")));
    }

    @Test
    void aSingleNodeClusterElectsItselfAndCommits() {
        var c = Cluster.of(1).tickUntilLeader(2 * ELECTION_TICKS);
        c.propose("n1", "solo");
        c.stabilize();
        assertThat(c.appliedCommands("n1")).containsExactly("solo");
    }
}
