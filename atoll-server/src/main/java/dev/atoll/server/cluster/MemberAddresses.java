package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where this node reaches each peer, kept in step with the member table: a started member is
 * dialled at its first peer URL; a removed one is forgotten once no local group holds it any
 * more. Until the table is seeded (or replicated to a joining node), the founding list (or
 * what the cluster answered when this node joined) stands in. Every change is passed to the
 * peer transport ({@link Listener}). Thread-safe.
 */
public final class MemberAddresses {
    private static final Logger log = LoggerFactory.getLogger(MemberAddresses.class);

    /** The transport side: dial {@code node} at "host:port", or stop dialling it. */
    public interface Listener {
        void added(NodeId node, String target);

        void removed(NodeId node);
    }

    private final NodeId self;
    private final Listener listener;
    private volatile Map<NodeId, String> bootstrap;
    private final Map<NodeId, String> current = new ConcurrentHashMap<>();

    /** {@code bootstrap}: "host:port" of the peers known before the table is. */
    public MemberAddresses(NodeId self, Map<NodeId, String> bootstrap, Listener listener) {
        this.self = self;
        this.listener = listener;
        this.bootstrap = Map.copyOf(bootstrap);
    }

    /** Replaces the stand-in list, for a node that just joined and learned the members. */
    public void useBootstrap(MemberTable table) {
        var map = new HashMap<NodeId, String>();
        for (Member m : table.current()) {
            if (m.started() && !m.node().equals(self)) {
                firstEndpoint(m).ifPresent(target -> map.put(m.node(), target));
            }
        }
        bootstrap = Map.copyOf(map);
    }

    /** Brings the transport in step with {@code table}; {@code inLocalGroups} are the nodes local groups still hold. */
    public synchronized void sync(MemberTable table, Set<NodeId> inLocalGroups) {
        var desired = new HashMap<NodeId, String>();
        if (!table.seeded()) {
            desired.putAll(bootstrap);
        } else {
            for (Member m : table.members()) {
                if (!m.started() || m.node().equals(self)) {
                    continue;
                }
                boolean keep = !m.removed() || (inLocalGroups.contains(m.node())
                        && table.currentByName(m.name()).isEmpty());
                if (keep) {
                    firstEndpoint(m).ifPresent(target -> desired.putIfAbsent(m.node(), target));
                }
            }
            // a current member wins over a tombstone of the same name (it was re-added)
            for (Member m : table.current()) {
                if (m.started() && !m.node().equals(self)) {
                    firstEndpoint(m).ifPresent(target -> desired.put(m.node(), target));
                }
            }
        }
        for (var e : desired.entrySet()) {
            String before = current.put(e.getKey(), e.getValue());
            if (!e.getValue().equals(before)) {
                log.info("member_address node={} peer={} target={}", self, e.getKey(), e.getValue());
                listener.added(e.getKey(), e.getValue());
            }
        }
        for (NodeId gone : Set.copyOf(current.keySet())) {
            if (!desired.containsKey(gone)) {
                current.remove(gone);
                log.info("member_address_forgotten node={} peer={}", self, gone);
                listener.removed(gone);
            }
        }
    }

    /** "host:port" of every peer this node dials (the stand-ins until the table is seeded). */
    public java.util.Collection<String> targets() {
        var all = new java.util.HashSet<>(current.values());
        all.addAll(bootstrap.values());
        return all;
    }

    /** Where {@code node}'s peer port is, if known. */
    public Optional<InetSocketAddress> address(NodeId node) {
        String target = current.get(node);
        if (target == null) {
            target = bootstrap.get(node);
        }
        if (target == null) {
            return Optional.empty();
        }
        int colon = target.lastIndexOf(':');
        return Optional.of(new InetSocketAddress(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1))));
    }

    private static Optional<String> firstEndpoint(Member m) {
        return m.peerUrls().stream().map(PeerUrls::endpoint).flatMap(Optional::stream).findFirst();
    }
}
