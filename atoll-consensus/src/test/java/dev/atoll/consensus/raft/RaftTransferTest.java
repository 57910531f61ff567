package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.TimeoutNow;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/** Leadership transfer (thesis §3.10). */
class RaftTransferTest {
    static final int ELECTION_TICKS = RaftConfig.ELECTION_TIMEOUT_TICKS;

    @Test
    void leadershipMovesToAnUpToDateTargetAtOnce() {
        var c = Cluster.of(3).electLeader("n1").tick(2);
        long termBefore = c.term("n1");
        assertThat(c.node("n1").transferLeadership(id("n2"))).isInstanceOf(ProposeResult.Accepted.class);
        c.stabilize();
        assertThat(c.leader()).isEqualTo(id("n2"));
        assertThat(c.term("n2")).isEqualTo(termBefore + 1);
        assertThat(c.node("n1").status().role()).isEqualTo(Role.FOLLOWER);
        c.propose("n2", "x");
        c.stabilize();
        assertThat(c.appliedCommands("n1")).containsExactly("x");
    }

    @Test
    void aLaggingTargetIsCaughtUpBeforeTimeoutNow() {
        var c = Cluster.of(3).electLeader("n1");
        c.isolate("n3");
        for (int i = 0; i < 10; i++) {
            c.propose("n1", "v" + i);
        }
        c.stabilize().heal();
        c.clearSent();
        c.node("n1").transferLeadership(id("n3"));
        c.stabilize();
        assertThat(c.leader()).isEqualTo(id("n3"));
        assertThat(c.countSent(TimeoutNow.class)).isEqualTo(1);
        assertThat(c.appliedCommands("n3")).hasSize(10);
    }

    @Test
    void proposalsAreDroppedDuringATransferThatIsAbortedAfterAnElectionTimeout() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.isolate("n2");
        assertThat(c.node("n1").transferLeadership(id("n2"))).isInstanceOf(ProposeResult.Accepted.class);
        assertThat(c.node("n1").propose(Cluster.bytes("x"))).isInstanceOf(ProposeResult.Dropped.class);
        assertThat(c.node("n1").proposeMembership(RaftMembershipTest.change(
                dev.atoll.core.protocol.MembershipChange.Type.REMOVE, "n3"))).isInstanceOf(ProposeResult.Dropped.class);
        c.tick(ELECTION_TICKS);
        assertThat(c.node("n1").transferTarget()).isNull();
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.node("n1").propose(Cluster.bytes("y"))).isInstanceOf(ProposeResult.Accepted.class);
    }

    @Test
    void transferToANonVoterOrToItselfIsRefused() {
        var c = Cluster.of(3).electLeader("n1");
        assertThat(c.node("n1").transferLeadership(id("n1"))).isInstanceOf(ProposeResult.Dropped.class);
        assertThat(c.node("n1").transferLeadership(id("n9"))).isInstanceOf(ProposeResult.Dropped.class);
        assertThat(c.node("n2").transferLeadership(id("n3"))).isEqualTo(new ProposeResult.NotLeader(id("n1")));
    }
}
