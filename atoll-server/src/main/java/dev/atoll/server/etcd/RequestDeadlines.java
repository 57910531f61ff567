package dev.atoll.server.etcd;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The request timeout of the etcd API: fails a proposal or read barrier still pending
 * {@code timeoutMillis} after it was watched with a {@link TimeoutException}, from a periodic
 * {@link #sweep} rather than a JDK timer per request. On JDK 25 {@code orTimeout} hands every
 * timeout and its cancellation to the common pool's delay scheduler, which then wakes: 0.5 to 1
 * thread wake per put on the 2-core machine (bench/RESULTS.md, 12-02 afternoon). Here
 * watching is a lock-free append, and the sweep (on a scheduler thread that wakes anyway) walks
 * only the head of the queue: every request has the same timeout, so the queue is in deadline
 * order. A timeout fires up to one sweep period late.
 *
 * <p>Bounded: with {@code watchedMax} requests queued (done ones leave at the sweep that reaches
 * them), a request is watched by {@code orTimeout} instead. Thread-safe.
 */
final class RequestDeadlines {
    private record Watched(long deadlineNanos, CompletableFuture<?> future) {
    }

    private final long timeoutMillis;
    private final long timeoutNanos;
    private final int watchedMax;
    private final LongSupplier nanoClock;
    private final ConcurrentLinkedQueue<Watched> watched = new ConcurrentLinkedQueue<>();
    private final AtomicInteger watchedCount = new AtomicInteger();

    RequestDeadlines(long timeoutMillis, int watchedMax, LongSupplier nanoClock) {
        if (timeoutMillis <= 0 || watchedMax < 1) {
            throw new IllegalArgumentException("timeoutMillis > 0 and watchedMax >= 1: " + timeoutMillis + ", "
                    + watchedMax);
        }
        this.timeoutMillis = timeoutMillis;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.watchedMax = watchedMax;
        this.nanoClock = nanoClock;
    }

    /** Fails {@code future} with a TimeoutException unless it completes within the timeout; returns it. */
    <T> CompletableFuture<T> watch(CompletableFuture<T> future) {
        if (future.isDone()) {
            return future;
        }
        if (watchedCount.incrementAndGet() > watchedMax) {
            watchedCount.decrementAndGet();
            return future.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
        }
        watched.add(new Watched(nanoClock.getAsLong() + timeoutNanos, future));
        return future;
    }

    /**
     * Fails every watched request whose deadline passed and forgets those done, from the oldest
     * on, up to the first one still pending and not yet due. Returns how many it failed.
     */
    int sweep() {
        long now = nanoClock.getAsLong();
        int failed = 0;
        for (Watched w; (w = watched.peek()) != null; ) {
            boolean done = w.future().isDone();
            if (!done && w.deadlineNanos() - now > 0) {
                break;
            }
            watched.poll();
            watchedCount.decrementAndGet();
            if (!done && w.future().completeExceptionally(new TimeoutException(
                    "no outcome within " + timeoutMillis + " ms"))) {
                failed++;
            }
        }
        return failed;
    }

    /** Requests watched and not yet forgotten by a sweep. */
    int watchedCount() {
        return watchedCount.get();
    }
}
