package dev.atoll.server.peer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one peer (tag {@code peer}) of one node (tag {@code node}); the peer
 * {@code unknown} collects what cannot be attributed to a configured peer, so a stranger
 * cannot grow the number of series. Removed from the registry with the peer.
 */
final class PeerMeters {
    static final String UNKNOWN_PEER = "unknown";

    final Counter messagesSent;
    final Counter bytesSent;
    final Counter messagesReceived;
    final Counter bytesReceived;
    final Counter reconnects;
    final Counter probesSent;
    /** Messages the peer reported in its acks as dropped on its side. */
    final Counter remoteDropped;
    /** Streams from this peer (as it claimed to be) refused by this node. */
    final Counter streamsRefused;
    final DistributionSummary batchMessages;
    final DistributionSummary batchBytes;
    private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
    private final List<Meter> meters = new ArrayList<>();
    private final MeterRegistry registry;
    private final Tags tags;

    PeerMeters(MeterRegistry registry, String node, String peer) {
        this.registry = registry;
        this.tags = Tags.of("node", node, "peer", peer);
        messagesSent = counter("atoll.peer.messages.sent", "messages sent to the peer");
        bytesSent = counter("atoll.peer.bytes.sent", "encoded message bytes sent to the peer");
        messagesReceived = counter("atoll.peer.messages.received", "messages received from the peer");
        bytesReceived = counter("atoll.peer.bytes.received", "encoded message bytes received from the peer");
        reconnects = counter("atoll.peer.reconnects", "attempts to open a stream to the peer after the first one");
        probesSent = counter("atoll.peer.probes.sent", "empty batches sent on an idle stream to check the peer answers");
        streamsRefused = counter("atoll.peer.streams.refused", "inbound streams refused (wrong cluster, node or version)");
        remoteDropped = counter("atoll.peer.remote.dropped", "messages the peer acknowledged as dropped on its side");
        for (DropReason reason : DropReason.values()) {
            var c = Counter.builder("atoll.peer.messages.dropped").description("messages dropped, by reason")
                    .tags(tags).tag("reason", reason.tag).register(registry);
            meters.add(c);
            dropped.put(reason, c);
        }
        batchMessages = summary("atoll.peer.batch.messages", "messages per batch sent");
        batchBytes = summary("atoll.peer.batch.bytes", "message bytes per batch sent");
    }

    Counter dropped(DropReason reason) {
        return dropped.get(reason);
    }

    <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
        meters.add(Gauge.builder(name, source, value).description(description).tags(tags).strongReference(true)
                .register(registry));
    }

    void remove() {
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }

    private Counter counter(String name, String description) {
        var c = Counter.builder(name).description(description).tags(tags).register(registry);
        meters.add(c);
        return c;
    }

    private DistributionSummary summary(String name, String description) {
        var s = DistributionSummary.builder(name).description(description).tags(tags).register(registry);
        meters.add(s);
        return s;
    }
}
