package dev.atoll.bench.load;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class LoadResultTest {
    private static Latency latency() {
        var h = new Histogram(3);
        for (long micros = 1; micros <= 1_000; micros++) {
            h.recordValue(micros);
        }
        return Latency.of(h);
    }

    @Test
    void jsonCarriesThroughputPercentilesAndErrorsByCode() {
        var options = LoadOptions.parse("put --endpoints 127.0.0.1:2379 --clients 64 --conns 4 --duration 10s".split(" "));
        var result = new LoadResult(options, 2.0, 5_000, latency(),
                new TreeMap<>(Map.of("UNAVAILABLE", 3L, "DEADLINE_EXCEEDED", 1L)), null, null);
        assertThat(result.opsPerSecond()).isEqualTo(2_500.0);
        assertThat(result.errorCount()).isEqualTo(4);
        assertThat(result.toJson()).isEqualTo("{\"workload\":\"put\",\"endpoints\":[\"127.0.0.1:2379\"],"
                + "\"conns\":4,\"clients\":64,\"rate\":0.000,\"keyCount\":10000,\"keyDist\":\"uniform\","
                + "\"keySize\":16,\"valSize\":256,\"durationSeconds\":2.000,\"opCount\":5000,\"opsPerSecond\":2500.000,"
                + "\"latencyMicrosP50\":500,\"latencyMicrosP90\":900,\"latencyMicrosP99\":990,\"latencyMicrosP999\":999,"
                + "\"latencyMicrosMax\":1000,\"latencyMicrosMean\":500.500,\"errorCount\":4,"
                + "\"errors\":{\"DEADLINE_EXCEEDED\":1,\"UNAVAILABLE\":3}}");
    }

    @Test
    void txnAndWatchResultsAddTheirOwnFields() {
        var txn = new LoadResult(LoadOptions.parse(new String[] {"txn", "--txn-compare", "value"}), 1.0, 10,
                latency(), new TreeMap<>(), new LoadResult.TxnOutcomes(7, 3), null);
        assertThat(txn.toJson()).contains("\"txnCompare\":\"value\",\"txnSwapCount\":7,\"txnConflictCount\":3")
                .contains("\"errors\":{}");
        var watch = new LoadResult(LoadOptions.parse(new String[] {"watch", "--watchers", "4"}), 1.0, 10, latency(),
                new TreeMap<>(), null, new LoadResult.WatchDeliveries(4, 40, 40.0, latency()));
        assertThat(watch.toJson()).contains("\"watcherCount\":4,\"watchEventCount\":40,\"watchEventsPerSecond\":40.000,"
                + "\"watchLatencyMicrosP50\":500");
        assertThat(watch.toText()).contains("4 watchers, 40 events delivered");
    }

    @Test
    void rangeRecordsItsConsistencyAndStringsAreEscaped() {
        var range = new LoadResult(LoadOptions.parse("range --consistency s".split(" ")), 0, 0, Latency.NONE,
                new TreeMap<>(), null, null);
        assertThat(range.toJson()).contains("\"consistency\":\"serializable\"").contains("\"opsPerSecond\":0.000");
        assertThat(LoadResult.JsonObject.quote("a\"b\\c\n\u0001")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\"");
    }

    @Test
    void theLoadGeneratorsOwnCpuPerRequestIsReportedWhenMeasured() {
        var options = LoadOptions.parse("put --duration 10s".split(" "));
        var measured = new LoadResult(options, 1.0, 10, latency(), new TreeMap<>(), null, null, 87.25);
        assertThat(measured.toJson()).contains("\"errorCount\":0,\"clientCpuMicrosPerOp\":87.250,");
        assertThat(measured.toText()).contains("load generator CPU: 87 us per request");
        var unmeasured = new LoadResult(options, 1.0, 10, latency(), new TreeMap<>(), null, null);
        assertThat(unmeasured.toJson()).doesNotContain("clientCpu");
    }
}
