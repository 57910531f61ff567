package dev.atoll.consensus.raft;

import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static dev.atoll.consensus.raft.Cluster.id;
import static dev.atoll.core.protocol.MembershipChange.Type.ADD_LEARNER;
import static dev.atoll.core.protocol.MembershipChange.Type.ADD_VOTER;
import static dev.atoll.core.protocol.MembershipChange.Type.REMOVE;
import static org.assertj.core.api.Assertions.assertThat;

/** One-server-at-a-time membership changes (thesis §4.1-§4.2). */
class RaftMembershipTest {
    static final int ELECTION_TICKS = RaftConfig.ELECTION_TIMEOUT_TICKS;

    static MembershipChange change(MembershipChange.Type type, String node) {
        return new MembershipChange(type, id(node));
    }

    static Membership voters(String... names) {
        return Membership.ofVoters(java.util.Arrays.stream(names).map(Cluster::id).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void aLearnerCatchesUpThenIsPromotedToVoter() {
        var c = Cluster.of(3).electLeader("n1");
        c.propose("n1", "a");
        c.stabilize();
        c.addNode("n4");
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n4"))).isInstanceOf(ProposeResult.Accepted.class);
        c.tick(3);
        assertThat(c.node("n4").status().role()).isEqualTo(Role.LEARNER);
        assertThat(c.node("n4").status().membership()).isEqualTo(new Membership(voters("n1", "n2", "n3").voters(), Set.of(id("n4"))));
        assertThat(c.appliedCommands("n4")).containsExactly("a");
        // A learner never campaigns, whatever its timer says.
        c.isolate("n4").tick(3 * ELECTION_TICKS).heal();
        assertThat(c.leader()).isEqualTo(id("n1"));

        assertThat(c.node("n1").proposeMembership(change(ADD_VOTER, "n4"))).isInstanceOf(ProposeResult.Accepted.class);
        c.tick(2);
        assertThat(c.node("n4").status().membership()).isEqualTo(voters("n1", "n2", "n3", "n4"));
        assertThat(c.node("n4").status().role()).isEqualTo(Role.FOLLOWER);
        // Four voters: a quorum is three, so n1 with two others still commits.
        c.isolate("n2");
        c.propose("n1", "b");
        c.stabilize();
        assertThat(c.appliedCommands("n4")).containsExactly("a", "b");
        c.isolate("n3");
        c.propose("n1", "c");
        c.stabilize();
        assertThat(c.appliedCommands("n1")).containsExactly("a", "b");
    }

    @Test
    void theLeaderTellsTheCommittedMembershipAndHowFarEachMemberMatches() {
        var c = Cluster.of(3).electLeader("n1").addNode("n4");
        c.propose("n1", "a");
        c.stabilize();
        c.isolate("n2").isolate("n3");
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n4"))).isInstanceOf(ProposeResult.Accepted.class);
        c.tick(2);
        // the change is in the leader's log (and in force there) but not yet committed
        assertThat(c.node("n1").status().membership().learners()).containsExactly(id("n4"));
        assertThat(c.node("n1").committedMembership()).isEqualTo(voters("n1", "n2", "n3"));
        c.heal().tick(3);
        assertThat(c.node("n1").committedMembership().learners()).containsExactly(id("n4"));
        long last = c.node("n1").log().lastIndex();
        assertThat(c.node("n1").matchIndexes()).containsOnlyKeys(id("n1"), id("n2"), id("n3"), id("n4"))
                .containsEntry(id("n1"), last).containsEntry(id("n4"), last);
        assertThat(c.node("n2").matchIndexes()).as("only a leader knows").isEmpty();
    }

    @Test
    void aLearnerDoesNotCountTowardsTheQuorum() {
        var c = Cluster.of(3).electLeader("n1").addNode("n4");
        c.node("n1").proposeMembership(change(ADD_LEARNER, "n4"));
        c.tick(2);
        c.isolate("n2").isolate("n3");
        c.propose("n1", "x");
        c.tick(2);
        assertThat(c.appliedCommands("n1")).isEmpty();
        assertThat(c.node("n4").log().lastIndex()).isEqualTo(c.node("n1").log().lastIndex());
    }

    @Test
    void onlyOneChangeMayBePendingAtATime() {
        var c = Cluster.of(3).electLeader("n1").addNode("n4").addNode("n5");
        c.isolate("n2").isolate("n3");
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n4"))).isInstanceOf(ProposeResult.Accepted.class);
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n5"))).isInstanceOf(ProposeResult.Dropped.class);
        c.heal().tick(2);
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n5"))).isInstanceOf(ProposeResult.Accepted.class);
    }

    @Test
    void aNewLeaderChangesMembershipOnlyAfterCommittingAnEntryOfItsTerm() {
        var c = Cluster.of(3).addNode("n4");
        c.node("n1").campaign();
        c.processAllReadies();
        while (c.node("n1").status().role() != Role.LEADER) {
            c.deliverOne();
        }
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n4")))
                .isInstanceOf(ProposeResult.Dropped.class);
        c.stabilize();
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n4")))
                .isInstanceOf(ProposeResult.Accepted.class);
    }

    @Test
    void nonsensicalChangesAreDropped() {
        var c = Cluster.of(3).electLeader("n1");
        assertThat(c.node("n1").proposeMembership(change(ADD_VOTER, "n2"))).isInstanceOf(ProposeResult.Dropped.class);
        assertThat(c.node("n1").proposeMembership(change(ADD_LEARNER, "n2"))).isInstanceOf(ProposeResult.Dropped.class);
        assertThat(c.node("n1").proposeMembership(change(REMOVE, "n9"))).isInstanceOf(ProposeResult.Dropped.class);
    }

    @Test
    void aRemovedLeaderStepsDownOnceTheRemovalCommitsAndNeverCampaigns() {
        var c = Cluster.of(3).electLeader("n1");
        long termBefore = c.term("n1");
        assertThat(c.node("n1").proposeMembership(change(REMOVE, "n1"))).isInstanceOf(ProposeResult.Accepted.class);
        c.stabilize();
        assertThat(c.node("n1").status().role()).isEqualTo(Role.FOLLOWER);
        assertThat(c.node("n2").status().membership()).isEqualTo(voters("n2", "n3"));
        c.tick(4 * ELECTION_TICKS);
        assertThat(c.leader()).isIn(id("n2"), id("n3"));
        assertThat(c.term("n1")).isEqualTo(termBefore);
        String leader = c.leader().value();
        c.propose(leader, "without n1");
        c.stabilize();
        assertThat(c.appliedCommands("n2")).containsExactly("without n1");
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void aRemovedFollowerDoesNotDisruptTheGroup() {
        var c = Cluster.of(3).electLeader("n1");
        c.node("n1").proposeMembership(change(REMOVE, "n3"));
        c.stabilize();
        long termBefore = c.term("n1");
        c.tick(5 * ELECTION_TICKS);
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.term("n1")).isEqualTo(termBefore);
        assertThat(c.term("n3")).isEqualTo(termBefore);
    }

    @Test
    void aReplicaRevertsToTheEarlierMembershipWhenTheChangeIsTruncated() {
        var c = Cluster.of(3, RaftConfig.defaults().withCheckQuorum(false).withPreVote(false)).electLeader("n1").addNode("n4");
        c.propose("n1", "a");
        c.stabilize();
        c.isolate("n1");
        c.node("n1").proposeMembership(change(ADD_LEARNER, "n4"));
        c.stabilize();
        assertThat(c.node("n1").status().membership().learners()).containsExactly(id("n4"));
        c.electLeader("n2");
        c.propose("n2", "b");
        c.stabilize();
        c.heal().tick(3);
        // n2's log replaced n1's uncommitted change: the latest membership in the log is the old one.
        assertThat(c.node("n1").status().membership()).isEqualTo(voters("n1", "n2", "n3"));
        assertThat(c.appliedCommands("n1")).containsExactly("a", "b");
    }
}
