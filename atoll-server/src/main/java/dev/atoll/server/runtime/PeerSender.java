package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.protocol.Envelope;

/**
 * How the runtime hands Raft messages to the network: {@link #send} only queues (it never
 * blocks the loop thread); {@link #flush} is called once per round, after the round's fsync.
 */
public interface PeerSender {
    void send(long groupId, Envelope<RaftMessage> envelope);

    void flush();
}
