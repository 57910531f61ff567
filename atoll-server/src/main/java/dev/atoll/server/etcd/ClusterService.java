package dev.atoll.server.etcd;

import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.proto.etcd.ClusterGrpc;
import dev.atoll.proto.etcd.Member;
import dev.atoll.proto.etcd.MemberAddRequest;
import dev.atoll.proto.etcd.MemberAddResponse;
import dev.atoll.proto.etcd.MemberListRequest;
import dev.atoll.proto.etcd.MemberListResponse;
import dev.atoll.proto.etcd.MemberPromoteRequest;
import dev.atoll.proto.etcd.MemberPromoteResponse;
import dev.atoll.proto.etcd.MemberRemoveRequest;
import dev.atoll.proto.etcd.MemberRemoveResponse;
import dev.atoll.proto.etcd.MemberUpdateRequest;
import dev.atoll.proto.etcd.MemberUpdateResponse;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Cluster service: MemberList from the group's membership (voters and learners) and the
 * server's address book. Membership changes are not yet offered through the etcd API.
 */
public final class ClusterService extends ClusterGrpc.ClusterImplBase {
    private final EtcdGroup group;

    public ClusterService(EtcdGroup group) {
        this.group = group;
    }

    @Override
    public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
        LogStatus s = group.status();
        var b = MemberListResponse.newBuilder().setHeader(group.header(group.stateMachine().currentRevision()));
        Membership membership = s == null ? null : s.membership();
        if (membership != null) {
            for (NodeId node : membership.sortedMembers()) {
                EtcdMembers.MemberUrls urls = group.members().urls(node);
                b.addMembers(Member.newBuilder()
                        .setID(group.members().memberId(node))
                        .setName(node.value())
                        .addAllPeerURLs(urls.peerUrls())
                        .addAllClientURLs(urls.clientUrls())
                        .setIsLearner(membership.learners().contains(node)));
            }
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
        out.onError(MaintenanceService.unimplemented("MemberAdd", "membership changes are made with atoll's admin API"));
    }

    @Override
    public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
        out.onError(MaintenanceService.unimplemented("MemberRemove", "membership changes are made with atoll's admin API"));
    }

    @Override
    public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
        out.onError(MaintenanceService.unimplemented("MemberUpdate", "membership changes are made with atoll's admin API"));
    }

    @Override
    public void memberPromote(MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
        out.onError(MaintenanceService.unimplemented("MemberPromote", "membership changes are made with atoll's admin API"));
    }
}
