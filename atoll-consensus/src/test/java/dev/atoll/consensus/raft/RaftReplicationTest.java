package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.AppendEntries;
import dev.atoll.consensus.raft.RaftMessage.AppendResponse;
import dev.atoll.consensus.raft.RaftMessage.Heartbeat;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Role;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.atoll.consensus.raft.Cluster.id;
import static org.assertj.core.api.Assertions.assertThat;

/** Log replication and commitment (Raft §5.3, §5.4.2) with flow control and restarts. */
class RaftReplicationTest {
    static final RaftConfig PLAIN = RaftConfig.defaults().withPreVote(false).withCheckQuorum(false);

    @Test
    void aCommittedCommandIsAppliedByEveryReplicaInOrder() {
        var c = Cluster.of(3).electLeader("n1");
        for (int i = 0; i < 10; i++) {
            c.propose("n1", "cmd" + i);
        }
        c.stabilize();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expected.add("cmd" + i);
        }
        assertThat(c.nodes.keySet()).allSatisfy(n -> assertThat(c.appliedCommands(n.value())).isEqualTo(expected));
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void withoutForwardingAFollowerIsToldNotLeaderWithAHint() {
        var c = Cluster.of(3, RaftConfig.defaults().withForwarding(false, true)).electLeader("n1");
        assertThat(c.node("n2").propose(Cluster.bytes("x"))).isEqualTo(new ProposeResult.NotLeader(id("n1")));
    }

    @Test
    void theLeaderCountsItselfOnlyOnceItsEntryIsDurable() {
        var c = Cluster.of(1).tickUntilLeader(30);
        RaftNode n1 = c.node("n1");
        var accepted = (ProposeResult.Accepted) n1.propose(Cluster.bytes("x"));
        assertThat(n1.status().commitIndex()).isLessThan(accepted.index());
        Ready<RaftMessage> r = n1.ready();
        assertThat(r.entries()).extracting(Entry::index).contains(accepted.index());
        assertThat(r.committed()).isEmpty();
        n1.advance(r);
        // Now durable: a quorum of one has it.
        assertThat(n1.status().commitIndex()).isEqualTo(accepted.index());
        assertThat(n1.ready().committed()).extracting(Entry::index).containsExactly(accepted.index());
    }

    /** n1 leads n2 and n3; n3 hears nothing; n1 proposes and takes the Ready, not yet persisted. */
    private static Ready<RaftMessage> proposeAndSendBeforePersisting(Cluster c, long[] index) {
        c.electLeader("n1").tick(1);
        c.dropRule = e -> e.to().equals(id("n3"));
        var accepted = (ProposeResult.Accepted) c.node("n1").propose(Cluster.bytes("x"));
        index[0] = accepted.index();
        Ready<RaftMessage> r = c.node("n1").ready();
        assertThat(r.entries()).extracting(Entry::index).containsExactly(accepted.index());
        // Thesis §10.2.1: the appends carrying the unpersisted entry may leave now.
        assertThat(r.messagesBeforePersist()).anySatisfy(e -> assertThat(e.message())
                .isInstanceOfSatisfying(AppendEntries.class, a -> assertThat(a.entries()).isNotEmpty()));
        c.network.addAll(r.messagesBeforePersist());
        c.stabilize(); // n2 stores the entry, persists it and acknowledges
        return r;
    }

    @Test
    void theLeaderSendsAppendsBeforeItsFsyncButCountsItselfOnlyOnceDurable() {
        var c = Cluster.of(3);
        long[] index = new long[1];
        Ready<RaftMessage> r = proposeAndSendBeforePersisting(c, index);
        assertThat(c.node("n2").log().lastIndex()).isEqualTo(index[0]);
        // n2's acknowledgement alone is not a quorum of three: n1's copy is not durable yet.
        assertThat(c.commit("n1")).isLessThan(index[0]);
        c.disks.get(id("n1")).persist(r);
        c.network.addAll(r.messagesAfterPersist());
        c.node("n1").advance(r);
        assertThat(c.commit("n1")).isEqualTo(index[0]);
    }

    /** Takes the first message of {@code type} to {@code to} off the network and steps it, without driving the Ready. */
    private static Ready<RaftMessage> stepByHand(Cluster c, String to, Class<? extends RaftMessage> type) {
        Envelope<RaftMessage> e = c.network.stream()
                .filter(m -> m.to().equals(id(to)) && type.isInstance(m.message())).findFirst().orElseThrow();
        c.network.remove(e);
        c.node(to).step(e);
        return c.node(to).ready();
    }

