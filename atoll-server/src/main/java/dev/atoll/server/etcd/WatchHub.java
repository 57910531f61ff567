package dev.atoll.server.etcd;

import dev.atoll.proto.etcd.ResponseHeader;
import dev.atoll.proto.etcd.WatchResponse;
import dev.atoll.storage.mvcc.Event;
import dev.atoll.storage.mvcc.HistoryPage;
import dev.atoll.storage.mvcc.MvccError;
import dev.atoll.storage.mvcc.Outcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static dev.atoll.core.Check.check;

/**
 * Hands the store's changes to watchers, in (revision, sub-revision) order with no gap and no
 * duplicate. The state machine calls {@link #publish} on the loop thread after every applied batch that
 * moved the revision; the hub reads the new events from the store's history once and gives each
 * <em>synced</em> watcher the ones it matches, one response per revision. A watcher starting in the past first catches up
 * from history on the executor, page by page, and joins the synced set under the hub's lock
 * once it has read everything published; its cursor (revision, sub-revision) filters out
 * anything it already has, so the hand-over neither loses nor repeats an event.
 *
 * <p>Bounds: each watcher has at most {@code watchEventsQueuedMax} events queued unsent. A
 * synced watcher over it is cancelled with a reason (the hub never grows without bound); a
 * catching-up watcher pauses until its stream drains.
 */
public final class WatchHub {
    private static final Logger log = LoggerFactory.getLogger(WatchHub.class);
    static final String COMPACTED_REASON = "etcdserver: mvcc: required revision has been compacted";

    /** What the hub reads; the state machine, under its read lock. */
    interface Store {
        Outcome<HistoryPage> history(long fromRevision, long fromSubRevision, int eventsMax, boolean prevKv);

        long currentRevision();

        long compactedRevision();
    }

    /** Where a watcher's responses go: its Watch stream's bounded outbox. */
    interface Sink {
        /** Queues an events response; false (nothing queued) when the watcher's queue would pass its bound. */
        boolean offerEvents(Watcher watcher, WatchResponse response, int eventCount);

        /** Queues a control response (cancel, progress); bounded by the stream's watcher count. */
        void offerControl(WatchResponse response);

        /** Events the watcher has queued unsent. */
        int queuedEvents(Watcher watcher);
    }

    /** One watch: what it matches and how far it has been served. */
    public static final class Watcher {
        final long id;
        final byte[] key;
        final byte[] rangeEnd;
        final long startRevision;
        final boolean prevKv;
        final boolean noPut;
        final boolean noDelete;
        final boolean progressNotify;
        final Sink sink;
        /** The next (revision, sub-revision) to deliver: guarded by the hub's lock once synced. */
        long cursorRevision;
        long cursorSub;
        boolean synced;
        /** Catch-up stopped because the queue is full; the stream resumes it when it drains. */
        volatile boolean catchUpPaused;
        volatile boolean cancelled;
        volatile boolean sentSinceProgress;

        Watcher(long id, byte[] key, byte[] rangeEnd, long startRevision, boolean prevKv, boolean noPut,
                boolean noDelete, boolean progressNotify, Sink sink) {
            this.id = id;
            this.key = key;
            this.rangeEnd = rangeEnd;
            this.startRevision = startRevision;
            this.prevKv = prevKv;
            this.noPut = noPut;
            this.noDelete = noDelete;
            this.progressNotify = progressNotify;
            this.sink = sink;
        }

        public long id() {
            return id;
        }

        boolean matches(Event e) {
            if (e.type() == Event.Type.PUT ? noPut : noDelete) {
                return false;
            }
            byte[] k = e.kv().key();
            if (rangeEnd.length == 0) {
                return Arrays.equals(k, key);
            }
            if (Arrays.compareUnsigned(k, key) < 0) {
                return false;
            }
            return (rangeEnd.length == 1 && rangeEnd[0] == 0) || Arrays.compareUnsigned(k, rangeEnd) < 0;
        }

        boolean before(Event e) {
            return e.revision() < cursorRevision || (e.revision() == cursorRevision && e.subRevision() < cursorSub);
        }

        void advancePast(Event e) {
            cursorRevision = e.revision();
            cursorSub = e.subRevision() + 1;
        }
    }

    private final Object lock = new Object();
    private final Store store;
    private final Executor executor;
    private final int eventsQueuedMax;
    private final int historyPageEventsMax;
    private final Set<Watcher> syncedWatchers = new LinkedHashSet<>();
    /** Every event with a revision <= this has been handed to the synced watchers. */
    private long publishedRevision;

