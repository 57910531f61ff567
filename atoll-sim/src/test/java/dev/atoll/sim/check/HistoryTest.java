package dev.atoll.sim.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atoll.core.InvariantViolation;
import dev.atoll.sim.check.History.Outcome;
import org.junit.jupiter.api.Test;

class HistoryTest {
    private final History history = new History();

    @Test
    void recordsOperationsInInvocationOrderWithTheirOutcomes() {
        int write = history.invoke(1, 10, new Op.Put("x", "1"));
        int read = history.invoke(2, 10, new Op.Get("x"));
        int swap = history.invoke(3, 11, new Op.Cas("x", "1", "2"));
        history.ok(write, 12, null);
        history.ok(read, 12, "1");
        history.info(swap, 13);
        int lost = history.invoke(1, 14, new Op.Put("x", "3"));
        history.fail(lost, 15);
        history.invoke(2, 15, new Op.Get("x"));

        assertThat(history.size()).isEqualTo(5);
        assertThat(history.eventCount()).isEqualTo(9);
        assertThat(history.operations()).extracting(History.Operation::outcome)
                .containsExactly(Outcome.OK, Outcome.OK, Outcome.INFO, Outcome.FAIL, Outcome.PENDING);
        assertThat(history.operation(write).precedes(history.operation(lost))).isTrue();
        assertThat(history.operation(write).precedes(history.operation(read))).isFalse();
        assertThat(history.operation(swap).precedes(history.operation(lost))).as("info never precedes").isFalse();
    }

    @Test
    void printsOneEventPerLine() {
        int write = history.invoke(1, 10, new Op.Put("x", "1"));
        int read = history.invoke(2, 11, new Op.Get("x"));
        history.ok(read, 12, null);
        history.info(write, 13);

        assertThat(history.toString()).isEqualTo("""
                history: 2 operations, 4 events
                     0 t=10       c1   invoke #0 put x "1"
                     1 t=11       c2   invoke #1 get x
                     2 t=12       c2   ok     #1 get x -> absent
                     3 t=13       c1   info   #0 put x "1"
                """);
        assertThat(history.operation(read)).hasToString("#1 c2 get x -> absent  [t=11..12 ok]");
    }

    @Test
    void anOperationCompletesAtMostOnce() {
        int write = history.invoke(1, 1, new Op.Put("x", "1"));
        history.ok(write, 2, null);
        assertThatThrownBy(() -> history.info(write, 3)).isInstanceOf(InvariantViolation.class)
                .hasMessageContaining("completes at most once");
    }

    @Test
    void timeNeverGoesBackwards() {
        history.invoke(1, 5, new Op.Get("x"));
        assertThatThrownBy(() -> history.invoke(2, 4, new Op.Get("x"))).isInstanceOf(InvariantViolation.class);
    }

    @Test
    void resultsMustMatchTheOperation() {
        int swap = history.invoke(1, 1, new Op.Cas("x", null, "1"));
        int write = history.invoke(1, 1, new Op.Put("x", "1"));
        assertThatThrownBy(() -> history.ok(swap, 2, "yes")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> history.ok(write, 2, "OK")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void isBoundedByOperationsMax() {
        var small = new History(1);
        small.invoke(1, 1, new Op.Get("x"));
        assertThatThrownBy(() -> small.invoke(1, 2, new Op.Get("x"))).isInstanceOf(IllegalStateException.class);
    }
}
