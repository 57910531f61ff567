package dev.atoll.server.peer;

import com.google.protobuf.CodedOutputStream;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.proto.peer.AtollPeerGrpc;
import dev.atoll.proto.peer.PeerAck;
import dev.atoll.proto.peer.PeerBatch;
import dev.atoll.proto.peer.PeerMessage;
import dev.atoll.proto.peer.StreamOpen;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The wire protocol seen from the other end: a hand-driven sender, a hand-driven receiver. */
class PeerProtocolTest {
    private final List<TestNode> nodes = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<Server> servers = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (TestNode n : nodes.reversed()) {
            n.close();
        }
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void malformedMessagesAreDroppedAndCountedWhileTheStreamKeepsWorking() {
        TestNode n1 = track(TestNode.start("n1", PeerTransportTest.FAST));
        // n2 is a peer of n1 but is driven by hand here; its own address is never reached.
        n1.transport.addPeer(NodeId.of("n2"), "127.0.0.1:1");
        var sender = new HandSender(n1.target());
        sender.send(PeerBatch.newBuilder().setBatchSeq(1).setOpen(open("test-cluster", "n2", "n1")).build());
        Await.until("stream accepted", () -> sender.ackedBatchSeq() == 1);

        PeerMessage good1 = heartbeat("n2", "n1", 1);
        PeerMessage noBody = good1.toBuilder().clearBody().build();
        PeerMessage forged = heartbeat("n3", "n1", 99);
        PeerMessage misrouted = heartbeat("n2", "n4", 98);
        PeerMessage good2 = heartbeat("n2", "n1", 2);
        sender.send(PeerBatch.newBuilder().setBatchSeq(2)
                .addMessages(good1).addMessages(noBody).addMessages(forged).addMessages(misrouted).addMessages(good2)
                .build());
        Await.until("batch 2 acknowledged", () -> sender.ackedBatchSeq() == 2);
        assertThat(sender.acks.getLast().getDroppedMessages()).isEqualTo(3);

        sender.send(PeerBatch.newBuilder().setBatchSeq(3).addMessages(heartbeat("n2", "n1", 3)).build());
        Await.until("batch 3 acknowledged", () -> sender.ackedBatchSeq() == 3);
        assertThat(n1.receivedSnapshot()).extracting(m -> ((RaftMessage.Heartbeat) m.envelope().message()).readContext())
                .containsExactly(1L, 2L, 3L);
        assertThat(n1.dropped("n2", "malformed")).isEqualTo(3);
        assertThat(n1.counter("atoll.peer.messages.received", "peer", "n2")).isEqualTo(6);
        assertThat(sender.acks).allSatisfy(a -> assertThat(a.getWindowBytes())
                .isEqualTo(PeerTransportTest.FAST.receiveWindowBytes()));
    }

