package dev.atoll.bench.load;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoadOptionsTest {
    private static LoadOptions parse(String line) {
        return LoadOptions.parse(line.split(" +"));
    }

    @Test
    void bareWorkloadRunsTenSecondsClosedLoopAgainstTheLocalMember() {
        LoadOptions o = parse("put");
        assertThat(o.workload()).isEqualTo(Workload.PUT);
        assertThat(o.endpoints()).containsExactly("127.0.0.1:2379");
        assertThat(o.durationMillis()).isEqualTo(10_000);
        assertThat(o.totalOps()).isZero();
        assertThat(o.openLoop()).isFalse();
        assertThat(o.progress()).isTrue();
        assertThat(o.json()).isFalse();
    }

    @Test
    void everyOptionIsRead() {
        LoadOptions o = parse("range --endpoints http://127.0.0.1:1,127.0.0.1:2 --conns 2 --clients=64 "
                + "--total 5000 --duration 1m --warmup 500ms --key-count 100000 --key-dist zipfian --zipf-theta 0.8 "
                + "--key-size 20 --val-size 8 --prefix k/ --rate 2500 --consistency s --read-ratio 0.25 "
                + "--txn-compare value --watchers 3 --timeout 2.5s --seed 9 --json --no-progress");
        assertThat(o).isEqualTo(new LoadOptions(Workload.RANGE, List.of("127.0.0.1:1", "127.0.0.1:2"), 2, 64,
                5000, 60_000, 500, 100_000, LoadOptions.KeyDistribution.ZIPFIAN, 0.8, 20, 8, "k/", 2500,
                LoadOptions.Consistency.SERIALIZABLE, 0.25, LoadOptions.TxnCompare.VALUE, 3, 2_500, 9, true, false, ""));
        assertThat(o.openLoop()).isTrue();
    }

    @Test
    void aKeyspaceTakesPointReadsAndWritesOnly() {
        LoadOptions o = parse("get --keyspace users --consistency s");
        assertThat(o.sharded()).isTrue();
        assertThat(o.keyspace()).isEqualTo("users");
        assertThat(parse("put").sharded()).isFalse();
        assertThatThrownBy(() -> parse("txn --keyspace users")).hasMessageStartingWith("keyspace:");
        assertThatThrownBy(() -> parse("watch --keyspace users")).hasMessageStartingWith("keyspace:");
    }

    @Test
    void totalAloneHasNoTimeLimit() {
        LoadOptions o = parse("txn --total 100");
        assertThat(o.totalOps()).isEqualTo(100);
        assertThat(o.durationMillis()).isZero();
    }

    @Test
    void durationsTakeUnits() {
        assertThat(LoadOptions.millis("d", "250ms")).isEqualTo(250);
        assertThat(LoadOptions.millis("d", "1.5s")).isEqualTo(1_500);
        assertThat(LoadOptions.millis("d", "2m")).isEqualTo(120_000);
        assertThat(LoadOptions.millis("d", "3")).isEqualTo(3_000);
        assertThatThrownBy(() -> LoadOptions.millis("warmup", "soon")).hasMessageStartingWith("warmup:");
    }

    @Test
    void badInputIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> parse("--clients 4")).hasMessageStartingWith("workload:");
        assertThatThrownBy(() -> parse("delete")).hasMessageContaining("unknown 'delete'");
        assertThatThrownBy(() -> parse("put --colour red")).hasMessageStartingWith("colour: unknown option");
        assertThatThrownBy(() -> parse("put --clients 4 --clients 8")).hasMessageStartingWith("clients: given twice");
        assertThatThrownBy(() -> parse("put --clients")).hasMessageStartingWith("clients: needs a value");
        assertThatThrownBy(() -> parse("put --clients many")).hasMessageStartingWith("clients: not a whole number");
        assertThatThrownBy(() -> parse("put --conns 8 --clients 4")).hasMessageStartingWith("conns:");
        assertThatThrownBy(() -> parse("range --consistency strong")).hasMessageStartingWith("consistency:");
        assertThatThrownBy(() -> parse("put --key-dist normal")).hasMessageStartingWith("key-dist: unknown");
        assertThatThrownBy(() -> parse("put --key-count 1000000 --key-size 8")).hasMessageStartingWith("key-size:");
        assertThatThrownBy(() -> parse("watch --val-size 4")).hasMessageStartingWith("val-size:");
        assertThatThrownBy(() -> parse("mixed --read-ratio 1.5")).hasMessageStartingWith("read-ratio:");
        assertThatThrownBy(() -> parse("put --json=yes")).hasMessageStartingWith("json: takes no value");
        assertThatThrownBy(() -> parse("put --endpoints localhost")).hasMessageStartingWith("endpoints:");
    }

    @Test
    void helpIsAskedForByFlagOrByNothing() {
        assertThat(LoadOptions.wantsHelp(new String[0])).isTrue();
        assertThat(LoadOptions.wantsHelp(new String[] {"put", "--help"})).isTrue();
        assertThat(LoadOptions.wantsHelp(new String[] {"put"})).isFalse();
    }
}
