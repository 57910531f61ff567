package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.Heartbeat;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/** Linearizable reads without log writes: ReadIndex and leases (thesis §6.4, §6.4.1). */
class RaftReadTest {
    static final int ELECTION_TICKS = RaftConfig.ELECTION_TIMEOUT_TICKS;
    static final RaftConfig LEASE = RaftConfig.defaults().withReadMode(ReadMode.LEASE, 2);

    @Test
    void manyReadsShareOneHeartbeatRound() {
        var c = Cluster.ofThreeWithACommittedWrite();
        long commit = c.commit("n1");
        for (long readId = 1; readId <= 50; readId++) {
            assertThat(c.node("n1").requestRead(readId)).isInstanceOf(ProposeResult.Accepted.class);
        }
        c.stabilize();
        assertThat(c.countSent(Heartbeat.class)).isEqualTo(2);
        assertThat(c.machine("n1").reads).hasSize(50).allSatisfy(r -> assertThat(r.index()).isEqualTo(commit));
    }

    @Test
    void readsRegisteredWhileARoundIsInFlightShareTheNextRound() {
        var c = Cluster.ofThreeWithACommittedWrite();
        c.node("n1").requestRead(1);
        c.processAllReadies(); // round for read 1 is out, unacknowledged
        for (long readId = 2; readId <= 10; readId++) {
            c.node("n1").requestRead(readId);
            c.processAllReadies();
        }
        assertThat(c.countSent(Heartbeat.class)).isEqualTo(2);
        c.stabilize();
        assertThat(c.countSent(Heartbeat.class)).isEqualTo(4);
        assertThat(c.machine("n1").reads).extracting(ReadState::readId).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, 10).boxed().toList());
    }

    @Test
    void aReadIsNotReleasedWithoutAQuorumAcknowledgement() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.isolate("n2").isolate("n3");
        c.node("n1").requestRead(9);
        c.tick(3);
        assertThat(c.machine("n1").reads).isEmpty();
        c.heal().tick(1);
        assertThat(c.machine("n1").reads).extracting(ReadState::readId).containsExactly(9L);
    }

    @Test
    void aNewLeaderHoldsReadsUntilItCommitsAnEntryOfItsTerm() {
        var c = Cluster.of(3);
        c.node("n1").campaign();
        c.processAllReadies();
        while (c.node("n1").status().role() != Role.LEADER) {
            c.deliverOne();
        }
        assertThat(c.commit("n1")).isZero();
        c.node("n1").requestRead(1);
        c.stabilize();
        // §6.4 step 1: the read index is at least the new term's NOOP.
        assertThat(c.machine("n1").reads).singleElement().satisfies(r -> assertThat(r.index()).isEqualTo(1));
    }

    @Test
    void readsOfALeaderThatStepsDownAreDroppedNeverAnswered() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.isolate("n1");
        c.node("n1").requestRead(1);
        c.node("n1").requestRead(2);
        c.tick(3 * ELECTION_TICKS);
        assertThat(c.node("n1").status().role()).isNotEqualTo(Role.LEADER);
        c.heal().tick(3 * ELECTION_TICKS);
        assertThat(c.machines.values()).allSatisfy(m -> assertThat(m.reads).isEmpty());
    }

    @Test
    void withoutFollowerReadsAFollowerRefersReadsToTheLeader() {
        var c = Cluster.of(3, RaftConfig.defaults().withForwarding(true, false)).electLeader("n1");
        assertThat(c.node("n2").requestRead(1)).isEqualTo(new ProposeResult.NotLeader(id("n1")));
    }

    @Test
    void aSingleNodeAnswersReadsAtOnce() {
        var c = Cluster.of(1).tickUntilLeader(30);
        c.node("n1").requestRead(5);
        c.processAllReadies();
        assertThat(c.machine("n1").reads).extracting(ReadState::readId).containsExactly(5L);
        assertThat(c.sent).isEmpty();
    }

    /** n1 is paused while partitioned; n2 or n3 takes over and commits "new"; n1 wakes up and is asked to read. */
    private static Cluster deposedLeaderAskedToRead(RaftConfig config) {
        var c = Cluster.of(3, config).electLeader("n1").tick(1);
        c.isolate("n1").tickAllBut("n1", 3 * ELECTION_TICKS);
        String newLeader = c.leader().value();
        assertThat(newLeader).isNotEqualTo("n1");
        c.propose(newLeader, "new");
        c.stabilize();
        assertThat(c.node("n1").status().role()).isEqualTo(Role.LEADER);
        c.node("n1").requestRead(1);
        c.tick(1);
        return c;
    }

    @Test
    void aDeposedLeaderCannotConfirmAReadIndex() {
        var c = deposedLeaderAskedToRead(RaftConfig.defaults());
        assertThat(c.machine("n1").reads).isEmpty();
    }

    @Test
    void readIndexWithoutQuorumMutationLetsADeposedLeaderServeAStaleRead() {
        var c = deposedLeaderAskedToRead(RaftConfig.defaults()
                .withMutations(Set.of(RaftMutation.READ_INDEX_WITHOUT_QUORUM)));
        String newLeader = c.leader().value();
        assertThat(c.machine("n1").reads).singleElement()
                .satisfies(r -> assertThat(r.index()).isLessThan(c.commit(newLeader)));
    }

    @Test
    void aLeaseLetsTheLeaderAnswerWithoutAHeartbeatRound() {
        var c = Cluster.of(3, LEASE).tickUntilLeader(4 * ELECTION_TICKS);
        String leader = c.leader().value();
        c.tick(2);
        c.clearSent();
        c.node(leader).requestRead(1);
        c.processAllReadies();
        assertThat(c.machine(leader).reads).extracting(ReadState::readId).containsExactly(1L);
        assertThat(c.sent).isEmpty();
    }

    @Test
    void aLeaderThatSentTimeoutNowNoLongerTrustsItsLease() {
        var c = Cluster.of(3, LEASE).tickUntilLeader(4 * ELECTION_TICKS);
        String leader = c.leader().value();
        var others = c.nodes.keySet().stream().filter(n -> !n.value().equals(leader)).toList();
        c.tick(2);
        // Found by the simulator (seed 283, --nodes 5 --safety-ms 15000): the transfer aborts, but
        // the TimeoutNow may still arrive, and its election ignores the followers' stickiness.
        c.dropRule = e -> e.message() instanceof RaftMessage.TimeoutNow;
        c.node(leader).transferLeadership(others.get(0));
        c.tick(ELECTION_TICKS);
        assertThat(c.node(leader).transferTarget()).isNull();
        assertThat(c.node(leader).status().role()).isEqualTo(Role.LEADER);
        c.dropRule = e -> false;
        others.forEach(n -> c.isolate(n.value()));
        c.node(leader).requestRead(1);
        c.processAllReadies();
        // Without a quorum's answer to a heartbeat round the read waits.
        assertThat(c.machine(leader).reads).isEmpty();
    }

    /** Ticks an isolated leader until its lease would lapse under a correct lease duration. */
    private static void outliveSafeLease(Cluster c, String leader) {
        c.isolate(leader);
        // The last acknowledged round was sent at the last tick; the safe lease ends
        // electionTimeoutTicks - drift later, well before CheckQuorum could depose the leader.
        c.tickOnly(leader, ELECTION_TICKS - 2);
        assertThat(c.node(leader).status().role()).isEqualTo(Role.LEADER);
        c.node(leader).requestRead(2);
        c.processAllReadies();
    }

    @Test
    void anExpiredLeaseFallsBackToReadIndex() {
        var c = Cluster.of(3, LEASE).tickUntilLeader(4 * ELECTION_TICKS);
        String leader = c.leader().value();
        c.tick(2);
        outliveSafeLease(c, leader);
        assertThat(c.machine(leader).reads).isEmpty();
        c.heal().tick(1);
        assertThat(c.machine(leader).reads).extracting(ReadState::readId).containsExactly(2L);
    }

    @Test
    void leaseIgnoringDriftMutationAnswersPastTheSafeLease() {
        var c = Cluster.of(3, LEASE.withMutations(Set.of(RaftMutation.LEASE_IGNORES_DRIFT)))
                .tickUntilLeader(4 * ELECTION_TICKS);
        String leader = c.leader().value();
        c.tick(2);
        outliveSafeLease(c, leader);
        assertThat(c.machine(leader).reads).extracting(ReadState::readId).containsExactly(2L);
    }
}
