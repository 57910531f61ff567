package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** etcd's strict reconfiguration checks, case by case as etcd's server.go makes them. */
class ReconfigChecksTest {
    static final NodeId N1 = NodeId.of("n1");
    static final Predicate<NodeId> ALL_CONNECTED = n -> true;

    static MemberTable founders(String... names) {
        var members = new java.util.ArrayList<Member>();
        int port = 2380;
        for (String n : names) {
            members.add(new Member(MemberIds.ofName(n), n, List.of("http://127.0.0.1:" + port++), List.of(), false, false));
        }
        return ((MemberTable.Changed) MemberTable.EMPTY.seed(1, members)).table();
    }

    static MemberTable plus(MemberTable t, long id, boolean learner) {
        return ((MemberTable.Changed) t.add(new Member(id, "", List.of("http://127.0.0.1:" + (3000 + id)), List.of(),
                learner, false))).table();
    }

    static Member member(MemberTable t, String name) {
        return t.currentByName(name).orElseThrow();
    }

    @Test
    void aVoterIsAddedOnlyWhileStartedVotersKeepAQuorum() {
        MemberTable one = founders("n1");
        // etcd's special case: a second member added to a single one (restoring a cluster)
        assertThat(ReconfigChecks.mayAdd(one, false, N1, ALL_CONNECTED)).isEmpty();
        MemberTable two = plus(one, 5, false);
        assertThat(ReconfigChecks.mayAdd(two, false, N1, ALL_CONNECTED)).contains(MemberError.NOT_ENOUGH_STARTED);
    }

    @Test
    void anyAddIsRefusedWhileTheLeaderCannotReachEveryVoter() {
        MemberTable three = founders("n1", "n2", "n3");
        assertThat(ReconfigChecks.mayAdd(three, true, N1, n -> !n.equals(NodeId.of("n3"))))
                .contains(MemberError.UNHEALTHY);
        // an unstarted voter is never connected
        MemberTable four = plus(three, 5, false);
        assertThat(ReconfigChecks.mayAdd(four, true, N1, ALL_CONNECTED)).contains(MemberError.UNHEALTHY);
        assertThat(ReconfigChecks.mayAdd(three, false, N1, ALL_CONNECTED)).isEmpty();
    }

    @Test
    void removingAVoterKeepsAQuorumOfStartedAndOfConnectedVoters() {
        MemberTable three = founders("n1", "n2", "n3");
        assertThat(ReconfigChecks.mayRemove(three, member(three, "n2"), N1, ALL_CONNECTED)).isEmpty();
        // n3 is down: removing n2 would leave n1 alone of the two reachable voters
        Predicate<NodeId> n3Down = n -> !n.equals(NodeId.of("n3"));
        assertThat(ReconfigChecks.mayRemove(three, member(three, "n2"), N1, n3Down)).contains(MemberError.UNHEALTHY);
        // removing the member that is down is safe
        assertThat(ReconfigChecks.mayRemove(three, member(three, "n3"), N1, n3Down)).isEmpty();
        // n1, n2 and an unstarted voter: without n2, one started voter of two
        MemberTable withUnstarted = plus(founders("n1", "n2"), 5, false);
        assertThat(ReconfigChecks.mayRemove(withUnstarted, member(withUnstarted, "n2"), N1, ALL_CONNECTED))
                .contains(MemberError.NOT_ENOUGH_STARTED);
    }

    @Test
    void aLearnerIsRemovedWithoutQuorumChecks() {
        MemberTable t = plus(founders("n1"), 5, true);
        assertThat(ReconfigChecks.mayRemove(t, t.byId(5).orElseThrow(), N1, n -> false)).isEmpty();
    }

    @Test
    void aLearnerIsPromotedOnlyOnceItHoldsNinetyPercentOfTheLeadersLog() {
        MemberTable t = plus(founders("n1", "n2", "n3"), 5, true);
        t = ((MemberTable.Changed) t.publish("n4", List.of("http://127.0.0.1:3005"), List.of(), NodeLabels.DEFAULT)).table();
        Member learner = t.byId(5).orElseThrow();
        NodeId n4 = NodeId.of("n4");
        assertThat(ReconfigChecks.mayPromote(t, learner, N1, Map.of(N1, 1000L, n4, 899L)))
                .contains(MemberError.LEARNER_NOT_READY);
        assertThat(ReconfigChecks.mayPromote(t, learner, N1, Map.of(N1, 1000L, n4, 900L))).isEmpty();
        assertThat(ReconfigChecks.mayPromote(t, learner, N1, Map.of(N1, 1000L)))
                .as("not in the group yet").contains(MemberError.LEARNER_NOT_READY);
    }

    @Test
    void anUnstartedLearnerIsNeverInSync() {
        MemberTable t = plus(founders("n1"), 5, true);
        assertThat(ReconfigChecks.mayPromote(t, t.byId(5).orElseThrow(), N1, Map.of(N1, 10L)))
                .contains(MemberError.LEARNER_NOT_READY);
    }
}
