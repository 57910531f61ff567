package dev.atoll.server.etcd;

import dev.atoll.core.NodeId;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The address book the server passes to the etcd API: each member's name (its node id) with
 * its peer and client URLs, and the stable 64-bit ids etcd clients see. A member id is the
 * first 8 bytes of SHA-256 of the name (never 0, which etcd reserves); the cluster id is the
 * same hash of the cluster name.
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
    private final Map<NodeId, MemberUrls> urls;

    public EtcdMembers(String clusterName, Map<NodeId, MemberUrls> urls) {
        this.clusterId = stableId(clusterName);
        this.urls = Map.copyOf(new TreeMap<>(urls));
    }

    public long clusterId() {
        return clusterId;
    }

    public long memberId(NodeId node) {
        return stableId(node.value());
    }

    /** The member's URLs, or empty lists when the address book does not know it. */
    public MemberUrls urls(NodeId node) {
        return urls.getOrDefault(node, new MemberUrls(List.of(), List.of()));
    }

    static long stableId(String name) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            long id = 0;
            for (int i = 0; i < 8; i++) {
                id = (id << 8) | (digest[i] & 0xFF);
            }
            return id == 0 ? 1 : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
