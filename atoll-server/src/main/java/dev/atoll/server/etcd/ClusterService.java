package dev.atoll.server.etcd;

import com.google.protobuf.Message;
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
import dev.atoll.server.cluster.MemberChanges;
import dev.atoll.server.cluster.MemberTable;
import io.grpc.MethodDescriptor;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * etcd's Cluster service. MemberList answers from this node's copy of the meta group's member
 * table (as etcd answers from its local member store), sorted by id; MemberAdd, MemberRemove,
 * MemberUpdate and MemberPromote are carried out by {@link MemberChanges} on the leader, a
 * follower forwarding them there once. A forwarding follower answers only when its own table
 * shows the change, so a MemberList that follows on the same member sees it (etcdctl member add
 * builds ETCD_INITIAL_CLUSTER that way). Without a member table (a node with no meta group) the
 * list comes from the group's Raft membership and changes answer UNIMPLEMENTED.
 */
public final class ClusterService extends ClusterGrpc.ClusterImplBase {
    /** How long a forwarding follower waits for its table to show a change the leader made. */
    private static final long LOCAL_TABLE_WAIT_MILLIS = 2_000;

    private final EtcdGroup group;
    private final MemberChanges changes;

    public ClusterService(EtcdGroup group, MemberChanges changes) {
        this.group = group;
        this.changes = changes;
    }

    @Override
    public void memberList(MemberListRequest request, StreamObserver<MemberListResponse> out) {
        out.onNext(MemberListResponse.newBuilder().setHeader(header()).addAllMembers(members()).build());
        out.onCompleted();
    }

    @Override
    public void memberAdd(MemberAddRequest request, StreamObserver<MemberAddResponse> out) {
        if (unavailable("MemberAdd", out)) {
            return;
        }
        run(ClusterGrpc.getMemberAddMethod(), request,
                changes.add(request.getPeerURLsList(), request.getIsLearner()),
                done -> MemberAddResponse.newBuilder().setHeader(header())
                        .setMember(Member.newBuilder().setID(done.member().id())
                                .addAllPeerURLs(done.member().peerUrls()).setIsLearner(done.member().learner()))
                        .addAllMembers(toEtcd(done.table())).build(),
                response -> table -> table.byId(response.getMember().getID()).isPresent(), out);
    }

    @Override
    public void memberRemove(MemberRemoveRequest request, StreamObserver<MemberRemoveResponse> out) {
        if (unavailable("MemberRemove", out)) {
            return;
        }
        long id = request.getID();
        run(ClusterGrpc.getMemberRemoveMethod(), request, changes.remove(id),
                done -> MemberRemoveResponse.newBuilder().setHeader(header()).addAllMembers(toEtcd(done.table()))
                        .build(),
                response -> table -> table.byId(id).map(dev.atoll.server.cluster.Member::removed).orElse(false),
                out);
    }

    @Override
    public void memberUpdate(MemberUpdateRequest request, StreamObserver<MemberUpdateResponse> out) {
        if (unavailable("MemberUpdate", out)) {
            return;
        }
        long id = request.getID();
        run(ClusterGrpc.getMemberUpdateMethod(), request, changes.update(id, request.getPeerURLsList()),
                done -> MemberUpdateResponse.newBuilder().setHeader(header()).addAllMembers(toEtcd(done.table()))
                        .build(),
                response -> table -> table.byId(id).map(m -> m.peerUrls().equals(done(response, id))).orElse(false),
                out);
    }

    @Override
    public void memberPromote(MemberPromoteRequest request, StreamObserver<MemberPromoteResponse> out) {
        if (unavailable("MemberPromote", out)) {
            return;
        }
        long id = request.getID();
        run(ClusterGrpc.getMemberPromoteMethod(), request, changes.promote(id),
                done -> MemberPromoteResponse.newBuilder().setHeader(header()).addAllMembers(toEtcd(done.table()))
                        .build(),
                response -> table -> table.byId(id).map(m -> !m.learner()).orElse(false), out);
    }

    // ------------------------------------------------------------------ plumbing

    private boolean unavailable(String what, StreamObserver<?> out) {
        if (changes == null) {
            out.onError(MaintenanceService.unimplemented(what, "this node has no meta group"));
            return true;
        }
        return false;
    }

