package dev.atoll.server.etcd;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs its tasks in order on {@code delegate}, one drain at a time: the tasks given while a
 * drain is queued or running join it instead of each taking a thread of the pool. The runtime's
 * loop completes a round's reads and writes together; each completion handed to a thread pool
 * of its own woke a parked thread per request (a futex wake on the loop, a context switch on the
 * pool), which the 2-core profile (bench/RESULTS.md, 12-02 later) showed as a cost per request.
 * Here a round costs one hand-off. Bounded: past {@code tasksQueuedMax} waiting tasks, or when
 * the delegate refuses the drain, a task is refused with RejectedExecutionException, as the pool
 * refuses one. Thread-safe.
 */
final class CoalescingExecutor implements Executor {
    private final Executor delegate;
    private final int tasksQueuedMax;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** A drain is queued on the delegate or running. */
    private final AtomicBoolean draining = new AtomicBoolean();

    CoalescingExecutor(Executor delegate, int tasksQueuedMax) {
        if (tasksQueuedMax < 1) {
            throw new IllegalArgumentException("tasksQueuedMax must be at least 1: " + tasksQueuedMax);
        }
        this.delegate = delegate;
        this.tasksQueuedMax = tasksQueuedMax;
    }

    @Override
    public void execute(Runnable task) {
        if (queued.incrementAndGet() > tasksQueuedMax) {
            queued.decrementAndGet();
            throw new RejectedExecutionException("more than " + tasksQueuedMax + " tasks queued");
        }
        tasks.add(task);
        if (draining.compareAndSet(false, true)) {
            try {
                delegate.execute(this::drain);
            } catch (RejectedExecutionException e) {
                draining.set(false);
                // the task is refused, as the pool would refuse it; the others wait for the next drain
                if (tasks.remove(task)) {
                    queued.decrementAndGet();
                    throw e;
                }
            }
        }
    }

    private void drain() {
        try {
            do {
                Runnable task;
                while ((task = tasks.poll()) != null) {
                    queued.decrementAndGet();
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        // a task's failure is its own (the pool would report it and go on): the
                        // others still run
                        Thread t = Thread.currentThread();
                        t.getUncaughtExceptionHandler().uncaughtException(t, e);
                    }
                }
                draining.set(false);
                // a task added after the poll above and before the flag fell found a drain running
            } while (!tasks.isEmpty() && draining.compareAndSet(false, true));
        } catch (Error e) {
            draining.set(false);
            throw e;
        }
    }
}
