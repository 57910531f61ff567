package dev.atoll.server.cluster;

import dev.atoll.core.NodeId;
import dev.atoll.proto.meta.MemberRecord;

import java.util.List;

/**
 * One member of the cluster as the meta group's member table holds it (see atoll/meta.proto).
 *
 * @param id         etcd's member id, never 0
 * @param name       empty until the member started and published itself; then also its node id
 * @param peerUrls   sorted, as etcd keeps them
 * @param clientUrls as the member published them
 * @param learner    a non-voting member
 * @param removed    a tombstone: the id is never reused, the node leaves every group
 * @param labels     region, zone and capacity as the member published them; the defaults until then
 */
public record Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner,
                     boolean removed, NodeLabels labels) {
    public Member {
        if (id == 0) {
            throw new IllegalArgumentException("member id 0 is reserved");
        }
        name = name == null ? "" : name;
        peerUrls = List.copyOf(peerUrls);
        clientUrls = List.copyOf(clientUrls);
        labels = labels == null ? NodeLabels.DEFAULT : labels;
    }

    /** A member whose labels are not known yet (added, or seeded before it published). */
    public Member(long id, String name, List<String> peerUrls, List<String> clientUrls, boolean learner,
                  boolean removed) {
        this(id, name, peerUrls, clientUrls, learner, removed, NodeLabels.DEFAULT);
    }

    /** etcd's IsStarted: the member has published its name. */
    public boolean started() {
        return !name.isEmpty();
    }

    /** The member's node id in Raft; only a started member has one. */
    public NodeId node() {
        if (!started()) {
            throw new IllegalStateException("member " + Long.toHexString(id) + " has not started: no node id yet");
        }
        return NodeId.of(name);
    }

    public boolean isVoter() {
        return !learner && !removed;
    }

    /** What the member published: its name, client URLs and labels. */
    public Member published(String newName, List<String> newClientUrls, NodeLabels newLabels) {
        return new Member(id, newName, peerUrls, newClientUrls, learner, removed, newLabels);
    }

    public Member withPeerUrls(List<String> newPeerUrls) {
        return new Member(id, name, newPeerUrls, clientUrls, learner, removed, labels);
    }

    public Member promoted() {
        return new Member(id, name, peerUrls, clientUrls, false, removed, labels);
    }

    public Member asRemoved() {
        return new Member(id, name, peerUrls, clientUrls, learner, true, labels);
    }

    public MemberRecord toProto() {
        return MemberRecord.newBuilder().setId(id).setName(name).addAllPeerUrls(peerUrls)
                .addAllClientUrls(clientUrls).setLearner(learner).setRemoved(removed).setLabels(labels.toProto())
                .build();
    }

    public static Member fromProto(MemberRecord r) {
        return new Member(r.getId(), r.getName(), r.getPeerUrlsList(), r.getClientUrlsList(), r.getLearner(),
                r.getRemoved(), NodeLabels.fromProto(r.getLabels()));
    }

    @Override
    public String toString() {
        return Long.toHexString(id) + (started() ? "(" + name + ")" : "(unstarted)") + (learner ? " learner" : "")
                + (removed ? " removed" : "") + " " + peerUrls;
    }
}
