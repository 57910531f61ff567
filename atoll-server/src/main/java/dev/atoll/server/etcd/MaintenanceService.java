package dev.atoll.server.etcd;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.etcd.AlarmRequest;
import dev.atoll.proto.etcd.AlarmResponse;
import dev.atoll.proto.etcd.DefragmentRequest;
import dev.atoll.proto.etcd.DefragmentResponse;
import dev.atoll.proto.etcd.DowngradeRequest;
import dev.atoll.proto.etcd.DowngradeResponse;
import dev.atoll.proto.etcd.HashKVRequest;
import dev.atoll.proto.etcd.HashKVResponse;
import dev.atoll.proto.etcd.HashRequest;
import dev.atoll.proto.etcd.HashResponse;
import dev.atoll.proto.etcd.MaintenanceGrpc;
import dev.atoll.proto.etcd.MoveLeaderRequest;
import dev.atoll.proto.etcd.MoveLeaderResponse;
import dev.atoll.proto.etcd.SnapshotRequest;
import dev.atoll.proto.etcd.SnapshotResponse;
import dev.atoll.proto.etcd.StatusRequest;
import dev.atoll.proto.etcd.StatusResponse;
import dev.atoll.server.cluster.MemberChanges;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's Maintenance service: Status from the runtime and the store; Defragment answers
 * success (RocksDB compacts itself; nothing to do); Alarm lists no alarms; MoveLeader hands
 * leadership of the {@code default} group (and the meta group) to another voter and answers
 * once it moved, as etcd does. The rest answer UNIMPLEMENTED with what to use instead.
 */
public final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
    private static final Logger log = LoggerFactory.getLogger(MaintenanceService.class);
    /** The etcd API version Atoll speaks; etcdctl shows it as the server version. */
    public static final String ETCD_API_VERSION = "3.5.0";

    private final EtcdGroup group;
    private final MemberChanges changes;

    /** {@code changes} carries out MoveLeader; null answers it UNIMPLEMENTED. */
    public MaintenanceService(EtcdGroup group, MemberChanges changes) {
        this.group = group;
        this.changes = changes;
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        LogStatus s = group.status();
        long dbBytes = group.stateMachine().storeBytes();
        var b = StatusResponse.newBuilder()
                .setHeader(group.header(group.stateMachine().currentRevision()))
                .setVersion(ETCD_API_VERSION)
                .setDbSize(dbBytes)
                .setDbSizeInUse(dbBytes)
                .setRaftAppliedIndex(group.stateMachine().appliedIndex());
        if (s != null) {
            b.setRaftIndex(s.commitIndex()).setRaftTerm(s.term()).setIsLearner(s.role() == Role.LEARNER);
            if (s.leader() != null) {
                b.setLeader(group.members().memberId(s.leader()));
            } else {
                b.addErrors("etcdserver: no leader");
            }
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> out) {
        log.info("defragment_requested action=none reason=\"RocksDB compacts its files itself; defragment is a no-op\"");
        out.onNext(DefragmentResponse.newBuilder()
                .setHeader(group.header(group.stateMachine().currentRevision())).build());
        out.onCompleted();
    }

    @Override
    public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> out) {
        if (request.getAction() != AlarmRequest.AlarmAction.GET) {
            out.onError(unimplemented("Alarm " + request.getAction(), "Atoll raises no alarms; there is none to change"));
            return;
        }
        out.onNext(AlarmResponse.newBuilder().setHeader(group.header(group.stateMachine().currentRevision())).build());
        out.onCompleted();
    }

    @Override
    public void hash(HashRequest request, StreamObserver<HashResponse> out) {
        out.onError(unimplemented("Hash", "compare members with Status (revision, raft applied index)"));
    }

    @Override
    public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> out) {
        out.onError(unimplemented("HashKV", "compare members with Status (revision, raft applied index)"));
    }

    @Override
    public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> out) {
        out.onError(unimplemented("Snapshot", "use Atoll's own backup tooling"));
    }

    @Override
    public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> out) {
        if (changes == null) {
            out.onError(unimplemented("MoveLeader", "this node has no meta group"));
            return;
        }
        changes.moveLeader(request.getTargetID()).handleAsync((outcome, error) -> {
            if (error != null) {
                out.onError(EtcdGroup.statusOf(error));
                return null;
            }
            switch (outcome) {
                case MemberChanges.Done done -> {
                    out.onNext(MoveLeaderResponse.newBuilder()
                            .setHeader(group.header(group.stateMachine().currentRevision())).build());
                    out.onCompleted();
                }
                case MemberChanges.Refused refused -> out.onError(EtcdCodec.toStatus(refused.error()));
                case MemberChanges.NotLeader notLeader -> out.onError(
                        EtcdCodec.toStatus(dev.atoll.server.cluster.MemberError.NOT_LEADER));
            }
            return null;
        }, group.executor()).exceptionally(rejected -> {
            out.onError(EtcdGroup.statusOf(rejected));
            return null;
        });
    }

    @Override
    public void downgrade(DowngradeRequest request, StreamObserver<DowngradeResponse> out) {
        out.onError(unimplemented("Downgrade", "Atoll has no etcd storage versions to downgrade"));
    }

    static io.grpc.StatusRuntimeException unimplemented(String what, String instead) {
        return Status.UNIMPLEMENTED.withDescription("atoll: " + what + " is not supported: " + instead)
                .asRuntimeException();
    }
}
