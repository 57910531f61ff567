package dev.atoll.server.etcd;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The continuations of a round share one hand-off to the pool, in order, and stay bounded. */
class CoalescingExecutorTest {
    /** A pool that runs what it is given only when told to, and refuses past its capacity. */
    private static final class ManualPool implements Executor {
        final ArrayDeque<Runnable> queued = new ArrayDeque<>();
        int capacity = Integer.MAX_VALUE;
        int handOffs;

        @Override
        public void execute(Runnable command) {
            if (queued.size() >= capacity) {
                throw new RejectedExecutionException("pool full");
            }
            handOffs++;
            queued.add(command);
        }

        void runAll() {
            Runnable r;
            while ((r = queued.poll()) != null) {
                r.run();
            }
        }
    }

    private final ManualPool pool = new ManualPool();
    private final CoalescingExecutor executor = new CoalescingExecutor(pool, 100);
    private final List<String> ran = new ArrayList<>();

    @Test
    void tasksGivenBeforeTheDrainRunsShareOneHandOffAndRunInOrder() {
        for (int i = 0; i < 10; i++) {
            String n = "task " + i;
            executor.execute(() -> ran.add(n));
        }
        assertThat(pool.handOffs).isEqualTo(1);
        pool.runAll();
        assertThat(ran).containsExactly("task 0", "task 1", "task 2", "task 3", "task 4", "task 5", "task 6",
                "task 7", "task 8", "task 9");
    }

    @Test
    void aTaskGivenDuringADrainJoinsIt() {
        executor.execute(() -> {
            ran.add("first");
            executor.execute(() -> ran.add("given while draining"));
        });
        pool.runAll();
        assertThat(ran).containsExactly("first", "given while draining");
        assertThat(pool.handOffs).isEqualTo(1);
        executor.execute(() -> ran.add("after the drain"));
        assertThat(pool.handOffs).isEqualTo(2);
        pool.runAll();
        assertThat(ran).endsWith("after the drain");
    }

    @Test
    void aFailingTaskDoesNotStopTheOthers() {
        executor.execute(() -> {
            throw new IllegalStateException("a broken continuation (reported, as the pool would)");
        });
        executor.execute(() -> ran.add("next"));
        pool.runAll();
        assertThat(ran).containsExactly("next");
    }

    @Test
    void pastItsBoundATaskIsRefused() {
        var bounded = new CoalescingExecutor(pool, 2);
        bounded.execute(() -> { });
        bounded.execute(() -> { });
        assertThatThrownBy(() -> bounded.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
        pool.runAll();
        bounded.execute(() -> { }); // room again once drained
    }

    @Test
    void aTaskWhoseDrainThePoolRefusesIsRefusedAndALaterOneStillRuns() {
        pool.capacity = 0;
        assertThatThrownBy(() -> executor.execute(() -> ran.add("refused")))
                .isInstanceOf(RejectedExecutionException.class);
        pool.capacity = 1;
        executor.execute(() -> ran.add("later"));
        pool.runAll();
        assertThat(ran).containsExactly("later");
    }
}
