package dev.atoll.server.etcd;

import dev.atoll.core.NodeId;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.cluster.MemberIds;
import dev.atoll.server.cluster.MemberTable;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The address book the etcd API sees: each member's etcd id, name and URLs, and the cluster
 * id. It reads the meta group's member table once that is seeded; until then (and in tests
 * without a meta group) it answers from the founding list it was given, where a member's id is
 * derived from its name ({@link MemberIds#ofName}) and the cluster id from the cluster name.
 * Thread-safe.
 */
public final class EtcdMembers {
    /** Where one member is reached. */
    public record MemberUrls(List<String> peerUrls, List<String> clientUrls) {
        public MemberUrls {
            peerUrls = List.copyOf(peerUrls);
            clientUrls = List.copyOf(clientUrls);
        }
    }

    private final long clusterId;
    private final Map<NodeId, MemberUrls> founders;
    private final Supplier<MemberTable> table;
    private volatile KnownId lastKnownId;

    /** A fixed book: the founders' URLs, no member table. */
    public EtcdMembers(String clusterName, Map<NodeId, MemberUrls> urls) {
        this(MemberIds.ofName(clusterName), urls, () -> MemberTable.EMPTY);
    }

    /** A book that follows {@code table} once it is seeded. */
    public EtcdMembers(long clusterId, Map<NodeId, MemberUrls> founders, Supplier<MemberTable> table) {
        this.clusterId = clusterId;
        this.founders = Map.copyOf(new TreeMap<>(founders));
        this.table = table;
    }

    public long clusterId() {
        MemberTable t = table.get();
        return t.seeded() && t.clusterId() != 0 ? t.clusterId() : clusterId;
    }

    /** The member table (empty until seeded). */
    public MemberTable table() {
        return table.get();
    }

    /**
     * The etcd id of the member whose node id (name) is {@code node}. Every response header asks
     * for this node's id: the answer is kept for as long as the table (immutable) stays the same.
     */
    public long memberId(NodeId node) {
        MemberTable t = table.get();
        KnownId known = lastKnownId;
        if (known != null && known.table() == t && known.node().equals(node)) {
            return known.id();
        }
        long id = t.currentByName(node.value()).map(Member::id).orElseGet(() -> MemberIds.ofName(node.value()));
        lastKnownId = new KnownId(t, node, id);
        return id;
    }

    /** The last id {@link #memberId} found, and in which table. */
    private record KnownId(MemberTable table, NodeId node, long id) {
    }

    /** The node id of the started member with etcd id {@code id}, if any. */
    public Optional<NodeId> nodeOf(long id) {
        MemberTable t = table.get();
        if (t.seeded()) {
            return t.byId(id).filter(m -> m.started() && !m.removed()).map(Member::node);
        }
        return founders.keySet().stream().filter(n -> MemberIds.ofName(n.value()) == id).findFirst();
    }

    /** The member's URLs, or empty lists when the book does not know it. */
    public MemberUrls urls(NodeId node) {
        Optional<Member> m = table.get().currentByName(node.value());
        if (m.isPresent()) {
            return new MemberUrls(m.get().peerUrls(), m.get().clientUrls());
        }
        return founders.getOrDefault(node, new MemberUrls(List.of(), List.of()));
    }
}
