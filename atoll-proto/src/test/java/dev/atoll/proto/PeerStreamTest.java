package dev.atoll.proto;

import dev.atoll.proto.peer.AtollPeerGrpc;
import dev.atoll.proto.peer.Heartbeat;
import dev.atoll.proto.peer.PeerAck;
import dev.atoll.proto.peer.PeerBatch;
import dev.atoll.proto.peer.PeerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The generated AtollPeer stream carries batches one way and cumulative acks with credit the other. */
class PeerStreamTest {
    private static final long WINDOW_BYTES = 1 << 20;

    @Test
    void receiverAcksEveryBatchCumulativelyWithCredit() throws Exception {
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).directExecutor().addService(new AckingPeer()).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            List<PeerAck> acks = new CopyOnWriteArrayList<>();
            var done = new CountDownLatch(1);
            StreamObserver<PeerBatch> batches = AtollPeerGrpc.newStub(channel).stream(new StreamObserver<>() {
                @Override public void onNext(PeerAck ack) { acks.add(ack); }
                @Override public void onError(Throwable t) { done.countDown(); }
                @Override public void onCompleted() { done.countDown(); }
            });
            for (long seq = 1; seq <= 3; seq++) {
                batches.onNext(PeerBatch.newBuilder().setBatchSeq(seq)
                        .addMessages(PeerMessage.newBuilder().setGroupId(1).setFromNode("n1").setToNode("n2")
                                .setHeartbeat(Heartbeat.newBuilder().setTerm(2).setCommitIndex(seq).setReadContext(seq)))
                        .build());
            }
            batches.onCompleted();
            assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();

            assertThat(acks).extracting(PeerAck::getAckedBatchSeq).containsExactly(1L, 2L, 3L);
            assertThat(acks).allSatisfy(a -> assertThat(a.getWindowBytes()).isEqualTo(WINDOW_BYTES));
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Acks each batch as soon as it arrives, keeping the window at a fixed size. */
    private static final class AckingPeer extends AtollPeerGrpc.AtollPeerImplBase {
        @Override
        public StreamObserver<PeerBatch> stream(StreamObserver<PeerAck> acks) {
            return new StreamObserver<>() {
                @Override
                public void onNext(PeerBatch batch) {
                    acks.onNext(PeerAck.newBuilder().setAckedBatchSeq(batch.getBatchSeq()).setWindowBytes(WINDOW_BYTES).build());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    acks.onCompleted();
                }
            };
        }
    }
}
