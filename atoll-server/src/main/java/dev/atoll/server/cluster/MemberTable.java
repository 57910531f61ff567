package dev.atoll.server.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The cluster's members as the meta group has committed them: the authority on who belongs
 * to the cluster, from which the Raft memberships of the groups are derived. Immutable; every
 * change returns a new table or a refusal, with etcd's validation of a configuration change
 * (its RaftCluster.ValidateConfigurationChange), so replicas applying the same commands in the
 * same order reach the same table and the same answers.
 *
 * @param clusterId 0 until seeded
 * @param members   every member ever known, removed ones included, sorted by id (unsigned, as
 *                  etcd lists them)
 */
public record MemberTable(long clusterId, List<Member> members) {
    /** etcd 3.4's maxLearners: one learner at a time. */
    public static final int LEARNERS_MAX = 1;
    public static final MemberTable EMPTY = new MemberTable(0, List.of());

    private static final Comparator<Member> BY_ID = (a, b) -> Long.compareUnsigned(a.id(), b.id());

    public MemberTable {
        var sorted = new ArrayList<>(members);
        sorted.sort(BY_ID);
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).id() == sorted.get(i - 1).id()) {
                throw new IllegalArgumentException("member id " + Long.toHexString(sorted.get(i).id()) + " twice");
            }
        }
        members = List.copyOf(sorted);
    }

    /** The outcome of a change: the new table and the member it concerns, or why it was refused. */
    public sealed interface Change permits Changed, Refused {
    }

    public record Changed(MemberTable table, Member member) implements Change {
    }

    public record Refused(MemberError error) implements Change {
    }

    /** Whether the founding members have been written. */
    public boolean seeded() {
        return !members.isEmpty();
    }

    /** Members not removed, by id. */
    public List<Member> current() {
        return members.stream().filter(m -> !m.removed()).toList();
    }

    /** Members that vote (not learners, not removed). */
    public List<Member> voters() {
        return members.stream().filter(Member::isVoter).toList();
    }

    public Optional<Member> byId(long id) {
        return members.stream().filter(m -> m.id() == id).findFirst();
    }

    /** The current (not removed) member named {@code name}. */
    public Optional<Member> currentByName(String name) {
        return members.stream().filter(m -> !m.removed() && m.name().equals(name) && m.started()).findFirst();
    }

    // ------------------------------------------------------------------ changes

    /** Writes the founding members into an empty table; a seeded table stays as it is. */
    public Change seed(long newClusterId, List<Member> founders) {
        if (seeded()) {
            return new Changed(this, null);
        }
        if (newClusterId == 0 || founders.isEmpty()) {
            throw new IllegalArgumentException("a seed names the cluster and at least one member");
        }
        return new Changed(new MemberTable(newClusterId, founders), null);
    }

    /** etcd's AddNode / AddLearnerNode validation: a new id, new peer URLs, at most one learner. */
    public Change add(Member member) {
        if (!seeded()) {
            return new Refused(MemberError.NOT_SEEDED);
        }
        Optional<Member> same = byId(member.id());
        if (same.isPresent()) {
            // etcd checks "removed" after "exists"; a removed id it reports as not found
            return new Refused(same.get().removed() ? MemberError.MEMBER_NOT_FOUND : MemberError.MEMBER_EXISTS);
        }
        for (Member m : current()) {
            for (String url : member.peerUrls()) {
                if (m.peerUrls().contains(url)) {
                    return new Refused(MemberError.PEER_URL_EXISTS);
                }
            }
        }
        if (member.learner() && current().stream().filter(Member::learner).count() + 1 > LEARNERS_MAX) {
            return new Refused(MemberError.TOO_MANY_LEARNERS);
        }
        Member added = new Member(member.id(), "", member.peerUrls(), List.of(), member.learner(), false);
        return new Changed(with(added), added);
    }

    /**
     * A starting member names itself (etcd's publish): found by its name among started members
     * (it restarted) or, the first time, among unstarted ones by a shared peer endpoint.
     */
    public Change publish(String name, List<String> peerUrls, List<String> clientUrls, NodeLabels labels) {
        if (!seeded()) {
            return new Refused(MemberError.NOT_SEEDED);
        }
        Optional<Member> named = currentByName(name);
        if (named.isPresent()) {
            if (!PeerUrls.shareEndpoint(named.get().peerUrls(), peerUrls)) {
                return new Refused(MemberError.NAME_TAKEN);
            }
            Member published = named.get().published(name, clientUrls, labels);
            return new Changed(with(published), published);
        }
        Optional<Member> unstarted = current().stream()
                .filter(m -> !m.started() && PeerUrls.shareEndpoint(m.peerUrls(), peerUrls)).findFirst();
        if (unstarted.isPresent()) {
            Member published = unstarted.get().published(name, clientUrls, labels);
            return new Changed(with(published), published);
        }
        boolean wasRemoved = members.stream().anyMatch(m -> m.removed() && m.name().equals(name));
        return new Refused(wasRemoved ? MemberError.MEMBER_REMOVED : MemberError.MEMBER_NOT_FOUND);
    }

    /** etcd's promote validation: a current learner becomes a voter. */
    public Change promote(long id) {
        Optional<Member> m = byId(id).filter(x -> !x.removed());
        if (m.isEmpty()) {
            return new Refused(MemberError.MEMBER_NOT_FOUND);
        }
        if (!m.get().learner()) {
            return new Refused(MemberError.MEMBER_NOT_LEARNER);
        }
        Member promoted = m.get().promoted();
        return new Changed(with(promoted), promoted);
    }

    /** etcd's UpdateNode validation: a current member, peer URLs no other member has. */
    public Change update(long id, List<String> peerUrls) {
        Optional<Member> m = byId(id).filter(x -> !x.removed());
        if (m.isEmpty()) {
            return new Refused(MemberError.MEMBER_NOT_FOUND);
        }
        for (Member other : current()) {
            if (other.id() != id && other.peerUrls().stream().anyMatch(peerUrls::contains)) {
                return new Refused(MemberError.PEER_URL_EXISTS);
            }
        }
        Member updated = m.get().withPeerUrls(peerUrls);
        return new Changed(with(updated), updated);
    }

    /** etcd's RemoveNode validation: a current member becomes a tombstone. */
    public Change remove(long id) {
        Optional<Member> m = byId(id).filter(x -> !x.removed());
        if (m.isEmpty()) {
            return new Refused(MemberError.MEMBER_NOT_FOUND);
        }
        Member removed = m.get().asRemoved();
        return new Changed(with(removed), removed);
    }

    private MemberTable with(Member changed) {
        var next = new ArrayList<Member>(members.size() + 1);
        for (Member m : members) {
            if (m.id() != changed.id()) {
                next.add(m);
            }
        }
        next.add(changed);
        return new MemberTable(clusterId, next);
    }
}
