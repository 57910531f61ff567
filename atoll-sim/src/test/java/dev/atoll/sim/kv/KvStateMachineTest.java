package dev.atoll.sim.kv;

import dev.atoll.core.InvariantViolation;
import dev.atoll.core.protocol.Entry;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvStateMachineTest {
    private static Entry command(long index, KvCommand c) {
        return new Entry(index, 1, Entry.Kind.COMMAND, c.encode());
    }

    @Test
    void casSucceedsOnlyOnTheExpectedValue() {
        var sm = new KvStateMachine();
        assertThat(sm.apply(command(1, KvCommand.cas(1, "k", null, "a")))).isEqualTo("true");
        assertThat(sm.apply(command(2, KvCommand.cas(2, "k", "b", "c")))).isEqualTo("false");
        assertThat(sm.apply(command(3, KvCommand.cas(3, "k", "a", "d")))).isEqualTo("true");
        assertThat(sm.get("k")).isEqualTo("d");
    }

    @Test
    void snapshotRestoresEveryKeyAndTheAppliedIndex() {
        var sm = new KvStateMachine();
        sm.apply(command(1, KvCommand.put(1, "a", "1")));
        sm.apply(command(2, KvCommand.put(2, "b", "2")));
        sm.apply(new Entry(3, 1, Entry.Kind.NOOP, null));
        var copy = new KvStateMachine();
        copy.restore(3, sm.snapshot());
        assertThat(copy.contents()).isEqualTo(sm.contents());
        assertThat(copy.appliedIndex()).isEqualTo(3);
    }

    @Test
    void anEntryOutOfOrderIsABug() {
        var sm = new KvStateMachine();
        assertThatThrownBy(() -> sm.apply(command(2, KvCommand.put(1, "a", "1"))))
                .isInstanceOf(InvariantViolation.class).hasMessageContaining("in order");
    }

    @Test
    void commandsSurviveEncoding() {
        var c = KvCommand.cas(42, "key", null, "välue");
        assertThat(KvCommand.decode(c.encode())).isEqualTo(c);
    }
}
