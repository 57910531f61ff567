package dev.atoll.server.etcd;

import dev.atoll.core.NodeId;
import io.grpc.Channel;

/** How a follower reaches the leader's etcd API to forward a request; provided by the server. */
@FunctionalInterface
public interface LeaderChannels {
    /** A channel to {@code node}'s client API, or null when the node's address is unknown. */
    Channel channelTo(NodeId node);
}