    WatchHub(Store store, Executor executor, int eventsQueuedMax, int historyPageEventsMax) {
        this.store = store;
        this.executor = executor;
        this.eventsQueuedMax = eventsQueuedMax;
        this.historyPageEventsMax = historyPageEventsMax;
        this.publishedRevision = store.currentRevision();
    }

    int eventsQueuedMax() {
        return eventsQueuedMax;
    }

    long publishedRevision() {
        synchronized (lock) {
            return publishedRevision;
        }
    }

    /** Loop thread: the store moved to {@code revision}; hand the new events to synced watchers. */
    void publish(long revision) {
        synchronized (lock) {
            check(revision >= publishedRevision, "published revisions never go down: %d after %d", revision,
                    publishedRevision);
            if (syncedWatchers.isEmpty()) {
                publishedRevision = revision;
                return;
            }
            boolean prevKv = syncedWatchers.stream().anyMatch(w -> w.prevKv);
            long fromRevision = publishedRevision + 1;
            long fromSub = 0;
            while (true) {
                Outcome<HistoryPage> outcome = store.history(fromRevision, fromSub, historyPageEventsMax, prevKv);
                // the store applied these revisions a moment ago on this thread and cannot have
                // compacted them since: a compaction is itself applied on this thread
                check(outcome instanceof Outcome.Done<HistoryPage>, "fresh history is readable: %s", outcome);
                HistoryPage page = outcome.response();
                deliverByRevision(page.events());
                if (!page.more() || page.events().isEmpty()) {
                    break;
                }
                Event last = page.events().getLast();
                fromRevision = last.revision();
                fromSub = last.subRevision() + 1;
            }
            publishedRevision = revision;
        }
    }

    /**
     * Called with the lock held: the events of a batch of applied entries go out one revision at
     * a time, each in its own response headed by that revision, as etcd notifies per write txn
     * (and as when every entry was published on its own).
     */
    private void deliverByRevision(List<Event> events) {
        int from = 0;
        while (from < events.size()) {
            long revision = events.get(from).revision();
            int to = from + 1;
            while (to < events.size() && events.get(to).revision() == revision) {
                to++;
            }
            // a copy per revision: a watcher cancelled as too slow gets nothing after it
            deliver(List.copyOf(syncedWatchers), events.subList(from, to), revision);
            from = to;
        }
    }

    /** Called with the lock held: give each synced watcher its share of {@code events}. */
    private void deliver(List<Watcher> watchers, List<Event> events, long headerRevision) {
        for (Watcher w : watchers) {
            List<Event> mine = select(w, events);
            if (mine.isEmpty()) {
                continue;
            }
            if (!w.sink.offerEvents(w, eventsResponse(w, mine, headerRevision), mine.size())) {
                syncedWatchers.remove(w);
                w.cancelled = true;
                w.sink.offerControl(WatchResponse.newBuilder().setHeader(headerAt(headerRevision))
                        .setWatchId(w.id).setCanceled(true)
                        .setCancelReason("etcdserver: watcher is too slow: more than " + eventsQueuedMax
                                + " events queued unsent (watchEventsQueuedMax)")
                        .build());
                log.info("watch_cancelled_slow watch_id={} events_queued_max={}", w.id, eventsQueuedMax);
            }
        }
    }

    /** The events after the watcher's cursor that it matches; moves the cursor past all of them. */
    private static List<Event> select(Watcher w, List<Event> events) {
        List<Event> mine = new ArrayList<>();
        for (Event e : events) {
            if (w.before(e)) {
                continue;
            }
            w.advancePast(e);
            if (w.matches(e)) {
                mine.add(w.prevKv ? e : new Event(e.type(), e.kv(), Optional.empty(), e.subRevision()));
            }
        }
        return mine;
    }

    private WatchResponse eventsResponse(Watcher w, List<Event> events, long headerRevision) {
        var b = WatchResponse.newBuilder().setHeader(headerAt(headerRevision)).setWatchId(w.id);
        for (Event e : events) {
            b.addEvents(EtcdCodec.toProto(e));
        }
        w.sentSinceProgress = true;
        return b.build();
    }

    /** Starts serving a watcher whose created response is already queued. */
    void register(Watcher w) {
        synchronized (lock) {
            if (w.startRevision <= 0 || w.startRevision > publishedRevision) {
                w.cursorRevision = w.startRevision <= 0 ? publishedRevision + 1 : w.startRevision;
                w.cursorSub = 0;
                w.synced = true;
                syncedWatchers.add(w);
                return;
            }
            w.cursorRevision = w.startRevision;
            w.cursorSub = 0;
        }
        scheduleCatchUp(w);
    }

