package dev.atoll.bench.load;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.WatchCreateRequest;
import dev.atoll.proto.etcd.WatchGrpc;
import dev.atoll.proto.etcd.WatchRequest;
import dev.atoll.proto.etcd.WatchResponse;
import dev.atoll.proto.etcd.mvcc.Event;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The watching side of the watch workload: {@code watcherCount} Watch streams, each with one
 * watcher on the key prefix, spread over the channels. Each PUT event's value starts with the
 * {@link System#nanoTime} at which the put was sent (same process), so the delivery latency of
 * an event is its arrival time minus that stamp.
 */
final class WatchLoad {
    /** The head of every watched value: the send time, big-endian. */
    static final int STAMP_BYTES = Long.BYTES;

    private final List<StreamObserver<WatchRequest>> streams = new ArrayList<>();
    private final CountDownLatch created;
    private final Recorder interval = new Recorder(3);
    private final Recorder measured = new Recorder(3);
    private final LongAdder eventCount = new LongAdder();
    private final LongAdder measuredEventCount = new LongAdder();
    private final AtomicLong lastMeasuredEventNanos = new AtomicLong();
    private final ErrorCounts errors;
    /** Events of puts sent from here on are measured; no put is sent before it is set. */
    private volatile long measureStartNanos = Long.MAX_VALUE;
    private volatile boolean closing;

    static ByteString stamp(long nanos) {
        return ByteString.copyFrom(ByteBuffer.allocate(STAMP_BYTES).putLong(0, nanos));
    }

    WatchLoad(int watcherCount, ErrorCounts errors) {
        this.created = new CountDownLatch(watcherCount);
        this.errors = errors;
    }

    void measureFrom(long startNanos) {
        this.measureStartNanos = startNanos;
    }

    /** Opens the streams and waits until every watcher is created; false if that took too long. */
    boolean open(List<ManagedChannel> channels, int watcherCount, KeySpace keys, long timeoutMillis)
            throws InterruptedException {
        var create = WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                .setKey(keys.prefix()).setRangeEnd(keys.prefixEnd())).build();
        for (int i = 0; i < watcherCount; i++) {
            StreamObserver<WatchRequest> stream = WatchGrpc.newStub(channels.get(i % channels.size()))
                    .watch(new Watcher());
            streams.add(stream);
            stream.onNext(create);
        }
        return created.await(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    long eventCount() {
        return eventCount.sum();
    }

    Histogram intervalHistogram() {
        return interval.getIntervalHistogram();
    }

    LoadResult.WatchDeliveries deliveries(int watcherCount) {
        long events = measuredEventCount.sum();
        double seconds = Math.max(0, lastMeasuredEventNanos.get() - measureStartNanos) / 1e9;
        return new LoadResult.WatchDeliveries(watcherCount, events, seconds > 0 ? events / seconds : 0,
                Latency.of(measured.getIntervalHistogram()));
    }

    void close() {
        closing = true;
        for (StreamObserver<WatchRequest> s : streams) {
            s.onCompleted();
        }
    }

    private final class Watcher implements StreamObserver<WatchResponse> {
        @Override
        public void onNext(WatchResponse response) {
            if (response.getCreated()) {
                created.countDown();
            }
            long now = System.nanoTime();
            for (Event e : response.getEventsList()) {
                ByteString value = e.getKv().getValue();
                if (e.getType() != Event.EventType.PUT || value.size() < STAMP_BYTES) {
                    continue;
                }
                long sentNanos = value.substring(0, STAMP_BYTES).asReadOnlyByteBuffer().getLong();
                long micros = Math.max(0, (now - sentNanos) / 1_000);
                eventCount.increment();
                interval.recordValue(micros);
                if (sentNanos >= measureStartNanos) {
                    measured.recordValue(micros);
                    measuredEventCount.increment();
                    lastMeasuredEventNanos.accumulateAndGet(now, Math::max);
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            if (!closing) {
                errors.add("watch", t);
            }
        }

        @Override
        public void onCompleted() {
        }
    }
}
