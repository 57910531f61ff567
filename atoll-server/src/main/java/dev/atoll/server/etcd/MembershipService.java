package dev.atoll.server.etcd;

import dev.atoll.proto.meta.MembersRequest;
import dev.atoll.proto.meta.MembershipGrpc;
import dev.atoll.proto.meta.PublishMember;
import dev.atoll.proto.meta.PublishResult;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.cluster.MemberChanges;
import dev.atoll.server.cluster.MemberTable;
import io.grpc.stub.StreamObserver;

/**
 * Atoll's internal Membership service, on the peer port (bind it with
 * {@link EtcdGroup#forwardingMarker()}): a starting member publishes its name and client URLs
 * (etcd's publish), and learns the cluster id, its member id and every member (a follower
 * forwards the call to the leader once); a member cut off from every leader asks whether it
 * was removed (Members, answered from the local table).
 */
public final class MembershipService extends MembershipGrpc.MembershipImplBase {
    private final EtcdGroup group;
    private final MemberChanges changes;

    public MembershipService(EtcdGroup group, MemberChanges changes) {
        this.group = group;
        this.changes = changes;
    }

    @Override
    public void members(MembersRequest request, StreamObserver<PublishResult> out) {
        MemberTable table = changes.table();
        if (!table.seeded()) {
            out.onError(EtcdCodec.toStatus(dev.atoll.server.cluster.MemberError.NOT_SEEDED));
            return;
        }
        var result = PublishResult.newBuilder().setClusterId(table.clusterId());
        for (Member m : table.members()) {
            result.addMembers(m.toProto());
        }
        out.onNext(result.build());
        out.onCompleted();
    }

    @Override
    public void publish(PublishMember request, StreamObserver<PublishResult> out) {
        boolean forwarded = EtcdGroup.forwarded();
        changes.publish(request)
                .handleAsync((outcome, error) -> {
                    if (error != null) {
                        out.onError(EtcdGroup.statusOf(error));
                        return null;
                    }
                    switch (outcome) {
                        case MemberChanges.Done done -> {
                            var result = PublishResult.newBuilder().setClusterId(done.table().clusterId())
                                    .setMemberId(done.member().id());
                            for (Member m : done.table().members()) {
                                result.addMembers(m.toProto());
                            }
                            out.onNext(result.build());
                            out.onCompleted();
                        }
                        case MemberChanges.Refused refused -> out.onError(EtcdCodec.toStatus(refused.error()));
                        case MemberChanges.NotLeader notLeader -> {
                            if (forwarded) {
                                out.onError(EtcdCodec.leaderChanged());
                            } else {
                                group.forward(MembershipGrpc.getPublishMethod(), request, notLeader.leaderHint(), out);
                            }
                        }
                    }
                    return null;
                }, group.executor()).exceptionally(rejected -> {
                    out.onError(EtcdGroup.statusOf(rejected));
                    return null;
                });
    }
}
