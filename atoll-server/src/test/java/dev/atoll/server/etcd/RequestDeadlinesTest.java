package dev.atoll.server.etcd;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/** A request still pending at its deadline fails with a TimeoutException at the next sweep; nothing else does. */
class RequestDeadlinesTest {
    private long nowNanos = 1_000;
    private final RequestDeadlines deadlines = new RequestDeadlines(100, 3, () -> nowNanos);

    private void advanceMillis(long millis) {
        nowNanos += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void aPendingRequestFailsOnlyOnceItsDeadlinePassed() {
        var request = deadlines.watch(new CompletableFuture<>());
        advanceMillis(99);
        assertThat(deadlines.sweep()).isZero();
        assertThat(request).isNotDone();
        advanceMillis(1);
        assertThat(deadlines.sweep()).isEqualTo(1);
        assertThat(request).isCompletedExceptionally();
        assertThat(request.exceptionNow()).isInstanceOf(TimeoutException.class);
        assertThat(deadlines.watchedCount()).isZero();
    }

    @Test
    void answeredRequestsAreForgottenAndNeverFailed() {
        var answered = deadlines.watch(new CompletableFuture<Object>());
        var pending = deadlines.watch(new CompletableFuture<Object>());
        answered.complete("applied");
        assertThat(deadlines.sweep()).isZero();
        assertThat(deadlines.watchedCount()).isEqualTo(1); // the answered one, at the head, is gone
        advanceMillis(100);
        assertThat(deadlines.sweep()).isEqualTo(1);
        assertThat(answered.join()).isEqualTo("applied");
        assertThat(pending).isCompletedExceptionally();
    }

    @Test
    void aSweepStopsAtTheFirstRequestNotYetDue() {
        var first = deadlines.watch(new CompletableFuture<>());
        advanceMillis(50);
        var second = deadlines.watch(new CompletableFuture<>());
        advanceMillis(50);
        assertThat(deadlines.sweep()).isEqualTo(1);
        assertThat(first).isCompletedExceptionally();
        assertThat(second).isNotDone();
        advanceMillis(50);
        assertThat(deadlines.sweep()).isEqualTo(1);
        assertThat(second).isCompletedExceptionally();
    }

    @Test
    void pastItsBoundARequestGetsATimerOfItsOwnAndTheQueueStaysBounded() {
        for (int i = 0; i < 3; i++) {
            deadlines.watch(new CompletableFuture<>());
        }
        var beyond = deadlines.watch(new CompletableFuture<>());
        assertThat(deadlines.watchedCount()).isEqualTo(3);
        advanceMillis(100);
        assertThat(deadlines.sweep()).isEqualTo(3); // the three watched; beyond has a JDK timer of its own
        assertThat(deadlines.watchedCount()).isZero();
        assertThat(deadlines.watch(new CompletableFuture<>())).isNotSameAs(beyond);
        assertThat(deadlines.watchedCount()).isEqualTo(1);
    }
}
