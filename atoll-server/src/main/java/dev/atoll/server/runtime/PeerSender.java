package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;

/**
 * How the runtime hands Raft messages to the network: {@link #send} only queues (it never
 * blocks the loop thread); {@link #flush} is called once per round, after the round's fsync.
 */
public interface PeerSender {
    void send(long groupId, Envelope<RaftMessage> envelope);

    void flush();

    /**
     * Whether {@code peer}'s node looks reachable now (for the peer transport: the stream to it
     * is up). Asked on the loop thread at most once per peer per tick, for the leaders of
     * quiesced groups: an unreachable one wakes its followers. Must not block; the default
     * (always reachable) never wakes a quiesced group.
     */
    default boolean reachable(NodeId peer) {
        return true;
    }
}
