package dev.atoll.server;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Times every client API call by method and outcome ({@code atoll_api_request_seconds}, tags
 * {@code method} such as {@code etcdserverpb.KV/Put} and {@code code} such as {@code OK}). The
 * method names are the service's own, so the tag set is bounded.
 */
final class RequestLatency implements ServerInterceptor {
    private final MeterRegistry metrics;
    /**
     * The timer of each method and outcome, registered on first use: looking one up in the
     * registry builds its id and tags, a cost every call paid. Bounded as the tag set is.
     */
    private final ConcurrentHashMap<MethodOutcome, Timer> timers = new ConcurrentHashMap<>();

    private record MethodOutcome(String method, Status.Code code) {
    }

    RequestLatency(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    private Timer timer(String method, Status.Code code) {
        return timers.computeIfAbsent(new MethodOutcome(method, code), k -> Timer.builder("atoll_api_request_seconds")
                .tag("method", k.method())
                .tag("code", k.code().name())
                .publishPercentileHistogram()
                .register(metrics));
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                       ServerCallHandler<Q, A> next) {
        long started = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                timer(method, status.getCode()).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                super.close(status, trailers);
            }
        }, headers);
    }
}
