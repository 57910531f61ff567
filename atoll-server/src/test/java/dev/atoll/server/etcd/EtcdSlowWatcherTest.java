package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.WatchCreateRequest;
import dev.atoll.proto.etcd.WatchGrpc;
import dev.atoll.proto.etcd.WatchRequest;
import dev.atoll.proto.etcd.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** A watcher whose client stops reading is cancelled with a reason once its bounded queue fills. */
class EtcdSlowWatcherTest {
    @TempDir
    Path dir;

    @Test
    void aWatcherThatStopsReadingIsCancelledAsTooSlow() throws Exception {
        try (SingleNodeEtcd node = SingleNodeEtcd.start(dir, EtcdOptions.defaults().withWatchEventsQueuedMax(4))) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
            try {
                var responses = new LinkedBlockingQueue<WatchResponse>();
                var call = new AtomicReference<ClientCallStreamObserver<WatchRequest>>();
                var requests = WatchGrpc.newStub(channel).watch(new ClientResponseObserver<WatchRequest, WatchResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
                        call.set(stream);
                        stream.disableAutoRequestWithInitial(1); // read the created response, then stop
                    }

                    @Override
                    public void onNext(WatchResponse r) {
                        responses.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
                requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("slow/")).setRangeEnd(ByteString.copyFromUtf8("slow0"))).build());
                assertThat(responses.poll(10, TimeUnit.SECONDS).getCreated()).isTrue();

                var kv = KVGrpc.newBlockingStub(channel);
                ByteString value = ByteString.copyFrom(new byte[256 * 1024]);
                for (int i = 0; i < 40; i++) { // 10 MiB: far past the transport's buffers
                    kv.withDeadlineAfter(10, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                            .setKey(ByteString.copyFromUtf8("slow/" + i)).setValue(value).build());
                }

                call.get().request(Integer.MAX_VALUE); // read again: events, then the cancellation
                int events = 0;
                WatchResponse r;
                while ((r = responses.poll(10, TimeUnit.SECONDS)) != null && !r.getCanceled()) {
                    events += r.getEventsCount();
                }
                assertThat(r).as("a cancel response after %d events", events).isNotNull();
                assertThat(r.getCancelReason()).startsWith("etcdserver: watcher is too slow");
                assertThat(events).isLessThan(40);
                requests.onCompleted();
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