    @Test
    void votesAndAcknowledgementsNeverLeaveBeforeTheirPersist() {
        var c = Cluster.of(3);
        c.node("n1").campaign();
        c.processReady(id("n1"));
        Ready<RaftMessage> vote = stepByHand(c, "n2", RaftMessage.RequestVote.class);
        assertThat(vote.messages()).anySatisfy(e -> assertThat(e.message()).isInstanceOf(RaftMessage.VoteResponse.class));
        assertThat(vote.messagesBeforePersist()).isEmpty();
        c.disks.get(id("n2")).persist(vote);
        c.network.addAll(vote.messagesAfterPersist());
        c.node("n2").advance(vote);
        c.stabilize().tick(1);

        c.node("n1").propose(Cluster.bytes("x"));
        c.processReady(id("n1"));
        Ready<RaftMessage> ack = stepByHand(c, "n2", AppendEntries.class);
        assertThat(ack.messages()).anySatisfy(e -> assertThat(e.message()).isInstanceOf(AppendResponse.class));
        assertThat(ack.messagesBeforePersist()).isEmpty();
    }

    @Test
    void aMinorityCannotCommit() {
        var c = Cluster.of(5).electLeader("n1");
        c.isolate("n3").isolate("n4").isolate("n5");
        long commitBefore = c.commit("n1");
        c.propose("n1", "lonely");
        c.tick(3);
        assertThat(c.commit("n1")).isEqualTo(commitBefore);
    }

    /**
     * Raft Figure 8: S1 leads term 1 and stores "a" at index 2 on S2 only; S5 leads term 2 with an
     * entry at index 2 that reaches no one; S1 leads term 3 and copies "a" to a majority. Counting
     * replicas would commit "a" now, yet S5 can still win term 4 and overwrite it.
     */
    private static Cluster figure8(RaftConfig config) {
        var c = Cluster.of(5, config.withFlowControl(64, 1, 1 << 20));
        c.electLeader("n1");
        // (a) "a" at index 2 in term 1 reaches only n2.
        c.isolate("n3").isolate("n4").isolate("n5");
        c.propose("n1", "a");
        c.stabilize();
        // (b) n1 crashes; n5 wins term 2 with n3 and n4; its entry at index 2 goes nowhere.
        c.crash("n1").heal().isolate("n2");
        c.dropRule = e -> e.from().equals(id("n5")) && e.message() instanceof AppendEntries;
        c.electLeader("n5");
        assertThat(c.node("n5").log().term(2)).isEqualTo(2);
        c.crash("n5");
        c.dropRule = e -> false;
        // (c) n1 restarts and wins term 3; "a" reaches n3 and n4, but nothing of term 3 does,
        // and no commit index above 1 leaves n1 for them.
        c.heal().restart("n1");
        // (The first probe, at index 2, is let through: n3 and n4 reject it, lacking index 2.)
        c.dropRule = e -> e.from().equals(id("n1")) && (e.to().equals(id("n3")) || e.to().equals(id("n4")))
                && (e.message() instanceof Heartbeat
                || e.message() instanceof AppendEntries a && (a.commitIndex() >= 2
                || c.nodes.get(e.to()).log().lastIndex() >= 2 && a.entries().stream().anyMatch(en -> en.term() >= 3)));
        campaignUntilLeader(c, "n1");
        assertThat(c.node("n1").status().term()).isEqualTo(3);
        assertThat(c.node("n3").log().term(2)).isEqualTo(1);
        return c;
    }

    private static void campaignUntilLeader(Cluster c, String name) {
        for (int i = 0; i < 4 && c.node(name).status().role() != Role.LEADER; i++) {
            c.node(name).campaign();
            c.stabilize();
        }
        assertThat(c.node(name).status().role()).isEqualTo(Role.LEADER);
    }

    /** (d) n1 crashes; n5 wins term 4 with n3 and n4 and replicates its own index 2. */
    private static void figure8Continued(Cluster c) {
        c.crash("n1").isolate("n2");
        c.dropRule = e -> false;
        c.restart("n5");
        campaignUntilLeader(c, "n5");
        c.stabilize();
    }

