package dev.atoll.server.etcd;

import dev.atoll.proto.etcd.LeaseGrantRequest;
import dev.atoll.proto.etcd.LeaseGrantResponse;
import dev.atoll.proto.etcd.LeaseGrpc;
import dev.atoll.proto.etcd.LeaseKeepAliveRequest;
import dev.atoll.proto.etcd.LeaseKeepAliveResponse;
import dev.atoll.proto.etcd.LeaseLeasesRequest;
import dev.atoll.proto.etcd.LeaseLeasesResponse;
import dev.atoll.proto.etcd.LeaseRevokeRequest;
import dev.atoll.proto.etcd.LeaseRevokeResponse;
import dev.atoll.proto.etcd.LeaseStatus;
import dev.atoll.proto.etcd.LeaseTimeToLiveRequest;
import dev.atoll.proto.etcd.LeaseTimeToLiveResponse;
import dev.atoll.proto.log.Command;
import dev.atoll.storage.mvcc.Lease;
import dev.atoll.storage.mvcc.LeaseTimeToLive;
import dev.atoll.storage.mvcc.Outcome;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

/**
 * etcd's Lease service. Grant and revoke go through the log; keep-alives and time-to-live are
 * answered by the leader from its in-memory deadlines (a follower relays them to the leader);
 * the leases list is read from the store.
 */
public final class LeaseService extends LeaseGrpc.LeaseImplBase {
    private final EtcdGroup group;
    private final LeaseExpiry expiry;

    public LeaseService(EtcdGroup group, LeaseExpiry expiry) {
        this.group = group;
        this.expiry = expiry;
    }

    @Override
    public void leaseGrant(LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> out) {
        // etcd raises a TTL below its minimum to the minimum; the command logged carries the result
        LeaseGrantRequest granted = request.getTTL() >= 0 && request.getTTL() < group.options().leaseTtlSecondsMin()
                ? request.toBuilder().setTTL(group.options().leaseTtlSecondsMin()).build() : request;
        group.write(LeaseGrpc.getLeaseGrantMethod(), request, Command.newBuilder().setLeaseGrant(granted), r -> {
            var g = (dev.atoll.storage.mvcc.LeaseGrantResponse) r;
            return LeaseGrantResponse.newBuilder().setHeader(group.header(g.revision())).setID(g.id())
                    .setTTL(g.ttlSeconds()).build();
        }, out);
    }

    @Override
    public void leaseRevoke(LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> out) {
        group.write(LeaseGrpc.getLeaseRevokeMethod(), request, Command.newBuilder().setLeaseRevoke(request),
                r -> LeaseRevokeResponse.newBuilder().setHeader(group.header(
                        ((dev.atoll.storage.mvcc.LeaseRevokeResponse) r).revision())).build(), out);
    }

    @Override
    public void leaseTimeToLive(LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
        group.read(LeaseGrpc.getLeaseTimeToLiveMethod(), request, false, () -> {
            expiry.syncLeadership();
            long revision = group.stateMachine().currentRevision();
            // etcd answers an unknown lease with TTL -1, not an error (etcdctl: "already expired")
            var b = LeaseTimeToLiveResponse.newBuilder().setHeader(group.header(revision)).setID(request.getID());
            if (!(group.stateMachine().leaseTimeToLive(request.getID()) instanceof Outcome.Done<LeaseTimeToLive> d)) {
                return b.setTTL(-1).build();
            }
            b.setGrantedTTL(d.response().lease().grantedTtlSeconds())
                    .setTTL(group.stateMachine().leaseDeadlines().remainingSeconds(request.getID()));
            if (request.getKeys()) {
                d.response().keys().forEach(k -> b.addKeys(ByteString.copyFrom(k)));
            }
            return b.build();
        }, out);
    }

    @Override
    public void leaseLeases(LeaseLeasesRequest request, StreamObserver<LeaseLeasesResponse> out) {
        group.read(LeaseGrpc.getLeaseLeasesMethod(), request, false, () -> {
            var b = LeaseLeasesResponse.newBuilder().setHeader(group.header(group.stateMachine().currentRevision()));
            for (Lease l : group.stateMachine().leases()) {
                b.addLeases(LeaseStatus.newBuilder().setID(l.id()));
            }
            return b.build();
        }, out);
    }

    @Override
    public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> out) {
        boolean forwarded = EtcdGroup.forwarded();
        return new StreamObserver<>() {
            /** The stream to the leader when this member relays (guarded by this). */
            private StreamObserver<LeaseKeepAliveRequest> relay;

            @Override
            public void onNext(LeaseKeepAliveRequest request) {
                synchronized (this) {
                    if (relay != null) {
                        relay.onNext(request);
                        return;
                    }
                    if (expiry.syncLeadership()) {
                        long ttl = group.stateMachine().leaseDeadlines().renew(request.getID());
                        out.onNext(LeaseKeepAliveResponse.newBuilder()
                                .setHeader(group.header(group.stateMachine().currentRevision()))
                                .setID(request.getID()).setTTL(ttl).build());
                        return;
                    }
                    Channel leader = forwarded ? null : group.leaderChannel(null);
                    if (leader == null) {
                        out.onError(forwarded ? EtcdCodec.leaderChanged() : EtcdCodec.noLeader());
                        return;
                    }
                    // a fresh context: the relayed stream must not inherit this call's cancellation or marker
                    Context previous = Context.ROOT.attach();
                    try {
                        relay = ClientCalls.asyncBidiStreamingCall(
                            leader.newCall(LeaseGrpc.getLeaseKeepAliveMethod(), CallOptions.DEFAULT),
                            new StreamObserver<LeaseKeepAliveResponse>() {
                                @Override
                                public void onNext(LeaseKeepAliveResponse value) {
                                    out.onNext(value);
                                }

                                @Override
                                public void onError(Throwable t) {
                                    out.onError(EtcdGroup.relayedError(t));
                                }

                                @Override
                                public void onCompleted() {
                                    out.onCompleted();
                                }
                            });
                    } finally {
                        Context.ROOT.detach(previous);
                    }
                    relay.onNext(request);
                }
            }

            @Override
            public synchronized void onError(Throwable t) {
                if (relay != null) {
                    relay.onError(t);
                }
            }

            @Override
            public synchronized void onCompleted() {
                if (relay != null) {
                    relay.onCompleted();
                } else {
                    out.onCompleted();
                }
            }
        };
    }
}
