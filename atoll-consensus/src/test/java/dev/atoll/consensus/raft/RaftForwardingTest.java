package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.AppendEntries;
import dev.atoll.consensus.raft.RaftMessage.Heartbeat;
import dev.atoll.consensus.raft.RaftMessage.Propose;
import dev.atoll.consensus.raft.RaftMessage.ProposeOutcome;
import dev.atoll.consensus.raft.RaftMessage.ReadIndexRequest;
import dev.atoll.consensus.raft.RaftMessage.ReadIndexResponse;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.ProposalOutcome;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.ReadRefusal;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static dev.atoll.consensus.raft.Cluster.bytes;
import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Followers relay proposals and read-index requests to their leader over the peer links
 * (etcd-io/raft's MsgProp and MsgReadIndex; thesis §6.4, "reads from followers"), instead of
 * sending the client elsewhere.
 */
class RaftForwardingTest {
    static final int ELECTION_TICKS = RaftConfig.ELECTION_TIMEOUT_TICKS;

    @Test
    void aFollowerForwardsAProposalAndLearnsWhereItWasCommitted() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        ProposeResult r = c.node("n2").propose(bytes("x"));
        assertThat(r).isEqualTo(new ProposeResult.Forwarded(1, id("n1")));
        c.stabilize();
        var outcome = c.machine("n2").outcomes;
        assertThat(outcome).singleElement().satisfies(o -> {
            assertThat(o.proposalId()).isEqualTo(1);
            assertThat(o.result()).isInstanceOf(ProposeResult.Accepted.class);
        });
        var placed = (ProposeResult.Accepted) outcome.get(0).result();
        // The ReplicatedLog contract: committed iff an entry at that index AND term is applied.
        assertThat(c.machines.values()).allSatisfy(m -> assertThat(m.applied).anySatisfy(e -> {
            assertThat(e.index()).isEqualTo(placed.index());
            assertThat(e.term()).isEqualTo(placed.term());
            assertThat(e.data()).isEqualTo(bytes("x"));
        }));
    }

    @Test
    void theLeaderAnswersBeforeItSendsTheEntry() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.clearSent();
        c.node("n2").propose(bytes("x"));
        c.stabilize();
        // On the n1 -> n2 link the outcome precedes the append carrying the entry, so a driver
        // on an ordered link has its waiter in place before the entry can apply.
        var toN2 = c.sent.stream().filter(e -> e.from().equals(id("n1")) && e.to().equals(id("n2")))
                .map(Envelope::message)
                .filter(m -> m instanceof ProposeOutcome || (m instanceof AppendEntries a && !a.entries().isEmpty()))
                .toList();
        assertThat(toN2.get(0)).isInstanceOf(ProposeOutcome.class);
    }

    @Test
    void aDuplicatedProposeIsAppendedOnce() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.node("n2").propose(bytes("once"));
        c.processAllReadies();
        Envelope<RaftMessage> propose = c.network.stream().filter(e -> e.message() instanceof Propose)
                .findFirst().orElseThrow();
        c.network.addLast(propose);
        c.stabilize();
        assertThat(c.appliedCommands("n1")).containsExactly("once");
        assertThat(c.machine("n2").outcomes).hasSize(1);
    }

    @Test
    void aProposalForwardedToADeposedLeaderIsRefusedWithAHint() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        // n3 is cut off while n1 hands leadership to n2: n3 still believes n1 leads term 1.
        c.isolate("n3");
        c.node("n1").transferLeadership(id("n2"));
        c.stabilize();
        assertThat(c.leader()).isEqualTo(id("n2"));
        ProposeResult r = c.node("n3").propose(bytes("late"));
        assertThat(r).isEqualTo(new ProposeResult.Forwarded(1, id("n1")));
        c.heal().stabilize();
        // n1 led term 1 and never took this proposal there, so "not leader" is the truth.
        assertThat(c.machine("n3").outcomes).containsExactly(
                new ProposalOutcome(1, new ProposeResult.NotLeader(id("n2"))));
        assertThat(c.appliedCommands("n2")).doesNotContain("late");
    }

    @Test
    void aForwardedProposalPassesTheLeadersAdmissionChecks() {
        var c = Cluster.of(3, RaftConfig.defaults().withLimits(RaftConfig.READS_PENDING_MAX, 1))
                .electLeader("n1").tick(1);
        c.isolate("n3").isolate("n2");
        c.propose("n1", "fills the uncommitted window");
        c.heal();
        c.node("n2").propose(bytes("one too many"));
        c.processAllReadies();
        c.deliverOne(); // n2's Propose reaches n1, whose window is still full
        c.processAllReadies();
        c.stabilize();
        assertThat(c.machine("n2").outcomes).singleElement()
                .satisfies(o -> assertThat(o.result()).isInstanceOf(ProposeResult.Dropped.class));
        assertThat(c.appliedCommands("n1")).containsExactly("fills the uncommitted window");
    }

    @Test
    void aRestartedFollowerIgnoresAnOutcomeMeantForItsPreviousLife() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.node("n2").propose(bytes("before the crash"));
        c.processAllReadies();
        c.crash("n2").restart("n2");
        c.stabilize();
        // The restarted n2 counts proposal ids from 1 again; the old answer for id 1 is not its.
        assertThat(c.machine("n2").outcomes).isEmpty();
        assertThat(c.appliedCommands("n2")).containsExactly("before the crash");
    }

    @Test
    void withoutALeaderAFollowerStillAnswersNotLeader() {
        var c = Cluster.of(3);
        assertThat(c.node("n2").propose(bytes("x"))).isEqualTo(new ProposeResult.NotLeader(null));
        assertThat(c.node("n2").requestRead(1)).isEqualTo(new ProposeResult.NotLeader(null));
    }

    // ---- follower reads ----

    @Test
    void aFollowerReadGetsItsReadStateOnlyAfterTheLeaderConfirmedIt() {
        var c = Cluster.ofThreeWithACommittedWrite();
        long commit = c.commit("n1");
        assertThat(c.node("n2").requestRead(7)).isEqualTo(new ProposeResult.Forwarded(7, id("n1")));
        c.processAllReadies();
        c.deliverOne(); // the ReadIndexRequest reaches n1, which starts a heartbeat round
        c.processAllReadies();
        assertThat(c.machine("n2").reads).isEmpty();
        assertThat(c.network).noneMatch(e -> e.message() instanceof ReadIndexResponse);
        c.stabilize();
        assertThat(c.countSent(Heartbeat.class)).isEqualTo(2);
        assertThat(c.machine("n2").reads).containsExactly(new ReadState(7, commit));
    }

    @Test
    void aFollowersConcurrentReadsShareOneReadIndexRequest() {
        var c = Cluster.ofThreeWithACommittedWrite();
        long commit = c.commit("n1");
        for (long readId = 1; readId <= 20; readId++) {
            assertThat(c.node("n2").requestRead(readId)).isEqualTo(new ProposeResult.Forwarded(readId, id("n1")));
        }
        c.stabilize();
        assertThat(c.countSent(ReadIndexRequest.class)).isEqualTo(1);
        assertThat(c.countSent(ReadIndexResponse.class)).isEqualTo(1);
        assertThat(c.machine("n2").reads).extracting(ReadState::readId).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList());
        assertThat(c.machine("n2").reads).allSatisfy(r -> assertThat(r.index()).isEqualTo(commit));
    }

    @Test
    void readsArrivingWhileARequestIsInFlightWaitForTheNextOne() {
        var c = Cluster.ofThreeWithACommittedWrite();
        c.node("n2").requestRead(1);
        c.processAllReadies(); // the request for read 1 is in the network
        c.node("n2").requestRead(2);
        c.node("n2").requestRead(3);
        c.processAllReadies();
        assertThat(c.countSent(ReadIndexRequest.class)).isEqualTo(1);
        // a write commits before the second request is sent: its index must cover it
        long written = c.propose("n1", "w").index();
        c.stabilize();
        assertThat(c.countSent(ReadIndexRequest.class)).isEqualTo(2);
        assertThat(c.machine("n2").reads).extracting(ReadState::readId).containsExactly(1L, 2L, 3L);
        assertThat(c.machine("n2").reads.get(1).index()).isGreaterThanOrEqualTo(written);
        assertThat(c.machine("n2").reads.get(2).index()).isGreaterThanOrEqualTo(written);
    }

    @Test
    void aLostReadIndexRequestIsSentAgainAfterAnElectionTimeout() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.stabilize();
        c.dropRule = e -> e.message() instanceof ReadIndexRequest;
        c.node("n2").requestRead(1);
        c.stabilize();
        c.dropRule = e -> false;
        c.node("n2").requestRead(2); // waits behind the lost request
        c.stabilize();
        assertThat(c.machine("n2").reads).isEmpty();
        c.tick(ELECTION_TICKS);
        assertThat(c.machine("n2").reads).extracting(ReadState::readId).containsExactly(1L, 2L);
    }

    @Test
    void aFollowerThatCampaignsRefusesTheReadsItHolds() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.stabilize();
        c.isolate("n1");
        c.node("n2").requestRead(1);
        c.stabilize();
        c.tickOnly("n2", 2 * ELECTION_TICKS);
        assertThat(c.node("n2").status().role()).isNotEqualTo(Role.FOLLOWER);
        assertThat(c.machine("n2").readsRefused).containsExactly(new ReadRefusal(1, new ProposeResult.NotLeader(null)));
    }

    @Test
    void aFollowerReadIsNotConfirmedWithoutAQuorumAcknowledgement() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.isolate("n3");
        c.dropRule = e -> e.message() instanceof RaftMessage.HeartbeatResponse;
        c.node("n2").requestRead(1);
        c.tick(2);
        assertThat(c.machine("n2").reads).isEmpty();
        c.dropRule = e -> false;
        c.tick(1);
        assertThat(c.machine("n2").reads).extracting(ReadState::readId).containsExactly(1L);
    }

    /** n1 wins an election but no acknowledgement of its NOOP reaches it yet. */
    private static Cluster newLeaderThatHasNotCommitted() {
        var c = Cluster.of(3);
        c.dropRule = e -> e.message() instanceof RaftMessage.AppendResponse
                || e.message() instanceof RaftMessage.HeartbeatResponse;
        c.electLeader("n1");
        assertThat(c.commit("n1")).isZero();
        assertThat(c.node("n2").status().leader()).isEqualTo(id("n1"));
        return c;
    }

    @Test
    void aFollowerReadWaitsUntilTheNewLeaderCommitsAnEntryOfItsTerm() {
        var c = newLeaderThatHasNotCommitted();
        c.node("n2").requestRead(1);
        c.stabilize();
        assertThat(c.machine("n2").reads).isEmpty();
        c.dropRule = e -> false;
        c.tick(1);
        // §6.4 step 1: the read index is at least the new term's NOOP.
        assertThat(c.machine("n2").reads).containsExactly(new ReadState(1, 1));
    }

    @Test
    void aFollowerReadIsRefusedWhenTheLeaderStepsDownBeforeCommittingInItsTerm() {
        var c = newLeaderThatHasNotCommitted();
        c.node("n2").requestRead(1);
        c.stabilize();
        // CheckQuorum: n1 hears from no one for an election timeout and steps down.
        c.tickOnly("n1", 2 * ELECTION_TICKS);
        assertThat(c.node("n1").status().role()).isNotEqualTo(Role.LEADER);
        assertThat(c.machine("n2").reads).isEmpty();
        assertThat(c.machine("n2").readsRefused).containsExactly(new ReadRefusal(1, new ProposeResult.NotLeader(null)));
    }

    @Test
    void aDeposedLeadersOwnReadsAreRefusedAtOnce() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.isolate("n1");
        c.node("n1").requestRead(1);
        c.tickOnly("n1", 2 * ELECTION_TICKS);
        assertThat(c.machine("n1").readsRefused).containsExactly(new ReadRefusal(1, new ProposeResult.NotLeader(null)));
    }

    @Test
    void aDeposedLeaderGivesAFollowerNoStaleReadIndex() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        // n1 is paused while partitioned; the others elect a new leader that commits "new".
        c.isolate("n1").tickAllBut("n1", 3 * ELECTION_TICKS);
        String newLeader = c.leader().value();
        c.propose(newLeader, "new");
        c.stabilize();
        assertThat(c.node("n1").status().role()).isEqualTo(Role.LEADER);
        // n1 wakes up and a read-index request from n1's term reaches it.
        c.heal();
        c.network.addLast(new Envelope<>(id("n3"), id("n1"), new ReadIndexRequest(c.term("n1"), 99, 5)));
        c.tick(1);
        assertThat(c.delivered).noneMatch(e -> e.message() instanceof ReadIndexResponse r
                && r.result() instanceof ProposeResult.Accepted);
        assertThat(c.delivered).anyMatch(e -> e.message() instanceof ReadIndexResponse r
                && r.result() instanceof ProposeResult.NotLeader);
    }

    @Test
    void followerReadMutationAnswersWithoutConfirmation() {
        var c = Cluster.of(3, RaftConfig.defaults().withMutations(Set.of(RaftMutation.FOLLOWER_READ_WITHOUT_QUORUM)))
                .electLeader("n1").tick(1);
        c.isolate("n3");
        c.dropRule = e -> e.message() instanceof Heartbeat;
        c.node("n2").requestRead(3);
        c.processAllReadies();
        c.deliverOne();
        c.processAllReadies();
        assertThat(c.network).anyMatch(e -> e.message() instanceof ReadIndexResponse);
    }

    @Test
    void withForwardingOffTheOldAnswersRemain() {
        var c = Cluster.of(3, RaftConfig.defaults().withForwarding(false, false)).electLeader("n1");
        assertThat(c.node("n2").propose(bytes("x"))).isEqualTo(new ProposeResult.NotLeader(id("n1")));
        assertThat(c.node("n2").requestRead(1)).isEqualTo(new ProposeResult.NotLeader(id("n1")));
    }
}
