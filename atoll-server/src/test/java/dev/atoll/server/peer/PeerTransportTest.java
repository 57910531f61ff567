package dev.atoll.server.peer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PeerTransportTest {
    /** Quick reconnects so a test that restarts a peer does not wait on production backoff. */
    static final PeerTransportOptions FAST = PeerTransportOptions.defaults().withReconnectBackoff(20, 200, 100);

    private final List<TestNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        for (TestNode n : nodes.reversed()) {
            n.close();
        }
    }

    private TestNode start(String id) {
        return track(TestNode.start(id, FAST));
    }

    private TestNode track(TestNode n) {
        nodes.add(n);
        return n;
    }

    private static void connectAll(TestNode... cluster) {
        for (TestNode a : cluster) {
            for (TestNode b : cluster) {
                if (a != b) {
                    a.addPeer(b);
                }
            }
        }
        for (TestNode a : cluster) {
            for (TestNode b : cluster) {
                if (a != b) {
                    Await.until(a.id + " connected to " + b.id, () -> a.linkState(b) == LinkState.CONNECTED);
                }
            }
        }
    }

    @Test
    void threeNodesExchangeMessagesForSeveralGroupsInOrder() {
        TestNode n1 = start("n1"), n2 = start("n2"), n3 = start("n3");
        connectAll(n1, n2, n3);
        int rounds = 100, groups = 4;
        for (int round = 0; round < rounds; round++) {
            for (TestNode from : List.of(n1, n2, n3)) {
                for (TestNode to : List.of(n1, n2, n3)) {
                    for (long group = 1; group <= groups && from != to; group++) {
                        assertThat(from.sendNumbered(to, group, round)).isEqualTo(SendOutcome.QUEUED);
                    }
                }
                from.transport.flush();
            }
        }
        for (TestNode n : List.of(n1, n2, n3)) {
            Await.until(n.id + " received everything", () -> n.receivedCount() == 2 * groups * rounds);
            Map<String, List<Long>> bySenderAndGroup = new HashMap<>();
            for (InboundMessage m : n.receivedSnapshot()) {
                assertThat(m.envelope().to()).isEqualTo(n.id);
                bySenderAndGroup.computeIfAbsent(m.envelope().from() + "/" + m.groupId(), k -> new ArrayList<>())
                        .add(((RaftMessage.Heartbeat) m.envelope().message()).readContext());
            }
            assertThat(bySenderAndGroup).hasSize(2 * groups);
            bySenderAndGroup.forEach((key, numbers) ->
                    assertThat(numbers).as(key).isEqualTo(java.util.stream.LongStream.range(0, rounds).boxed().toList()));
        }
        assertThat(n1.counter("atoll.peer.messages.sent", "peer", "n2")).isEqualTo(groups * rounds);
        assertThat(n2.counter("atoll.peer.messages.received", "peer", "n1")).isEqualTo(groups * rounds);
        assertThat(n2.counter("atoll.peer.bytes.received", "peer", "n1"))
                .isEqualTo(n1.counter("atoll.peer.bytes.sent", "peer", "n2")).isPositive();
    }

    @Test
    void aPeerThatStopsAcknowledgingIsUnresponsiveWhileItsConnectionStaysUp() {
        var quick = FAST.withLiveness(50, 400);
        TestNode n1 = track(TestNode.start("n1", quick)), n2 = track(TestNode.start("n2", quick));
        connectAll(n1, n2);
        Await.until("n2 answers", () -> n1.transport.status(n2.id).orElseThrow().responsive());
        // idle: empty batches keep showing n2 alive
        Await.until("ten probes sent", () -> n1.counter("atoll.peer.probes.sent", "peer", "n2") >= 10);
        assertThat(n1.transport.status(n2.id).orElseThrow().responsive()).isTrue();

        n2.pause();
        n1.sendNumbered(n2, 1, 1);
        n1.transport.flush();

        Await.until("n2 unresponsive", () -> !n1.transport.status(n2.id).orElseThrow().responsive());
        assertThat(n1.linkState(n2)).as("the connection itself looks up").isEqualTo(LinkState.CONNECTED);
        n2.resume();
        Await.until("n2 answers again", () -> n1.transport.status(n2.id).orElseThrow().responsive());
        Await.until("the message arrives", () -> n2.receivedCount() == 1);
    }

    @Test
    void traceparentTravelsWithTheMessage() {
        TestNode n1 = start("n1"), n2 = start("n2");
        connectAll(n1, n2);
        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        n1.transport.send(9, new Envelope<>(n1.id, n2.id, new RaftMessage.TimeoutNow(3)), traceparent);
        n1.transport.flush();
        Await.until("message arrives", () -> n2.receivedCount() == 1);
        assertThat(n2.receivedSnapshot().getFirst())
                .isEqualTo(new InboundMessage(9, new Envelope<>(n1.id, n2.id, new RaftMessage.TimeoutNow(3)), traceparent));
    }

    @Test
    void manySendsInOneRoundTravelInFewBatches() {
        TestNode n1 = start("n1"), n2 = start("n2");
        connectAll(n1, n2);
        int messages = 5_000;
        for (int i = 0; i < messages; i++) {
            n1.sendNumbered(n2, i % 3, i);
        }
        n1.transport.flush();
        Await.until("all messages arrive", () -> n2.receivedCount() == messages);
        // 5,000 messages at batchMessagesMax 1,024: five batches, not five thousand.
        assertThat(n1.batchesSent("n2")).isBetween(5L, 8L);
        assertThat(n1.registry.find("atoll.peer.batch.messages").tags("peer", "n2").summary().max())
                .isLessThanOrEqualTo(FAST.batchMessagesMax());
        List<Long> numbers = n2.receivedSnapshot().stream()
                .map(m -> ((RaftMessage.Heartbeat) m.envelope().message()).readContext()).toList();
        assertThat(numbers).isSorted().hasSize(messages);
    }

    @Test
    void downPeerKeepsTheNewestMessagesUpToTheBoundThenReconnects() {
        var small = FAST.withBatch(64 * 1024, 10).withOutbound(1 << 20, 10);
        TestNode n1 = track(TestNode.start("n1", small));
        // Learn a free port, then leave it closed: n2 is down.
        TestNode first = TestNode.start("n2", FAST);
        int n2Port = first.port();
        NodeId n2Id = first.id;
        first.close();

        n1.transport.addPeer(n2Id, "127.0.0.1:" + n2Port);
        for (int i = 0; i < 50; i++) {
            assertThat(n1.transport.send(1, new Envelope<>(n1.id, n2Id, new RaftMessage.Heartbeat(1, 0, i))))
                    .isEqualTo(SendOutcome.QUEUED);
        }
        n1.transport.flush();
        assertThat(n1.transport.status(n2Id).orElseThrow().queuedMessages()).isEqualTo(10);
        assertThat(n1.dropped("n2", "evicted")).isEqualTo(40);
        Await.until("n1 retries the stream", () -> n1.counter("atoll.peer.reconnects", "peer", "n2") >= 2);
        assertThat(n1.registry.find("atoll.peer.queue.messages").tags("peer", "n2").gauge().value()).isEqualTo(10);

        TestNode n2 = track(TestNode.startOnPort("n2", FAST, n2Port));
        n2.addPeer(n1);
        Await.until("n1 reconnects to n2", () -> n1.linkState(n2) == LinkState.CONNECTED);
        Await.until("the kept messages arrive", () -> n2.receivedCount() == 10);
        for (int i = 50; i < 55; i++) {
            n1.sendNumbered(n2, 1, i);
        }
        n1.transport.flush();
        Await.until("later messages arrive", () -> n2.receivedCount() == 15);
        List<Long> numbers = n2.receivedSnapshot().stream()
                .map(m -> ((RaftMessage.Heartbeat) m.envelope().message()).readContext()).toList();
        assertThat(numbers).isEqualTo(java.util.stream.LongStream.range(40, 55).boxed().toList());
    }

    @Test
    void connectedPeerWithAFullQueueDropsNewMessages() {
        var small = FAST.withBatch(64 * 1024, 10).withOutbound(1 << 20, 10);
        TestNode n1 = track(TestNode.start("n1", small)), n2 = start("n2");
        connectAll(n1, n2);
        for (int i = 0; i < 25; i++) {
            SendOutcome outcome = n1.sendNumbered(n2, 1, i);
            assertThat(outcome).isEqualTo(i < 10 ? SendOutcome.QUEUED : SendOutcome.DROPPED_QUEUE_FULL);
        }
        assertThat(n1.dropped("n2", "queue_full")).isEqualTo(15);
        n1.transport.flush();
        Await.until("the queued messages arrive", () -> n2.receivedCount() == 10);
    }

    @Test
    void wrongClusterIsRefusedChangesNothingAndIsLoggedOnce() {
        var refusals = capture(PeerService.class, OutboundLink.class);
        try {
            TestNode n1 = start("n1");
            TestNode stranger = track(TestNode.start("n2", "other-cluster", FAST));
            n1.addPeer(stranger);
            stranger.addPeer(n1);
            Await.until("stranger's stream refused", () -> stranger.linkState(n1) == LinkState.REFUSED);
            assertThat(stranger.sendNumbered(n1, 1, 1)).isEqualTo(SendOutcome.DROPPED_REFUSED);
            stranger.transport.flush();
            // Refused again on each rare retry (refusedRetryMillis is 100 ms here), logged once.
            Await.until("several refusals each way", () -> n1.counter("atoll.peer.streams.refused", "peer", "n2") >= 3
                    && stranger.counter("atoll.peer.streams.refused", "peer", "n1") >= 3);
            assertThat(n1.receivedCount()).isZero();
            assertThat(stranger.receivedCount()).isZero();
            assertThat(stranger.dropped("n1", "refused")).isGreaterThanOrEqualTo(1);
            assertThat(n1.linkState(stranger)).isNotEqualTo(LinkState.CONNECTED);
            long warnings = refusals.list.stream()
                    .filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().startsWith("peer_stream_refused"))
                    .filter(e -> e.getFormattedMessage().contains("WRONG_CLUSTER"))
                    .count();
            // Each node refuses the other's stream: one line at each receiver and one at each sender,
            // however many retries.
            assertThat(warnings).isEqualTo(4);
        } finally {
            release(refusals, PeerService.class, OutboundLink.class);
        }
    }

    @Test
    void streamFromANodeThatIsNotAPeerIsRefusedUntilItIsAdded() {
        TestNode n1 = start("n1"), n2 = start("n2");
        n2.addPeer(n1);
        Await.until("n1 refuses the unknown sender",
                () -> n1.counter("atoll.peer.streams.refused", "peer", "unknown") >= 1);
        assertThat(n2.linkState(n1)).isNotEqualTo(LinkState.REFUSED);
        n1.addPeer(n2);
        Await.until("n2 connects once it is n1's peer", () -> n2.linkState(n1) == LinkState.CONNECTED);
        n2.sendNumbered(n1, 1, 7);
        n2.transport.flush();
        Await.until("message arrives", () -> n1.receivedCount() == 1);
    }

    @Test
    void removedPeerGetsNothingAndIsRefusedUntilAddedBack() {
        TestNode n1 = start("n1"), n2 = start("n2");
        connectAll(n1, n2);
        n1.transport.removePeer(n2.id);
        assertThat(n1.sendNumbered(n2, 1, 1)).isEqualTo(SendOutcome.DROPPED_UNKNOWN_PEER);
        assertThat(n1.counter("atoll.peer.messages.dropped", "peer", "unknown", "reason", "unknown_peer")).isEqualTo(1);
        Await.until("n2's stream to n1 is ended", () -> n2.linkState(n1) != LinkState.CONNECTED);
        n1.addPeer(n2);
        Await.until("n1 and n2 reconnect", () -> n1.linkState(n2) == LinkState.CONNECTED
                && n2.linkState(n1) == LinkState.CONNECTED);
        n2.sendNumbered(n1, 1, 2);
        n2.transport.flush();
        Await.until("message arrives", () -> n1.receivedCount() == 1);
    }

    @Test
    void closeLeavesNoThreadsStreamsOrMeters() {
        TestNode n1 = TestNode.start("c1", FAST), n2 = TestNode.start("c2", FAST), n3 = TestNode.start("c3", FAST);
        connectAll(n1, n2, n3);
        n1.sendNumbered(n2, 1, 1);
        n1.transport.flush();
        Await.until("message arrives", () -> n2.receivedCount() == 1);
        for (TestNode n : List.of(n1, n2, n3)) {
            n.close();
        }
        for (TestNode n : List.of(n1, n2, n3)) {
            assertThat(n.isTerminated()).isTrue();
            assertThat(n.transport.isClosed()).isTrue();
            assertThat(n.transport.status(n1.id.equals(n.id) ? n2.id : n1.id)).isEmpty();
            assertThat(n.sendNumbered(n1.id.equals(n.id) ? n2 : n1, 1, 2)).isEqualTo(SendOutcome.DROPPED_CLOSED);
            assertThat(n.registry.getMeters()).isEmpty();
        }
        Await.until("no transport or server thread is left", () -> Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .noneMatch(name -> name.matches("(atoll-peer|test-server)-c[123].*")));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ListAppender<ILoggingEvent> capture(Class<?>... sources) {
        var appender = new ListAppender<ILoggingEvent>();
        appender.start();
        for (Class<?> c : sources) {
            ((Logger) LoggerFactory.getLogger(c)).addAppender((ch.qos.logback.core.Appender) appender);
        }
        return appender;
    }

    private static void release(ListAppender<ILoggingEvent> appender, Class<?>... sources) {
        for (Class<?> c : sources) {
            ((Logger) LoggerFactory.getLogger(c)).detachAppender(appender);
        }
        appender.stop();
    }
}
