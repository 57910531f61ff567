package dev.atoll.server;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * Times every client API call by method and outcome ({@code atoll_api_request_seconds}, tags
 * {@code method} such as {@code etcdserverpb.KV/Put} and {@code code} such as {@code OK}). The
 * method names are the service's own, so the tag set is bounded.
 */
final class RequestLatency implements ServerInterceptor {
    private final MeterRegistry metrics;

    RequestLatency(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                       ServerCallHandler<Q, A> next) {
        long started = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                Timer.builder("atoll_api_request_seconds")
                        .tag("method", method)
                        .tag("code", status.getCode().name())
                        .publishPercentileHistogram()
                        .register(metrics)
                        .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                super.close(status, trailers);
            }
        }, headers);
    }
}
