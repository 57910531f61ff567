package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.WatchCreateRequest;
import dev.atoll.proto.etcd.WatchGrpc;
import dev.atoll.proto.etcd.WatchRequest;
import dev.atoll.proto.etcd.WatchResponse;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.atoll.server.etcd.EtcdKvTest.bytes;
import static dev.atoll.server.etcd.EtcdKvTest.text;
import static org.assertj.core.api.Assertions.assertThat;

/** The Watch service through jetcd and a raw stream: history, live events, filters, compaction. */
class EtcdWatchTest {
    @TempDir
    static Path dir;
    private static SingleNodeEtcd node;
    private static Client client;
    private static KV kv;
    private static ManagedChannel raw;

    @BeforeAll
    static void start() throws InterruptedException {
        node = SingleNodeEtcd.start(dir, EtcdOptions.defaults());
        client = Client.builder().endpoints(node.endpoint()).build();
        kv = client.getKVClient();
        raw = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
    }

    @AfterAll
    static void stop() {
        if (raw != null) {
            raw.shutdownNow();
        }
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    private static long put(String key, String value) throws Exception {
        return kv.put(bytes(key), bytes(value)).get(10, TimeUnit.SECONDS).getHeader().getRevision();
    }

    @Test
    void watchFromAPastRevisionSeesHistoryThenLiveEventsInOrder() throws Exception {
        long first = put("w/a", "1");
        put("w/b", "2");
        kv.delete(bytes("w/a")).get(10, TimeUnit.SECONDS);
        put("other", "x");

        var events = new LinkedBlockingQueue<WatchEvent>();
        var option = WatchOption.builder().isPrefix(true).withRevision(first).withPrevKV(true).build();
        try (Watch.Watcher w = client.getWatchClient().watch(bytes("w/"), option,
                r -> events.addAll(r.getEvents()))) {
            put("w/c", "3");
            put("w/b", "4");
            List<String> seen = new ArrayList<>();
            long lastRevision = 0;
            for (int i = 0; i < 5; i++) {
                WatchEvent e = events.poll(10, TimeUnit.SECONDS);
                assertThat(e).as("event %d of 5 (seen %s)", i + 1, seen).isNotNull();
                assertThat(e.getKeyValue().getModRevision()).isGreaterThan(lastRevision);
                lastRevision = e.getKeyValue().getModRevision();
                seen.add(e.getEventType() + " " + text(e.getKeyValue().getKey())
                        + (e.getEventType() == WatchEvent.EventType.PUT ? "=" + text(e.getKeyValue().getValue()) : ""));
            }
            assertThat(seen).containsExactly("PUT w/a=1", "PUT w/b=2", "DELETE w/a", "PUT w/c=3", "PUT w/b=4");
            assertThat(events.poll(200, TimeUnit.MILLISECONDS)).as("no duplicate").isNull();
        }
    }

    @Test
    void filtersDropPutsOrDeletes() throws Exception {
        var events = new LinkedBlockingQueue<WatchEvent>();
        var option = WatchOption.builder().isPrefix(true).withNoPut(true).build();
        try (Watch.Watcher w = client.getWatchClient().watch(bytes("f/"), option, r -> events.addAll(r.getEvents()))) {
            Thread.sleep(100); // the watch is created before the writes
            put("f/a", "1");
            kv.delete(bytes("f/a")).get(10, TimeUnit.SECONDS);
            WatchEvent e = events.poll(10, TimeUnit.SECONDS);
            assertThat(e).isNotNull();
            assertThat(e.getEventType()).isEqualTo(WatchEvent.EventType.DELETE);
            assertThat(events.poll(200, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    @Test
    void watchFromACompactedRevisionIsCancelledWithTheCompactRevision() throws Exception {
        long old = put("c/a", "1");
        long now = put("c/a", "2");
        kv.compact(now).get(10, TimeUnit.SECONDS);

        var created = new CompletableFuture<WatchResponse>();
        var cancelled = new CompletableFuture<WatchResponse>();
        StreamObserver<WatchRequest> requests = WatchGrpc.newStub(raw).watch(new StreamObserver<>() {
            @Override
            public void onNext(WatchResponse r) {
                if (r.getCreated()) {
                    created.complete(r);
                } else if (r.getCanceled()) {
                    cancelled.complete(r);
                }
            }

            @Override
            public void onError(Throwable t) {
                cancelled.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("c/a")).setStartRevision(old)).build());
        WatchResponse c = created.get(10, TimeUnit.SECONDS);
        WatchResponse r = cancelled.get(10, TimeUnit.SECONDS);
        assertThat(r.getWatchId()).isEqualTo(c.getWatchId());
        assertThat(r.getCompactRevision()).isEqualTo(now);
        assertThat(r.getCancelReason()).isEqualTo("etcdserver: mvcc: required revision has been compacted");
        requests.onCompleted();

        // jetcd surfaces it as its CompactedException
        var error = new CompletableFuture<Throwable>();
        try (Watch.Watcher w = client.getWatchClient().watch(bytes("c/a"),
                WatchOption.builder().withRevision(old).build(), Watch.listener(x -> { }, error::complete))) {
            assertThat(error.get(10, TimeUnit.SECONDS)).isInstanceOf(CompactedException.class);
        }
    }

    @Test
    void progressRequestAnswersWithTheRevisionServedThrough() throws Exception {
        long revision = put("p/a", "1");
        var progress = new CompletableFuture<WatchResponse>();
        var created = new CompletableFuture<WatchResponse>();
        StreamObserver<WatchRequest> requests = WatchGrpc.newStub(raw).watch(new StreamObserver<>() {
            @Override
            public void onNext(WatchResponse r) {
                if (r.getCreated()) {
                    created.complete(r);
                } else if (r.getWatchId() == -1) {
                    progress.complete(r);
                }
            }

            @Override
            public void onError(Throwable t) {
                progress.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("p/a"))).build());
        created.get(10, TimeUnit.SECONDS);
        requests.onNext(WatchRequest.newBuilder().setProgressRequest(
                dev.atoll.proto.etcd.WatchProgressRequest.getDefaultInstance()).build());
        assertThat(progress.get(10, TimeUnit.SECONDS).getHeader().getRevision()).isGreaterThanOrEqualTo(revision);
        requests.onCompleted();
    }
}
