package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static dev.atoll.core.protocol.MembershipChange.Type.ADD_LEARNER;
import static dev.atoll.core.protocol.MembershipChange.Type.ADD_VOTER;
import static dev.atoll.core.protocol.MembershipChange.Type.REMOVE;
import static org.assertj.core.api.Assertions.assertThat;

/** The Raft steps that carry a table change into the meta group (0) and the default group (1). */
class MembershipPlanTest {
    static final long META = 0;
    static final long DATA = 1;
    static final NodeId N1 = NodeId.of("n1");
    static final NodeId N4 = NodeId.of("n4");

    static Membership voters(String... names) {
        return new Membership(nodes(names), Set.of());
    }

    static Set<NodeId> nodes(String... names) {
        return java.util.Arrays.stream(names).map(NodeId::of).collect(java.util.stream.Collectors.toSet());
    }

    static Membership withLearner(Membership m, String learner) {
        return new Membership(m.voters(), Set.of(NodeId.of(learner)));
    }

    static MemberTable table(boolean n4Learner) {
        MemberTable t = ReconfigChecksTest.founders("n1", "n2", "n3");
        t = ((MemberTable.Changed) t.add(new Member(5, "", List.of("http://127.0.0.1:2390"), List.of(), n4Learner,
                false))).table();
        return ((MemberTable.Changed) t.publish("n4", List.of("http://127.0.0.1:2390"), List.of(), NodeLabels.DEFAULT)).table();
    }

    static List<MembershipPlan.Step> plan(MemberTable t, Membership meta, Membership data) {
        return MembershipPlan.next(t, META, meta, DATA, data, N1);
    }

    static MembershipPlan.Change change(long group, MembershipChange.Type type, NodeId node) {
        return new MembershipPlan.Change(group, new MembershipChange(type, node));
    }

    @Test
    void aNewLearnerJoinsTheMetaGroupFirstThenTheDefaultGroup() {
        MemberTable t = table(true);
        Membership three = voters("n1", "n2", "n3");
        assertThat(plan(t, three, three)).containsExactly(change(META, ADD_LEARNER, N4));
        assertThat(plan(t, withLearner(three, "n4"), three)).containsExactly(change(DATA, ADD_LEARNER, N4));
        assertThat(plan(t, withLearner(three, "n4"), withLearner(three, "n4"))).isEmpty();
    }

    @Test
    void aPromotionReachesTheMetaGroupFirst() {
        MemberTable promoted = ((MemberTable.Changed) table(true).promote(5)).table();
        Membership three = voters("n1", "n2", "n3");
        Membership four = voters("n1", "n2", "n3", "n4");
        assertThat(plan(promoted, withLearner(three, "n4"), withLearner(three, "n4")))
                .containsExactly(change(META, ADD_VOTER, N4));
        assertThat(plan(promoted, four, withLearner(three, "n4"))).containsExactly(change(DATA, ADD_VOTER, N4));
        assertThat(plan(promoted, four, four)).isEmpty();
    }

    @Test
    void aRemovedMemberLeavesTheDefaultGroupFirst() {
        MemberTable removed = ((MemberTable.Changed) table(false).remove(5)).table();
        Membership four = voters("n1", "n2", "n3", "n4");
        Membership three = voters("n1", "n2", "n3");
        assertThat(plan(removed, four, four)).containsExactly(change(DATA, REMOVE, N4));
        assertThat(plan(removed, four, three)).containsExactly(change(META, REMOVE, N4));
        assertThat(plan(removed, three, three)).isEmpty();
    }

    @Test
    void aLeaderBeingRemovedHandsOverInsteadOfRemovingItself() {
        MemberTable t = table(false);
        MemberTable removed = ((MemberTable.Changed) t.remove(MemberIds.ofName("n1"))).table();
        Membership four = voters("n1", "n2", "n3", "n4");
        assertThat(plan(removed, four, four)).containsExactly(new MembershipPlan.HandOver());
    }

    @Test
    void stepsOnlyMoveForward() {
        // the table still says learner, a newer leader already promoted it: nothing is demoted
        MemberTable t = table(true);
        Membership four = voters("n1", "n2", "n3", "n4");
        assertThat(plan(t, four, four)).isEmpty();
        // an unstarted member is in no group; a node the table does not know is left alone
        MemberTable unstarted = ((MemberTable.Changed) ReconfigChecksTest.founders("n1", "n2", "n3")
                .add(new Member(5, "", List.of("http://127.0.0.1:2390"), List.of(), false, false))).table();
        assertThat(plan(unstarted, voters("n1", "n2", "n3", "x"), voters("n1", "n2", "n3"))).isEmpty();
    }

    @Test
    void aTombstoneDoesNotRemoveANewMemberOfTheSameName() {
        MemberTable t = ReconfigChecksTest.founders("n1", "n2", "n3");
        t = ((MemberTable.Changed) t.remove(MemberIds.ofName("n3"))).table();
        t = ((MemberTable.Changed) t.add(new Member(5, "", List.of("http://127.0.0.1:2390"), List.of(), false, false)))
                .table();
        t = ((MemberTable.Changed) t.publish("n3", List.of("http://127.0.0.1:2390"), List.of(), NodeLabels.DEFAULT)).table();
        Membership three = voters("n1", "n2", "n3");
        assertThat(plan(t, three, three)).isEmpty();
    }

    @Test
    void eachGroupGetsAtMostOneChangeAtATime() {
        MemberTable t = ((MemberTable.Changed) table(false).remove(MemberIds.ofName("n2"))).table();
        Membership three = voters("n1", "n2", "n3");
        List<MembershipPlan.Step> steps = plan(t, three, three);
        // n2 leaves the default group; n4 joins the meta group: one step each
        assertThat(steps).containsExactly(change(META, ADD_VOTER, N4), change(DATA, REMOVE, NodeId.of("n2")));
    }
}