    void unregister(Watcher w) {
        w.cancelled = true;
        synchronized (lock) {
            syncedWatchers.remove(w);
        }
    }

    /** The stream drained: a paused catch-up continues. */
    void resume(Watcher w) {
        if (w.catchUpPaused && !w.cancelled) {
            w.catchUpPaused = false;
            scheduleCatchUp(w);
        }
    }

    /** Every watcher's state may be behind a replaced store (snapshot install): all catch up again from history. */
    void reset() {
        List<Watcher> watchers;
        synchronized (lock) {
            publishedRevision = store.currentRevision();
            watchers = List.copyOf(syncedWatchers);
            syncedWatchers.clear();
            watchers.forEach(w -> w.synced = false);
        }
        watchers.forEach(this::scheduleCatchUp);
    }

    /** A header with the revision only: the stream fills in cluster, member and term when it sends. */
    private static ResponseHeader headerAt(long revision) {
        return ResponseHeader.newBuilder().setRevision(revision).build();
    }

    /** Every synced watcher that asked for progress notifications and got nothing since the last one. */
    void notifyProgress() {
        synchronized (lock) {
            for (Watcher w : syncedWatchers) {
                if (w.progressNotify && !w.sentSinceProgress) {
                    w.sink.offerControl(WatchResponse.newBuilder().setHeader(headerAt(publishedRevision))
                            .setWatchId(w.id).build());
                }
                w.sentSinceProgress = false;
            }
        }
    }

    /** The revision through which every event of these watchers has been queued (for a progress response). */
    long progressRevision(List<Watcher> watchers) {
        synchronized (lock) {
            long revision = publishedRevision;
            for (Watcher w : watchers) {
                if (!w.synced) {
                    revision = Math.min(revision, w.cursorRevision - 1);
                }
            }
            return Math.max(revision, 0);
        }
    }

    private void scheduleCatchUp(Watcher w) {
        try {
            executor.execute(() -> catchUp(w));
        } catch (RejectedExecutionException e) {
            cancel(w, "etcdserver: too many requests", 0);
        }
    }

    /** Executor: one page of history for a watcher behind the published revision; joins the synced set when done. */
    private void catchUp(Watcher w) {
        if (w.cancelled) {
            return;
        }
        if (w.sink.queuedEvents(w) >= eventsQueuedMax / 2) {
            w.catchUpPaused = true;
            if (w.sink.queuedEvents(w) >= eventsQueuedMax / 2) {
                return; // the stream calls resume() when it drains
            }
            w.catchUpPaused = false;
        }
        int pageMax = Math.max(1, Math.min(historyPageEventsMax, eventsQueuedMax - w.sink.queuedEvents(w)));
        Outcome<HistoryPage> outcome = store.history(w.cursorRevision, w.cursorSub, pageMax, w.prevKv);
        if (outcome instanceof Outcome.Refused<HistoryPage> r) {
            check(r.error() == MvccError.COMPACTED, "history refuses only compacted revisions: %s", r);
            cancel(w, COMPACTED_REASON, store.compactedRevision());
            return;
        }
        HistoryPage page = outcome.response();
        List<Event> mine = select(w, page.events());
        if (!mine.isEmpty() && !w.sink.offerEvents(w, eventsResponse(w, mine, page.currentRevision()), mine.size())) {
            // cannot happen while pages are sized to the room left, but never drop events silently
            cancel(w, "etcdserver: watcher is too slow", 0);
            return;
        }
        if (!page.more()) {
            synchronized (lock) {
                if (page.currentRevision() >= publishedRevision && !w.cancelled) {
                    // everything up to page.currentRevision was read; later events come from publish
                    if (w.cursorRevision <= page.currentRevision()) {
                        w.cursorRevision = page.currentRevision() + 1;
                        w.cursorSub = 0;
                    }
                    w.synced = true;
                    syncedWatchers.add(w);
                    return;
                }
            }
        }
        scheduleCatchUp(w);
    }

    private void cancel(Watcher w, String reason, long compactRevision) {
        unregister(w);
        w.sink.offerControl(WatchResponse.newBuilder().setHeader(headerAt(store.currentRevision()))
                .setWatchId(w.id).setCanceled(true).setCompactRevision(compactRevision).setCancelReason(reason)
                .build());
    }
}
