package dev.atoll.server.etcd;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.MaintenanceGrpc;
import dev.atoll.proto.etcd.RangeRequest;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * What a learner serves, as etcd 3.4 decides it (its v3rpc interceptors): Status and
 * serializable Range; every other call, streams included, is refused with "etcdserver: rpc not
 * supported for learner" (code Unavailable, so clients try another member). Decided when the
 * call starts, from the {@code default} group's role on this node.
 */
final class LearnerGate implements ServerInterceptor {
    static final String NOT_SUPPORTED_FOR_LEARNER = "etcdserver: rpc not supported for learner";

    private final EtcdGroup group;

    LearnerGate(EtcdGroup group) {
        this.group = group;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        LogStatus s = group.status();
        if (s == null || s.role() != Role.LEARNER) {
            return next.startCall(call, headers);
        }
        MethodDescriptor<Q, A> method = call.getMethodDescriptor();
        String name = method.getFullMethodName();
        boolean unary = method.getType() == MethodDescriptor.MethodType.UNARY;
        if (unary && name.equals(MaintenanceGrpc.getStatusMethod().getFullMethodName())) {
            return next.startCall(call, headers);
        }
        if (!unary || !name.equals(KVGrpc.getRangeMethod().getFullMethodName())) {
            call.close(refusal(), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        // a Range is served only when serializable: look at the request before the handler does
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
            private boolean refused;

            @Override
            public void onMessage(Q message) {
                if (message instanceof RangeRequest r && !r.getSerializable()) {
                    refused = true;
                    call.close(refusal(), new Metadata());
                    return;
                }
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                if (!refused) {
                    super.onHalfClose();
                }
            }
        };
    }

    private static Status refusal() {
        return Status.UNAVAILABLE.withDescription(NOT_SUPPORTED_FOR_LEARNER);
    }
}
