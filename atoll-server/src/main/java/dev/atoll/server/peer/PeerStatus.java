package dev.atoll.server.peer;

import dev.atoll.core.NodeId;

/**
 * One peer's outbound side at one moment, for status pages and tests.
 *
 * @param outstandingBytes message bytes sent on the current stream and not yet acknowledged
 * @param windowBytes      the credit the peer last advertised (0 before its first ack)
 * @param responsive       the stream is up and the peer acknowledges in time (see
 *                         {@link PeerTransportOptions#livenessTimeoutMillis()})
 */
public record PeerStatus(NodeId peer, String target, LinkState state, int queuedMessages, long queuedBytes,
                         long outstandingBytes, long windowBytes, boolean responsive) {
}