    @Test
    void aBatchOutOfSequenceEndsTheStream() {
        TestNode n1 = track(TestNode.start("n1", PeerTransportTest.FAST));
        n1.transport.addPeer(NodeId.of("n2"), "127.0.0.1:1");
        var sender = new HandSender(n1.target());
        sender.send(PeerBatch.newBuilder().setBatchSeq(1).setOpen(open("test-cluster", "n2", "n1")).build());
        Await.until("stream accepted", () -> sender.ackedBatchSeq() == 1);
        sender.send(PeerBatch.newBuilder().setBatchSeq(5).addMessages(heartbeat("n2", "n1", 1)).build());
        Await.until("stream ended", () -> sender.end != null);
        assertThat(sender.end.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(sender.end.getDescription()).startsWith("PEER_MALFORMED");
        assertThat(n1.receivedCount()).isZero();
    }

    @Test
    void aStreamWithoutStreamOpenOrWithAnotherVersionIsRefused() {
        TestNode n1 = track(TestNode.start("n1", PeerTransportTest.FAST));
        n1.transport.addPeer(NodeId.of("n2"), "127.0.0.1:1");
        var noOpen = new HandSender(n1.target());
        noOpen.send(PeerBatch.newBuilder().setBatchSeq(1).addMessages(heartbeat("n2", "n1", 1)).build());
        var newer = new HandSender(n1.target());
        newer.send(PeerBatch.newBuilder().setBatchSeq(1)
                .setOpen(open("test-cluster", "n2", "n1").toBuilder().setProtocolVersion(2)).build());
        Await.until("both refused", () -> noOpen.end != null && newer.end != null);
        assertThat(noOpen.acks.getFirst().getRefusal().getDetail()).startsWith("PEER_MALFORMED");
        assertThat(newer.acks.getFirst().getRefusal().getReason())
                .isEqualTo(dev.atoll.proto.peer.Refusal.Reason.UNKNOWN_PROTOCOL_VERSION);
        assertThat(n1.receivedCount()).isZero();
        // Without a StreamOpen the stream has no sender: its message counts under peer "unknown".
        assertThat(n1.dropped("unknown", "refused")).isEqualTo(1);
        assertThat(n1.counter("atoll.peer.streams.refused", "peer", "n2")).isEqualTo(1);
    }

    @Test
    void senderKeepsWithinTheReceiversCredit() throws IOException {
        long windowBytes = 600;
        var receiver = new HandReceiver(windowBytes);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(receiver)
                .build().start();
        servers.add(server);
        TestNode n1 = track(TestNode.start("n1", PeerTransportTest.FAST));
        NodeId n2 = NodeId.of("n2");
        n1.transport.addPeer(n2, "127.0.0.1:" + server.getPort());
        Await.until("connected", () -> n1.transport.status(n2).orElseThrow().state() == LinkState.CONNECTED);

        int messages = 200;
        for (int i = 0; i < messages; i++) {
            n1.transport.send(1, new Envelope<>(n1.id, n2, new RaftMessage.Heartbeat(1, 0, i)));
        }
        n1.transport.flush();
        int seen = 0;
        while (seen < messages) {
            int before = seen;
            // The sender has used its credit once everything it sent has arrived and it sends no more.
            Await.until("the sender fills the window", () -> receiver.messageCount() > before
                    && n1.transport.status(n2).orElseThrow().outstandingBytes() == receiver.unackedBytes());
            seen = receiver.messageCount();
            assertThat(receiver.unackedBytes()).isLessThanOrEqualTo(windowBytes);
            // Until an ack returns credit, nothing more goes out: what is not sent stays queued.
            assertThat(n1.transport.status(n2).orElseThrow().queuedMessages()).isEqualTo(messages - seen);
            receiver.ackAll();
        }
        assertThat(receiver.maxUnackedBytes).isLessThanOrEqualTo(windowBytes);
        assertThat(receiver.numbers).isEqualTo(java.util.stream.LongStream.range(0, messages).boxed().toList());
        // 200 heartbeats of ~20 bytes through a 600-byte window: many small batches, each in credit.
        assertThat(n1.batchesSent("n2")).isGreaterThan(messages * 20L / windowBytes - 1);
    }

    @Test
    void aFullInboxDropsAndTheSenderLearnsTheCount() {
        TestNode n1 = track(TestNode.start("n1", PeerTransportTest.FAST));
        TestNode n2 = track(TestNode.start("n2", PeerTransportTest.FAST));
        n2.inboxMessagesMax = 5;
        n1.addPeer(n2);
        n2.addPeer(n1);
        Await.until("connected", () -> n1.linkState(n2) == LinkState.CONNECTED);
        for (int i = 0; i < 20; i++) {
            n1.sendNumbered(n2, 1, i);
        }
        n1.transport.flush();
        Await.until("the sender hears of the drops", () -> n1.counter("atoll.peer.remote.dropped", "peer", "n2") == 15);
        assertThat(n2.dropped("n1", "inbox_full")).isEqualTo(15);
        assertThat(n2.receivedCount()).isEqualTo(5);
    }

    private TestNode track(TestNode n) {
        nodes.add(n);
        return n;
    }

    private static StreamOpen open(String cluster, String from, String to) {
        return StreamOpen.newBuilder().setClusterId(cluster).setFromNode(from).setToNode(to)
                .setProtocolVersion(PeerTransport.PROTOCOL_VERSION).build();
    }

    private static PeerMessage heartbeat(String from, String to, long number) {
        return RaftWireCodec.encode(1, new Envelope<>(NodeId.of(from), NodeId.of(to),
                new RaftMessage.Heartbeat(1, 0, number)), "");
    }

    /** A sender driven by the test, batch by batch, recording the acks it gets. */
    private final class HandSender implements StreamObserver<PeerAck> {
        final List<PeerAck> acks = new CopyOnWriteArrayList<>();
        volatile Status end;
        private final StreamObserver<PeerBatch> batches;

        HandSender(String target) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
            channels.add(channel);
            batches = AtollPeerGrpc.newStub(channel).stream(this);
        }

        void send(PeerBatch batch) {
            batches.onNext(batch);
        }

        long ackedBatchSeq() {
            return acks.isEmpty() ? 0 : acks.getLast().getAckedBatchSeq();
        }

        @Override
        public void onNext(PeerAck ack) {
            acks.add(ack);
        }

        @Override
        public void onError(Throwable t) {
            end = Status.fromThrowable(t);
        }

        @Override
        public void onCompleted() {
            end = Status.OK;
        }
    }

    /** A receiver that grants a fixed window and acknowledges only when the test says so. */
    private static final class HandReceiver extends AtollPeerGrpc.AtollPeerImplBase {
        private final long windowBytes;
        final List<Long> numbers = new CopyOnWriteArrayList<>();
        private StreamObserver<PeerAck> acks;
        private long lastSeq;
        private long unackedBytes;
        volatile long maxUnackedBytes;

        HandReceiver(long windowBytes) {
            this.windowBytes = windowBytes;
        }

        synchronized int messageCount() {
            return numbers.size();
        }

        synchronized long unackedBytes() {
            return unackedBytes;
        }

        synchronized void ackAll() {
            unackedBytes = 0;
            acks.onNext(PeerAck.newBuilder().setAckedBatchSeq(lastSeq).setWindowBytes(windowBytes).build());
        }

        @Override
        public StreamObserver<PeerBatch> stream(StreamObserver<PeerAck> responseObserver) {
            return new StreamObserver<>() {
                @Override
                public void onNext(PeerBatch batch) {
                    synchronized (HandReceiver.this) {
                        lastSeq = batch.getBatchSeq();
                        if (batch.hasOpen()) {
                            acks = responseObserver;
                            ackAll();
                            return;
                        }
                        for (PeerMessage m : batch.getMessagesList()) {
                            unackedBytes += CodedOutputStream.computeMessageSize(PeerBatch.MESSAGES_FIELD_NUMBER, m);
                            numbers.add(m.getHeartbeat().getReadContext());
                        }
                        maxUnackedBytes = Math.max(maxUnackedBytes, unackedBytes);
                    }
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    responseObserver.onCompleted();
                }
            };
        }
    }
}
