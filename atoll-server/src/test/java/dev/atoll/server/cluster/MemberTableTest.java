package dev.atoll.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The member table validates a change as etcd's apply does, and a refusal changes nothing. */
class MemberTableTest {
    static final String N1_PEER = "http://127.0.0.1:2380";
    static final String N2_PEER = "http://127.0.0.1:2381";
    static final String NEW_PEER = "http://127.0.0.1:2390";

    static Member founder(String name, String peer) {
        return new Member(MemberIds.ofName(name), name, List.of(peer), List.of("http://" + name + ":2379"),
                false, false);
    }

    static MemberTable twoFounders() {
        return changed(MemberTable.EMPTY.seed(77, List.of(founder("n1", N1_PEER), founder("n2", N2_PEER))));
    }

    static MemberTable changed(MemberTable.Change c) {
        assertThat(c).isInstanceOf(MemberTable.Changed.class);
        return ((MemberTable.Changed) c).table();
    }

    static MemberError refused(MemberTable.Change c) {
        assertThat(c).isInstanceOf(MemberTable.Refused.class);
        return ((MemberTable.Refused) c).error();
    }

    static Member unstarted(long id, String peer, boolean learner) {
        return new Member(id, "", List.of(peer), List.of(), learner, false);
    }

    @Test
    void aSeedIsWrittenOnceAndListsMembersById() {
        MemberTable t = twoFounders();
        assertThat(t.seeded()).isTrue();
        assertThat(t.clusterId()).isEqualTo(77);
        assertThat(t.members()).extracting(Member::id).isSortedAccordingTo(Long::compareUnsigned);
        MemberTable again = changed(t.seed(99, List.of(founder("n9", NEW_PEER))));
        assertThat(again).isEqualTo(t);
    }

    @Test
    void nothingButASeedChangesAnEmptyTable() {
        assertThat(refused(MemberTable.EMPTY.add(unstarted(5, NEW_PEER, true)))).isEqualTo(MemberError.NOT_SEEDED);
        assertThat(refused(MemberTable.EMPTY.publish("n1", List.of(N1_PEER), List.of(), NodeLabels.DEFAULT)))
                .isEqualTo(MemberError.NOT_SEEDED);
    }

    @Test
    void anAddedMemberIsUnstartedUntilItPublishesItselfByItsPeerUrl() {
        MemberTable t = changed(twoFounders().add(unstarted(5, NEW_PEER, true)));
        Member added = t.byId(5).orElseThrow();
        assertThat(added.started()).isFalse();
        assertThat(added.learner()).isTrue();

        MemberTable.Change published = t.publish("n3", List.of("http://127.0.0.1:2390"), List.of("http://c:3"), NodeLabels.DEFAULT);
        Member n3 = ((MemberTable.Changed) published).member();
        assertThat(n3.id()).isEqualTo(5);
        assertThat(n3.name()).isEqualTo("n3");
        assertThat(n3.clientUrls()).containsExactly("http://c:3");
        // a restart publishes again, found by its name: new client URLs are taken
        MemberTable t2 = changed(published);
        Member restarted = ((MemberTable.Changed) t2.publish("n3", List.of(NEW_PEER), List.of("http://c:4"), NodeLabels.DEFAULT)).member();
        assertThat(restarted.id()).isEqualTo(5);
        assertThat(restarted.clientUrls()).containsExactly("http://c:4");
    }

    @Test
    void addRefusesATakenIdTakenPeerUrlsAndASecondLearner() {
        MemberTable t = twoFounders();
        long n1 = MemberIds.ofName("n1");
        assertThat(refused(t.add(unstarted(n1, NEW_PEER, false)))).isEqualTo(MemberError.MEMBER_EXISTS);
        assertThat(refused(t.add(unstarted(5, N2_PEER, false)))).isEqualTo(MemberError.PEER_URL_EXISTS);
        MemberTable withLearner = changed(t.add(unstarted(5, NEW_PEER, true)));
        assertThat(refused(withLearner.add(unstarted(6, "http://127.0.0.1:2391", true))))
                .isEqualTo(MemberError.TOO_MANY_LEARNERS);
        assertThat(withLearner.add(unstarted(6, "http://127.0.0.1:2391", false)))
                .isInstanceOf(MemberTable.Changed.class);
    }

    @Test
    void aRemovedIdIsNeverFoundAgainButItsUrlsAreFree() {
        MemberTable t = changed(twoFounders().add(unstarted(5, NEW_PEER, false)));
        t = changed(t.remove(5));
        assertThat(t.current()).extracting(Member::id).doesNotContain(5L);
        assertThat(refused(t.remove(5))).isEqualTo(MemberError.MEMBER_NOT_FOUND);
        assertThat(refused(t.promote(5))).isEqualTo(MemberError.MEMBER_NOT_FOUND);
        assertThat(refused(t.update(5, List.of("http://127.0.0.1:9")))).isEqualTo(MemberError.MEMBER_NOT_FOUND);
        assertThat(refused(t.add(unstarted(5, "http://127.0.0.1:9", false)))).isEqualTo(MemberError.MEMBER_NOT_FOUND);
        assertThat(t.add(unstarted(6, NEW_PEER, false))).isInstanceOf(MemberTable.Changed.class);
    }

    @Test
    void promoteTakesOnlyALearner() {
        MemberTable t = changed(twoFounders().add(unstarted(5, NEW_PEER, true)));
        assertThat(refused(t.promote(MemberIds.ofName("n1")))).isEqualTo(MemberError.MEMBER_NOT_LEARNER);
        assertThat(refused(t.promote(42))).isEqualTo(MemberError.MEMBER_NOT_FOUND);
        MemberTable promoted = changed(t.promote(5));
        assertThat(promoted.byId(5).orElseThrow().isVoter()).isTrue();
    }

    @Test
    void updateRefusesPeerUrlsOfAnotherMember() {
        MemberTable t = twoFounders();
        long n1 = MemberIds.ofName("n1");
        assertThat(refused(t.update(n1, List.of(N2_PEER)))).isEqualTo(MemberError.PEER_URL_EXISTS);
        MemberTable moved = changed(t.update(n1, List.of(N1_PEER, NEW_PEER)));
        assertThat(moved.byId(n1).orElseThrow().peerUrls()).containsExactly(N1_PEER, NEW_PEER);
    }

    @Test
    void publishRefusesUnknownMembersTakenNamesAndRemovedMembers() {
        MemberTable t = twoFounders();
        assertThat(refused(t.publish("n9", List.of(NEW_PEER), List.of(), NodeLabels.DEFAULT))).isEqualTo(MemberError.MEMBER_NOT_FOUND);
        assertThat(refused(t.publish("n1", List.of(NEW_PEER), List.of(), NodeLabels.DEFAULT))).isEqualTo(MemberError.NAME_TAKEN);
        MemberTable without = changed(t.remove(MemberIds.ofName("n2")));
        assertThat(refused(without.publish("n2", List.of(N2_PEER), List.of(), NodeLabels.DEFAULT))).isEqualTo(MemberError.MEMBER_REMOVED);
        // a new member may take the name of a removed one
        MemberTable readded = changed(without.add(unstarted(5, NEW_PEER, false)));
        Member n2 = ((MemberTable.Changed) readded.publish("n2", List.of(NEW_PEER), List.of(), NodeLabels.DEFAULT)).member();
        assertThat(n2.id()).isEqualTo(5);
    }
}
