package dev.atoll.server.peer;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;

/**
 * A quick look at loopback throughput between two transports; not a benchmark (those belong in
 * atoll-bench with JMH) and never a gate. Run with -Datoll.measure=true.
 */
@EnabledIfSystemProperty(named = "atoll.measure", matches = "true")
class PeerThroughputMeasurement {
    @Test
    void heartbeatsAndAppendsBetweenTwoTransports() {
        try (TestNode n1 = TestNode.start("m1", PeerTransportOptions.defaults());
             TestNode n2 = TestNode.start("m2", PeerTransportOptions.defaults())) {
            n1.addPeer(n2);
            n2.addPeer(n1);
            Await.until("connected", () -> n1.linkState(n2) == LinkState.CONNECTED);
            run("heartbeat (~20 B)", n1, n2, 400_000, i -> new RaftMessage.Heartbeat(1, i, i));
            var entries = new ArrayList<Entry>();
            for (int e = 1; e <= 4; e++) {
                entries.add(new Entry(e, 1, Entry.Kind.COMMAND, new byte[256]));
            }
            List<Entry> fixed = List.copyOf(entries);
            run("append 4 x 256 B", n1, n2, 100_000, i -> new RaftMessage.AppendEntries(1, i, 1, fixed, i));
        }
    }

    private static void run(String name, TestNode n1, TestNode n2, int messages,
                            java.util.function.LongFunction<RaftMessage> make) {
        int start = n2.receivedCount();
        double bytesBefore = n1.counter("atoll.peer.bytes.sent", "peer", "m2");
        long batchesBefore = n1.batchesSent("m2");
        long t0 = System.nanoTime();
        int round = 1_000;
        for (int i = 0; i < messages; i += round) {
            // The runtime's rounds are paced by its loop; here, stay below the queue bound.
            while (n1.transport.status(n2.id).orElseThrow().queuedMessages() > 4_000) {
                Thread.onSpinWait();
            }
            for (int j = 0; j < round; j++) {
                n1.transport.send(1, new Envelope<>(n1.id, n2.id, make.apply(i + j)));
            }
            n1.transport.flush();
        }
        Await.until("all delivered", java.time.Duration.ofSeconds(120),
                () -> n2.receivedCount() - start + n1.dropped("m2", "queue_full") >= messages);
        long nanos = System.nanoTime() - t0;
        int delivered = n2.receivedCount() - start;
        System.out.printf("measure %s: %d messages in %.0f ms = %.0f msg/s, %.1f MB/s, batches=%d, dropped=%.0f%n",
                name, delivered, nanos / 1e6, delivered / (nanos / 1e9),
                (n1.counter("atoll.peer.bytes.sent", "peer", "m2") - bytesBefore) / (nanos / 1e9) / 1e6,
                n1.batchesSent("m2") - batchesBefore, n1.dropped("m2", "queue_full"));
    }
}