    @Test
    void figure8PriorTermEntryIsNotCommittedByCounting() {
        var c = figure8(PLAIN);
        // "a" is on n1, n2, n3, n4 (a majority), but from term 1: §5.4.2 forbids committing it by counting.
        assertThat(c.commit("n1")).isEqualTo(1);
        figure8Continued(c);
        assertThat(c.commit("n5")).isEqualTo(3);
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void figure8WithCountingMutationCommitsAnEntryThatIsLaterOverwritten() {
        var c = figure8(PLAIN.withMutations(Set.of(RaftMutation.COMMIT_PRIOR_TERM_BY_COUNT)));
        assertThat(c.commit("n1")).isEqualTo(2);
        assertThat(c.appliedCommands("n1")).containsExactly("a");
        figure8Continued(c);
        assertThat(c.safetyViolations).isNotEmpty();
    }

    /** A follower holding a long suffix of a deposed leader's entries, with the hint that finds the fork. */
    private static Cluster divergedFollower(RaftConfig config) {
        var c = Cluster.of(3, config).electLeader("n1");
        c.isolate("n1");
        for (int i = 0; i < 50; i++) {
            c.propose("n1", "stale" + i);
        }
        c.stabilize();
        c.electLeader("n2");
        for (int i = 0; i < 50; i++) {
            c.propose("n2", "fresh" + i);
        }
        c.stabilize();
        c.clearSent();
        c.heal().tick(3);
        return c;
    }

    @Test
    void conflictHintsLetTheLeaderSkipAWholeDivergentTermInOneRoundTrip() {
        var c = divergedFollower(PLAIN);
        long rejections = c.sent.stream().filter(e -> e.from().equals(id("n1"))
                && e.message() instanceof AppendResponse r && r.reject()).count();
        assertThat(rejections).isLessThanOrEqualTo(2);
        // The follower truncated its conflicting suffix (§5.3) and now matches the leader.
        RaftNode n1 = c.node("n1");
        RaftNode n2 = c.node("n2");
        assertThat(n1.log().lastIndex()).isEqualTo(n2.log().lastIndex());
        for (long i = 1; i <= n2.log().lastIndex(); i++) {
            assertThat(n1.log().entry(i)).isEqualTo(n2.log().entry(i));
        }
        assertThat(c.appliedCommands("n1")).hasSize(50).allMatch(s -> s.startsWith("fresh"));
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void skipTruncateMutationLeavesTheStaleSuffixInPlace() {
        var c = divergedFollower(PLAIN.withMutations(Set.of(RaftMutation.SKIP_TRUNCATE_ON_CONFLICT)));
        // n1 kept its stale entries yet acknowledged n2's: it applies commands nobody committed.
        assertThat(c.node("n1").log().entry(3).term()).isEqualTo(1);
        assertThat(c.safetyViolations).isNotEmpty();
    }

    @Test
    void flowControlBoundsInflightAppendsAndBatchSizes() {
        int inflightMax = 4;
        int entriesMax = 8;
        int bytesMax = 300;
        var c = Cluster.of(3, RaftConfig.defaults().withFlowControl(inflightMax, entriesMax, bytesMax)).electLeader("n1");
        c.clearSent();
        byte[] payload = new byte[100];
        for (int i = 0; i < 100; i++) {
            assertThat(c.node("n1").propose(payload)).isInstanceOf(ProposeResult.Accepted.class);
            assertThat(c.node("n1").inflightAppendsTo(id("n2"))).isLessThanOrEqualTo(inflightMax);
        }
        c.processReady(id("n1"));
        long inFlightToN2 = c.network.stream().filter(e -> e.to().equals(id("n2"))
                && e.message() instanceof AppendEntries a && !a.entries().isEmpty()).count();
        assertThat(inFlightToN2).isLessThanOrEqualTo(inflightMax);
        c.stabilize();
        assertThat(c.commit("n2")).isEqualTo(101);
        assertThat(c.sent).filteredOn(e -> e.message() instanceof AppendEntries).allSatisfy(e -> {
            var a = (AppendEntries) e.message();
            assertThat(a.entries().size()).isLessThanOrEqualTo(entriesMax);
            int bytes = a.entries().stream().mapToInt(Entry::sizeBytes).sum();
            assertThat(a.entries().size() <= 1 || bytes <= bytesMax).isTrue();
        });
    }

    @Test
    void lostAppendsAreRepairedByHeartbeats() {
        var c = Cluster.of(3).electLeader("n1");
        var random = new SeededRandom(7);
        c.dropRule = e -> e.message() instanceof AppendEntries && random.chance(0.5);
        for (int i = 0; i < 30; i++) {
            c.propose("n1", "v" + i);
            c.stabilize();
        }
        c.dropRule = e -> false;
        c.tick(5);
        assertThat(c.appliedCommands("n2")).hasSize(30);
        assertThat(c.appliedCommands("n3")).isEqualTo(c.appliedCommands("n1"));
    }

    @Test
    void aRestartedNodeReemitsItsCommittedEntriesInTheFirstReady() {
        var c = Cluster.of(3).electLeader("n1");
        c.propose("n1", "x");
        c.propose("n1", "y");
        c.stabilize().tick(1);
        long commit = c.commit("n2");
        var disk = c.disks.get(id("n2"));
        var restarted = new RaftNode(id("n2"), c.config, disk.load(), new SeededRandom(1));
        assertThat(restarted.status().appliedIndex()).isZero();
        Ready<RaftMessage> first = restarted.ready();
        assertThat(first.committed()).extracting(Entry::index)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, commit).boxed().toList());
        assertThat(first.hardState()).isNull();
        restarted.advance(first);
        assertThat(restarted.status().appliedIndex()).isEqualTo(commit);
    }

