package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.Heartbeat;
import dev.atoll.consensus.raft.RaftMessage.HeartbeatResponse;
import dev.atoll.consensus.raft.RaftMessage.Quiesce;
import dev.atoll.consensus.raft.RaftMessage.RequestVote;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Quiescence (CockroachDB's): an idle group's leader tells its followers and stops
 * heartbeating; no replica runs a timer until an input wakes it, and the driver reporting the
 * leader unreachable wakes a follower so a group whose leader died while idle still fails over.
 */
class RaftQuiescenceTest {
    static final int ELECTION_TICKS = RaftConfig.ELECTION_TIMEOUT_TICKS;
    static final int IDLE_TICKS = 3;
    static final RaftConfig QUIESCING = RaftConfig.defaults().withQuiesceIdleTicks(IDLE_TICKS);

    private static Cluster quiescedGroup(RaftConfig config) {
        var c = Cluster.of(3, config).electLeader("n1");
        c.propose("n1", "w1");
        c.tick(IDLE_TICKS + 1);
        assertThat(c.nodes.values()).allSatisfy(n -> assertThat(n.isQuiesced()).isTrue());
        return c;
    }

    @Test
    void anIdleGroupQuiescesAndThenSendsNothing() {
        var c = quiescedGroup(QUIESCING);
        assertThat(c.commit("n2")).isEqualTo(c.commit("n1"));
        c.clearSent();
        c.tick(20 * ELECTION_TICKS);
        assertThat(c.sent).isEmpty();
        assertThat(c.leader()).isEqualTo(id("n1"));
    }

    @Test
    void withoutQuiescenceTheLeaderHeartbeatsEveryInterval() {
        var c = Cluster.of(3).electLeader("n1");
        c.tick(IDLE_TICKS + 1);
        c.clearSent();
        c.tick(10);
        assertThat(c.countSent(Heartbeat.class)).isEqualTo(20);
        assertThat(c.nodes.values()).noneMatch(RaftNode::isQuiesced);
    }

    @Test
    void aGroupWithAFollowerBehindDoesNotQuiesce() {
        var c = Cluster.of(3, QUIESCING).electLeader("n1");
        c.isolate("n3");
        c.propose("n1", "w1");
        c.tick(5 * IDLE_TICKS);
        assertThat(c.node("n1").isQuiesced()).isFalse();
        c.heal().tick(IDLE_TICKS + 2);
        assertThat(c.nodes.values()).allSatisfy(n -> assertThat(n.isQuiesced()).isTrue());
        assertThat(c.appliedCommands("n3")).containsExactly("w1");
    }

    @Test
    void aProposalWakesTheGroupCommitsAndTheGroupQuiescesAgain() {
        var c = quiescedGroup(QUIESCING);
        c.propose("n1", "w2");
        c.stabilize();
        assertThat(c.nodes.values()).noneMatch(RaftNode::isQuiesced);
        assertThat(c.appliedCommands("n2")).containsExactly("w1", "w2");
        c.tick(IDLE_TICKS + 1);
        assertThat(c.nodes.values()).allMatch(RaftNode::isQuiesced);
    }

    @Test
    void aProposalAtAQuiescedFollowerIsForwardedAndCommitted() {
        var c = quiescedGroup(QUIESCING);
        c.node("n3").propose(Cluster.bytes("via-n3"));
        c.stabilize();
        assertThat(c.appliedCommands("n1")).containsExactly("w1", "via-n3");
        assertThat(c.appliedCommands("n3")).containsExactly("w1", "via-n3");
    }

    @Test
    void quiescedFollowersOfADeadLeaderWaitUntilTheDriverReportsItUnreachable() {
        var c = quiescedGroup(QUIESCING);
        long term = c.term("n2");
        c.crash("n1").tick(10 * ELECTION_TICKS);
        // no timer runs: without the driver's signal, nobody notices the leader is gone
        assertThat(c.leader()).isNull();
        assertThat(c.term("n2")).isEqualTo(term);
        c.node("n2").reportUnreachable(id("n1"));
        c.node("n3").reportUnreachable(id("n1"));
        c.tickUntilLeader(4 * ELECTION_TICKS);
        assertThat(c.leader()).isIn(id("n2"), id("n3"));
        c.propose(c.leader().value(), "after");
        c.stabilize();
        assertThat(c.appliedCommands("n2")).containsExactly("w1", "after");
    }

    @Test
    void oneWokenFollowerIsEnoughToElectANewLeader() {
        var c = quiescedGroup(QUIESCING);
        c.crash("n1");
        // n3's link to n1 still looks up; n2's vote requests wake n3, which then times out too
        c.node("n2").reportUnreachable(id("n1"));
        c.tickUntilLeader(6 * ELECTION_TICKS);
        assertThat(c.leader()).isIn(id("n2"), id("n3"));
    }

    @Test
    void onlyTheFollowerToldItsLeaderIsSuspectedCampaignsAndANewLeaderIsElected() {
        var c = quiescedGroup(QUIESCING);
        long term = c.term("n2");
        c.crash("n1").clearSent();
        // n2's node liveness lapsed for n1; n3 was told nothing, runs no timer and stays quiet
        c.node("n2").reportUnreachable(id("n1"));
        for (int i = 0; i < 2 * ELECTION_TICKS && c.countSent(RequestVote.class) == 0; i++) {
            c.tick(1);
        }
        assertThat(c.sent).extracting(Envelope::message).hasOnlyElementsOfType(RequestVote.class)
                .allSatisfy(m -> assertThat(((RequestVote) m).preVote()).as("PreVote first").isTrue());
        assertThat(c.sent).extracting(Envelope::from).containsOnly(id("n2"));
        c.tickUntilLeader(6 * ELECTION_TICKS);
        assertThat(c.leader()).isIn(id("n2"), id("n3"));
        assertThat(c.term(c.leader().value())).isEqualTo(term + 1);
    }

    @Test
    void followersToldTheSameGrantTheFirstOfThemToCampaignAtOnce() {
        var c = quiescedGroup(QUIESCING);
        long term = c.term("n2");
        c.crash("n1");
        c.node("n2").reportUnreachable(id("n1"));
        c.node("n3").reportUnreachable(id("n1"));
        // n3's count of ticks since it heard from n1 stood still while quiesced: it must not keep
        // refusing votes for an election timeout as if n1 had just spoken
        c.node("n2").campaign();
        c.stabilize();
        assertThat(c.leader()).isEqualTo(id("n2"));
        assertThat(c.term("n2")).isEqualTo(term + 1);
    }

    @Test
    void aWrongSuspicionCostsOnePreVoteRoundNoNewTermAndTheGroupQuiescesAgain() {
        var c = quiescedGroup(QUIESCING);
        long term = c.term("n1");
        c.clearSent();
        // n1 is alive and reachable: n2's liveness signal was a blip
        c.node("n2").reportUnreachable(id("n1"));
        c.tick(4 * ELECTION_TICKS);
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.nodes.values()).allSatisfy(n -> assertThat(n.status().term()).isEqualTo(term));
        assertThat(c.sent).filteredOn(e -> e.message() instanceof RequestVote).extracting(Envelope::message)
                .allSatisfy(m -> assertThat(((RequestVote) m).preVote()).as("no real election").isTrue())
                .hasSize(2); // one round: to n1 and to n3
        assertThat(c.node("n2").status().leader()).isEqualTo(id("n1"));
        assertThat(c.nodes.values()).allMatch(RaftNode::isQuiesced);
    }

    @Test
    void aReportAboutAnotherPeerDoesNotWakeAFollower() {
        var c = quiescedGroup(QUIESCING);
        c.node("n2").reportUnreachable(id("n3"));
        assertThat(c.nodes.values()).allMatch(RaftNode::isQuiesced);
    }

    @Test
    void aReportAboutAVoterWakesAQuiescedLeaderWhichThenStepsDownWithoutItsQuorum() {
        var c = quiescedGroup(QUIESCING);
        c.isolate("n1");
        c.tickOnly("n1", 2 * ELECTION_TICKS);
        assertThat(c.node("n1").status().role()).as("quiesced: no CheckQuorum runs").isEqualTo(Role.LEADER);
        c.node("n1").reportUnreachable(id("n2"));
        assertThat(c.node("n1").isQuiesced()).isFalse();
        c.tickOnly("n1", 2 * ELECTION_TICKS);
        assertThat(c.node("n1").status().role()).isNotEqualTo(Role.LEADER);
    }

    @Test
    void aVoteRequestFromARemovedServerDoesNotWakeTheGroupButOneFromAMemberDoes() {
        var c = quiescedGroup(QUIESCING);
        long term = c.term("n2");
        var preVote = new RaftMessage.RequestVote(term + 1, 99, term, true, false);
        c.node("n2").step(new Envelope<>(id("n9"), id("n2"), preVote));
        c.processReady(id("n2"));
        assertThat(c.node("n2").isQuiesced()).isTrue();
        c.node("n2").step(new Envelope<>(id("n3"), id("n2"), preVote));
        assertThat(c.node("n2").isQuiesced()).isFalse();
    }

    @Test
    void theMutationThatIgnoresTheReportLeavesTheGroupLeaderless() {
        var c = quiescedGroup(QUIESCING.withMutations(Set.of(RaftMutation.QUIESCED_FOLLOWER_IGNORES_UNREACHABLE)));
        c.crash("n1");
        c.node("n2").reportUnreachable(id("n1"));
        c.node("n3").reportUnreachable(id("n1"));
        c.tick(10 * ELECTION_TICKS);
        assertThat(c.leader()).isNull();
    }

    @Test
    void aRestartedFollowerWakesTheLeaderAndFollowsItWithoutANewTerm() {
        var c = quiescedGroup(QUIESCING);
        long term = c.term("n1");
        c.crash("n3").restart("n3");
        c.tick(3 * ELECTION_TICKS);
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.term("n3")).isEqualTo(term);
        assertThat(c.node("n3").status().leader()).isEqualTo(id("n1"));
        assertThat(c.nodes.values()).allMatch(RaftNode::isQuiesced);
    }

    @Test
    void aQuiescedLeaderThatLostItsQuorumStepsDownOnceWoken() {
        var c = quiescedGroup(QUIESCING);
        c.isolate("n1");
        c.node("n1").propose(Cluster.bytes("lost"));
        c.tickOnly("n1", 2 * ELECTION_TICKS);
        assertThat(c.node("n1").status().role()).isNotEqualTo(Role.LEADER);
    }

    /** Under leases a fresh group's voters are sticky for an election timeout: let one win by itself. */
    private static Cluster quiescedLeaseGroup(RaftConfig config) {
        var c = Cluster.of(3, config.withReadMode(ReadMode.LEASE, 2)).tickUntilLeader(4 * ELECTION_TICKS);
        c.propose(c.leader().value(), "w1");
        c.tick(IDLE_TICKS + 1);
        assertThat(c.nodes.values()).allMatch(RaftNode::isQuiesced);
        return c;
    }

    /** Cuts the leader off from the other two, which stay quiesced. */
    private static String isolateOthers(Cluster c) {
        String leader = c.leader().value();
        c.nodes.keySet().stream().filter(n -> !n.value().equals(leader)).forEach(n -> c.isolate(n.value()));
        return leader;
    }

    @Test
    void aQuiescedLeaderConfirmsItsFirstLeaseReadWithAHeartbeatRound() {
        var c = quiescedLeaseGroup(QUIESCING);
        String leader = isolateOthers(c);
        // the lease went with quiescence: the read waits for a quorum to answer a new round
        c.node(leader).requestRead(1);
        c.processAllReadies();
        assertThat(c.machine(leader).reads).isEmpty();
        c.heal().stabilize();
        assertThat(c.machine(leader).reads).extracting(ReadState::readId).containsExactly(1L);
        // that round started a new lease: the next read is answered at once
        c.node(leader).requestRead(2);
        c.processAllReadies();
        assertThat(c.machine(leader).reads).extracting(ReadState::readId).containsExactly(1L, 2L);
    }

    @Test
    void theMutationThatKeepsTheLeaseAnswersAQuiescedLeadersReadAtOnce() {
        var c = quiescedLeaseGroup(QUIESCING.withMutations(Set.of(RaftMutation.QUIESCED_LEADER_KEEPS_LEASE)));
        String leader = isolateOthers(c);
        c.node(leader).requestRead(1);
        c.processAllReadies();
        assertThat(c.machine(leader).reads).extracting(ReadState::readId).containsExactly(1L);
    }

    @Test
    void aLateQuiesceDoesNotStopAFollowerThatCommittedMore() {
        var c = Cluster.of(3, QUIESCING).electLeader("n1");
        c.propose("n1", "w1");
        c.stabilize().tick(1);
        long term = c.term("n1");
        c.clearSent();
        c.node("n2").step(new Envelope<>(id("n1"), id("n2"), new Quiesce(term, 1)));
        c.processReady(id("n2"));
        assertThat(c.node("n2").isQuiesced()).isFalse();
        assertThat(c.sent).extracting(Envelope::message).containsExactly(new HeartbeatResponse(term, 0));
    }

    @Test
    void aQuiesceFromAStaleTermIsAnsweredWithTheNewTerm() {
        var c = quiescedGroup(QUIESCING);
        long staleTerm = c.term("n1");
        c.isolate("n1");
        c.node("n2").reportUnreachable(id("n1"));
        c.node("n3").reportUnreachable(id("n1"));
        c.tickAllBut("n1", 4 * ELECTION_TICKS);
        assertThat(c.leader()).isIn(id("n2"), id("n3"));
        c.heal().clearSent();
        c.node("n2").step(new Envelope<>(id("n1"), id("n2"), new Quiesce(staleTerm, 2)));
        c.processReady(id("n2"));
        assertThat(c.sent).extracting(Envelope::message)
                .containsExactly(new HeartbeatResponse(c.term("n2"), 0));
        c.stabilize();
        assertThat(c.node("n1").status().role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.term("n1")).isEqualTo(c.term("n2"));
    }
}
