package dev.atoll.server.runtime;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NodeRuntimeTicksTest {
    private static final long TICK = 50_000_000L;

    @Test
    void theTickDueAndEveryWholePeriodSinceAreDue() {
        long due = 1_000_000_000L;
        assertThat(NodeRuntime.ticksDue(due, due, TICK)).as("exactly on time").isEqualTo(1);
        assertThat(NodeRuntime.ticksDue(due + TICK - 1, due, TICK)).as("late by less than a period").isEqualTo(1);
        assertThat(NodeRuntime.ticksDue(due + TICK, due, TICK)).as("the next one is due too").isEqualTo(2);
        assertThat(NodeRuntime.ticksDue(due + 60 * 1_000_000_000L, due, TICK)).as("after a 60 s pause")
                .isEqualTo(1201);
    }

    @Test
    void theClockWrappingAroundDoesNotMatter() {
        long due = Long.MAX_VALUE - TICK / 2;
        assertThat(NodeRuntime.ticksDue(due + 3 * TICK, due, TICK)).isEqualTo(4);
    }
}