    /**
     * Answers {@code out} with the outcome of {@code operation}: the response, etcd's refusal,
     * or (on a follower) the leader's answer to the forwarded request, passed on once the local
     * table satisfies {@code shown}.
     */
    private <Q extends Message, A> void run(MethodDescriptor<Q, A> method, Q request,
                                            CompletableFuture<MemberChanges.Outcome> operation,
                                            Function<MemberChanges.Done, A> respond,
                                            Function<A, Predicate<MemberTable>> shown, StreamObserver<A> out) {
        boolean forwarded = EtcdGroup.forwarded();
        operation.handleAsync((outcome, error) -> {
            if (error != null) {
                out.onError(EtcdGroup.statusOf(error));
                return null;
            }
            switch (outcome) {
                case MemberChanges.Done done -> {
                    out.onNext(respond.apply(done));
                    out.onCompleted();
                }
                case MemberChanges.Refused refused -> out.onError(EtcdCodec.toStatus(refused.error()));
                case MemberChanges.NotLeader notLeader -> {
                    if (forwarded) {
                        out.onError(EtcdCodec.leaderChanged());
                    } else {
                        group.forward(method, request, notLeader.leaderHint(), afterLocalTable(shown, out));
                    }
                }
            }
            return null;
        }, group.executor()).exceptionally(rejected -> {
            out.onError(EtcdGroup.statusOf(rejected));
            return null;
        });
    }

    /** Relays the leader's answer, holding a success back until this node's table shows it. */
    private <A> StreamObserver<A> afterLocalTable(Function<A, Predicate<MemberTable>> shown, StreamObserver<A> out) {
        return new StreamObserver<>() {
            private A response;

            @Override
            public void onNext(A value) {
                response = value;
            }

            @Override
            public void onError(Throwable t) {
                out.onError(t);
            }

            @Override
            public void onCompleted() {
                Predicate<MemberTable> condition = shown.apply(response);
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
                        LOCAL_TABLE_WAIT_MILLIS);
                awaitTable(condition, deadline, () -> {
                    out.onNext(response);
                    out.onCompleted();
                });
            }
        };
    }

    private void awaitTable(Predicate<MemberTable> condition, long deadlineNanos, Runnable then) {
        if (condition.test(changes.table()) || System.nanoTime() - deadlineNanos > 0) {
            then.run();
            return;
        }
        CompletableFuture.delayedExecutor(20, java.util.concurrent.TimeUnit.MILLISECONDS, group.executor())
                .execute(() -> awaitTable(condition, deadlineNanos, then));
    }

    private static List<String> done(MemberUpdateResponse response, long id) {
        return response.getMembersList().stream().filter(m -> m.getID() == id).findFirst()
                .map(m -> (List<String>) new ArrayList<>(m.getPeerURLsList())).orElse(List.of());
    }

    private dev.atoll.proto.etcd.ResponseHeader header() {
        return group.header(group.stateMachine().currentRevision());
    }

    /** Every current member, by id; from the Raft membership when there is no member table. */
    private List<Member> members() {
        MemberTable table = changes == null ? MemberTable.EMPTY : changes.table();
        if (table.seeded()) {
            return toEtcd(table);
        }
        var list = new ArrayList<Member>();
        LogStatus s = group.status();
        Membership membership = s == null ? null : s.membership();
        if (membership != null) {
            for (NodeId node : membership.sortedMembers()) {
                EtcdMembers.MemberUrls urls = group.members().urls(node);
                list.add(Member.newBuilder()
                        .setID(group.members().memberId(node))
                        .setName(node.value())
                        .addAllPeerURLs(urls.peerUrls())
                        .addAllClientURLs(urls.clientUrls())
                        .setIsLearner(membership.learners().contains(node))
                        .build());
            }
        }
        list.sort((a, b) -> Long.compareUnsigned(a.getID(), b.getID()));
        return list;
    }

    static List<Member> toEtcd(MemberTable table) {
        var list = new ArrayList<Member>();
        for (dev.atoll.server.cluster.Member m : table.current()) {
            list.add(Member.newBuilder().setID(m.id()).setName(m.name()).addAllPeerURLs(m.peerUrls())
                    .addAllClientURLs(m.clientUrls()).setIsLearner(m.learner()).build());
        }
        return list;
    }
}