    @Test
    void theWholeClusterRestartsAndKeepsItsLog() {
        var c = Cluster.of(3).electLeader("n1");
        c.propose("n1", "before");
        c.stabilize().tick(1);
        c.crash("n1").crash("n2").crash("n3");
        c.restart("n1").restart("n2").restart("n3");
        assertThat(c.appliedCommands("n3")).containsExactly("before");
        c.tickUntilLeader(40);
        String leader = c.leader().value();
        c.propose(leader, "after");
        c.stabilize();
        assertThat(c.appliedCommands("n2")).containsExactly("before", "after");
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void duplicatedAndReorderedMessagesChangeNothing() {
        var c = Cluster.of(3).electLeader("n1");
        for (int i = 0; i < 5; i++) {
            c.propose("n1", "d" + i);
        }
        c.stabilize();
        List<Envelope<RaftMessage>> replay = new ArrayList<>(c.delivered);
        java.util.Collections.reverse(replay);
        for (var e : replay) {
            c.nodes.get(e.to()).step(e);
            c.processReady(e.to());
        }
        c.stabilize().tick(2);
        assertThat(c.leader()).isEqualTo(id("n1"));
        assertThat(c.appliedCommands("n3")).containsExactly("d0", "d1", "d2", "d3", "d4");
        assertThat(c.safetyViolations).isEmpty();
    }

    @Test
    void heartbeatsNeverCarryACommitIndexBeyondTheFollowersMatch() {
        var c = Cluster.of(3).electLeader("n1");
        c.isolate("n3");
        c.propose("n1", "a");
        c.stabilize();
        c.heal();
        c.dropRule = e -> e.message() instanceof AppendEntries;
        c.clearSent();
        c.tick(1);
        long n3Match = c.node("n3").log().lastIndex();
        assertThat(c.sent).filteredOn(e -> e.message() instanceof Heartbeat && e.to().equals(id("n3")))
                .isNotEmpty()
                .allSatisfy(e -> assertThat(((Heartbeat) e.message()).commitIndex()).isLessThanOrEqualTo(n3Match));
        assertThat(c.commit("n3")).isLessThan(c.commit("n1"));
    }

    @Test
    void aSecondReadyBeforeAdvanceIsADriverBug() {
        var c = Cluster.of(3);
        RaftNode n1 = c.node("n1");
        n1.campaign();
        n1.ready();
        assertThat(n1.hasReady()).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(n1::ready)
                .isInstanceOf(dev.atoll.core.InvariantViolation.class);
    }

    @Test
    void theLogViewShowsUnstableEntriesAndTheSnapshotBoundary() {
        var c = Cluster.of(1).tickUntilLeader(30);
        RaftNode n1 = c.node("n1");
        n1.propose(Cluster.bytes("x"));
        assertThat(n1.log().lastIndex()).isEqualTo(2);
        assertThat(n1.log().entry(2).kind()).isEqualTo(Entry.Kind.COMMAND);
        assertThat(n1.log().term(0)).isZero();
        assertThat(n1.log().term(3)).isEqualTo(-1);
        assertThat(n1.log().entry(0)).isNull();
    }
}
