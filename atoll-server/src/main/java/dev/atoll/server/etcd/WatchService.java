package dev.atoll.server.etcd;

import dev.atoll.proto.etcd.WatchCreateRequest;
import dev.atoll.proto.etcd.WatchGrpc;
import dev.atoll.proto.etcd.WatchRequest;
import dev.atoll.proto.etcd.WatchResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

/**
 * etcd's Watch service: one bidirectional stream per client, holding up to
 * watchersPerStreamMax watchers served by the {@link WatchHub}. Watches are served from this
 * member's store (any member may serve them, as in etcd). Responses go through a per-stream
 * outbox drained only while the transport is ready, so a slow client holds at most
 * watchEventsQueuedMax events per watcher in memory.
 */
public final class WatchService extends WatchGrpc.WatchImplBase {
    /** etcd's watch id for responses that belong to no single watcher (progress). */
    static final long NO_WATCH_ID = -1;

    private final EtcdGroup group;
    private final WatchHub hub;

    public WatchService(EtcdGroup group) {
        this.group = group;
        this.hub = group.stateMachine().watchHub();
    }

    @Override
    public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
        var stream = new Stream((ServerCallStreamObserver<WatchResponse>) responses);
        stream.out.setOnReadyHandler(stream::scheduleDrain);
        stream.out.setOnCancelHandler(stream::close);
        return stream;
    }

    private record Pending(WatchResponse response, WatchHub.Watcher owner, int eventCount) {
    }

    /** One client's Watch stream. Its outbox and counters are guarded by {@code this}. */
    private final class Stream implements StreamObserver<WatchRequest>, WatchHub.Sink {
        final ServerCallStreamObserver<WatchResponse> out;
        private final Map<Long, WatchHub.Watcher> watchers = new HashMap<>();
        private final Map<WatchHub.Watcher, Integer> queuedEvents = new HashMap<>();
        private final ArrayDeque<Pending> outbox = new ArrayDeque<>();
        private long nextWatchId;
        private boolean drainScheduled;
        private boolean closed;

        Stream(ServerCallStreamObserver<WatchResponse> out) {
            this.out = out;
        }

        @Override
        public void onNext(WatchRequest request) {
            switch (request.getRequestUnionCase()) {
                case CREATE_REQUEST -> create(request.getCreateRequest());
                case CANCEL_REQUEST -> cancel(request.getCancelRequest().getWatchId());
                case PROGRESS_REQUEST -> progress();
                case REQUESTUNION_NOT_SET -> {
                    // etcd ignores an empty request
                }
            }
        }

        private void create(WatchCreateRequest c) {
            boolean noPut = false;
            boolean noDelete = false;
            for (WatchCreateRequest.FilterType f : c.getFiltersList()) {
                noPut |= f == WatchCreateRequest.FilterType.NOPUT;
                noDelete |= f == WatchCreateRequest.FilterType.NODELETE;
            }
            long revision = group.stateMachine().currentRevision();
            WatchHub.Watcher w;
            synchronized (this) {
                if (closed) {
                    return;
                }
                String refusal = null;
                long id = c.getWatchId();
                if (watchers.size() >= group.options().watchersPerStreamMax()) {
                    refusal = "etcdserver: too many watchers on one stream (watchersPerStreamMax="
                            + group.options().watchersPerStreamMax() + ")";
                } else if (id != 0 && watchers.containsKey(id)) {
                    refusal = "mvcc: duplicate watch ID provided on the WatchStream";
                } else if (id < 0) {
                    refusal = "etcdserver: watch id must not be negative";
                }
                if (refusal != null) {
                    enqueue(new Pending(WatchResponse.newBuilder().setHeader(group.header(revision))
                            .setWatchId(NO_WATCH_ID).setCreated(true).setCanceled(true).setCancelReason(refusal)
                            .build(), null, 0));
                    return;
                }
                if (id == 0) {
                    // etcd's AutoWatchID: the lowest id not in use, counting from the last one given
                    while (watchers.containsKey(nextWatchId)) {
                        nextWatchId++;
                    }
                    id = nextWatchId++;
                }
                w = new WatchHub.Watcher(id, c.getKey().toByteArray(), c.getRangeEnd().toByteArray(),
                        c.getStartRevision(), c.getPrevKv(), noPut, noDelete, c.getProgressNotify(), this);
                watchers.put(id, w);
                queuedEvents.put(w, 0);
                // the created response goes first: every event of this watcher is queued after it
                enqueue(new Pending(WatchResponse.newBuilder().setHeader(group.header(revision)).setWatchId(id)
                        .setCreated(true).build(), null, 0));
            }
            hub.register(w);
        }

        private void cancel(long id) {
            WatchHub.Watcher w;
            synchronized (this) {
                w = watchers.remove(id);
                if (w == null) {
                    return;
                }
                queuedEvents.remove(w);
                outbox.removeIf(p -> p.owner() == w);
            }
            hub.unregister(w);
            synchronized (this) {
                enqueue(new Pending(WatchResponse.newBuilder()
                        .setHeader(group.header(group.stateMachine().currentRevision())).setWatchId(id)
                        .setCanceled(true).build(), null, 0));
            }
        }

        private void progress() {
            List<WatchHub.Watcher> mine;
            synchronized (this) {
                mine = new ArrayList<>(watchers.values());
            }
            long revision = mine.isEmpty() ? group.stateMachine().currentRevision() : hub.progressRevision(mine);
            synchronized (this) {
                enqueue(new Pending(WatchResponse.newBuilder().setHeader(group.header(revision))
                        .setWatchId(NO_WATCH_ID).build(), null, 0));
            }
        }

        // -------------------------------------------------------------- Sink (called by the hub)

        @Override
        public synchronized boolean offerEvents(WatchHub.Watcher watcher, WatchResponse response, int eventCount) {
            Integer queued = queuedEvents.get(watcher);
            if (queued == null || closed) {
                return true; // cancelled meanwhile: drop quietly
            }
            if (queued + eventCount > hub.eventsQueuedMax()) {
                return false;
            }
            queuedEvents.put(watcher, queued + eventCount);
            enqueue(new Pending(response, watcher, eventCount));
            return true;
        }

        @Override
        public synchronized void offerControl(WatchResponse response) {
            WatchHub.Watcher w = watchers.get(response.getWatchId());
            if (response.getCanceled() && w != null) {
                // the hub cancelled it (compacted, too slow): it is gone from this stream too
                watchers.remove(response.getWatchId());
                queuedEvents.remove(w);
            }
            if (!closed) {
                enqueue(new Pending(response, null, 0));
            }
        }

        @Override
        public synchronized int queuedEvents(WatchHub.Watcher watcher) {
            return queuedEvents.getOrDefault(watcher, 0);
        }

        // -------------------------------------------------------------- outbox

        /** With the lock held. */
        private void enqueue(Pending p) {
            outbox.add(p);
            scheduleDrainLocked();
        }

        void scheduleDrain() {
            synchronized (this) {
                scheduleDrainLocked();
            }
        }

        private void scheduleDrainLocked() {
            if (drainScheduled || closed) {
                return;
            }
            drainScheduled = true;
            try {
                group.executor().execute(this::drain);
            } catch (RejectedExecutionException e) {
                drainScheduled = false;
                closed = true;
                out.onError(EtcdCodec.tooManyRequests());
            }
        }

        private void drain() {
            List<WatchHub.Watcher> drainedOwners = new ArrayList<>();
            synchronized (this) {
                drainScheduled = false;
                while (!closed && out.isReady() && !outbox.isEmpty()) {
                    Pending p = outbox.poll();
                    WatchResponse r = p.response();
                    // the hub stamps only the revision; cluster, member and term are this member's now
                    out.onNext(r.toBuilder().setHeader(group.header(r.getHeader().getRevision())).build());
                    if (p.owner() != null) {
                        queuedEvents.computeIfPresent(p.owner(), (w, n) -> n - p.eventCount());
                        drainedOwners.add(p.owner());
                    }
                }
            }
            for (WatchHub.Watcher w : drainedOwners) {
                hub.resume(w);
            }
        }

        @Override
        public void onError(Throwable t) {
            close();
        }

        @Override
        public void onCompleted() {
            close();
            synchronized (this) {
                out.onCompleted();
            }
        }

        void close() {
            List<WatchHub.Watcher> all;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                all = new ArrayList<>(watchers.values());
                watchers.clear();
                queuedEvents.clear();
                outbox.clear();
            }
            all.forEach(hub::unregister);
        }
    }
}
