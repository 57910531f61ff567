package dev.atoll.server.etcd;

import com.google.protobuf.Message;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.etcd.ResponseHeader;
import dev.atoll.proto.log.Command;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.NotLeaderException;
import dev.atoll.server.runtime.ProposalFailedException;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The etcd API's view of the {@code default} Raft group on this node: proposes commands and
 * linearizable read barriers with a deadline, builds response headers, maps failures to etcd's
 * statuses, and forwards a request that reached a follower to the leader once (a metadata
 * marker stops a forwarded request from being forwarded again). Shared by the services;
 * thread-safe. Continuations run on {@code executor}, never on the runtime's loop thread.
 */
public final class EtcdGroup {
    private static final Logger log = LoggerFactory.getLogger(EtcdGroup.class);

    /** Set on a request a follower forwards to the leader; the leader never forwards it again. */
    static final Metadata.Key<String> FORWARDED_BY =
            Metadata.Key.of("atoll-forwarded-by", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> FORWARDED_CONTEXT = Context.key("atoll-forwarded-by");

    private final NodeRuntime runtime;
    private final long groupId;
    private final EtcdStateMachine stateMachine;
    private final EtcdOptions options;
    private final EtcdMembers members;
    private final LeaderChannels leaderChannels;
    private final Executor executor;
    /**
     * Runs the continuations of proposals and linearizable reads on {@code executor}, a round's
     * together, for callers off a gRPC event loop (in-process calls, tests); on an event loop they
     * run there ({@link #callExecutor}).
     */
    private final Executor continuations;
    private final AtomicLong nextRequestId;
    /** Fails proposals and read barriers that outlive requestTimeoutMillis; swept by {@link EtcdApi}. */
    private final RequestDeadlines deadlines;

    /** Continuations waiting for their drain, at most (the pool's own queue bound). */
    static final int CONTINUATIONS_QUEUED_MAX = 10_000;
    /** Requests whose timeout is watched by the sweep; beyond it, a JDK timer each. */
    static final int DEADLINES_WATCHED_MAX = 262_144;

    /**
     * {@code executor} runs every continuation of a proposal or read (bounded: a rejection is
     * answered "etcdserver: too many requests"); {@code leaderChannels} may return null for an
     * unknown leader.
     */
    public EtcdGroup(NodeRuntime runtime, long groupId, EtcdStateMachine stateMachine, EtcdOptions options,
                     EtcdMembers members, LeaderChannels leaderChannels, Executor executor) {
        this.runtime = runtime;
        this.groupId = groupId;
        this.stateMachine = stateMachine;
        this.options = options;
        this.members = members;
        this.leaderChannels = leaderChannels;
        this.executor = executor;
        this.continuations = new CoalescingExecutor(executor, CONTINUATIONS_QUEUED_MAX);
        this.deadlines = new RequestDeadlines(options.requestTimeoutMillis(), DEADLINES_WATCHED_MAX, System::nanoTime);
        // unique across the cluster: the member id's low bits above a per-process counter
        this.nextRequestId = new AtomicLong((members.memberId(runtime.self()) & 0xFFFFFL) << 40);
    }

    /** The interceptor every etcd service must be bound with, so forwarded requests are recognised. */
    public static ServerInterceptor forwardingMarker() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                               ServerCallHandler<Q, A> next) {
                String by = headers.get(FORWARDED_BY);
                if (by == null) {
                    return next.startCall(call, headers);
                }
                return Contexts.interceptCall(Context.current().withValue(FORWARDED_CONTEXT, by), call, headers, next);
            }
        };
    }

    /** Whether the request being served (on its gRPC thread) was forwarded by another member. */
    static boolean forwarded() {
        return FORWARDED_CONTEXT.get() != null;
    }

    public EtcdStateMachine stateMachine() {
        return stateMachine;
    }

    public EtcdOptions options() {
        return options;
    }

    public EtcdMembers members() {
        return members;
    }

    public NodeRuntime runtime() {
        return runtime;
    }

    public long groupId() {
        return groupId;
    }

    Executor executor() {
        return executor;
    }

    RequestDeadlines deadlines() {
        return deadlines;
    }

    public LogStatus status() {
        return runtime.status(groupId);
    }

    public boolean isLeader() {
        LogStatus s = status();
        return s != null && s.role() == Role.LEADER;
    }

    public ResponseHeader header(long revision) {
        LogStatus s = status();
        return ResponseHeader.newBuilder()
                .setClusterId(members.clusterId())
                .setMemberId(members.memberId(runtime.self()))
                .setRevision(revision)
                .setRaftTerm(s == null ? 0 : s.term())
                .build();
    }

    // ------------------------------------------------------------------ writes and reads

    /**
     * Proposes {@code op} (a builder with the op set) and answers {@code out} with
     * {@code respond(applied response)}; on a follower, forwards {@code request} to the leader
     * through {@code method}. Requests over requestBytesMax are refused before proposing.
     */
    <Q extends Message, A> void write(MethodDescriptor<Q, A> method, Q request, Command.Builder op,
                                      Function<Object, A> respond, StreamObserver<A> out) {
        boolean forwarded = forwarded();
        if (request.getSerializedSize() > options.requestBytesMax()) {
            out.onError(EtcdCodec.requestTooLarge());
            return;
        }
        byte[] command = op.setRequestId(nextRequestId.incrementAndGet()).build().toByteArray();
        Executor answering = callExecutor();
        deadlines.watch(runtime.propose(groupId, command))
                // handleAsync, not whenCompleteAsync: the stage after it must fail only when this
                // callback throws or the executor refuses it, never again for the proposal's own error
                .handleAsync((result, error) -> {
                    if (error != null) {
                        fail(method, request, forwarded, error, out);
                    } else {
                        answer(result, respond, out);
                    }
                    return null;
                }, answering)
                .exceptionally(rejected -> {
                    out.onError(statusOf(rejected));
                    return null;
                });
    }

    /**
     * Where the answer to the write being served is built and sent: the gRPC event loop that
     * decoded it (handlers run there, directExecutor), which writes the response anyway. The loop
     * thread's completion then costs one hand-off, to that event loop, instead of one to a pool
     * thread and a second from the pool thread to the event loop. Off an event loop (in-process
     * calls, tests), the pool.
     */
    private Executor callExecutor() {
        Executor loop = eventLoop();
        return loop != null ? loop : continuations;
    }

    /** The gRPC event loop running this thread, or null off an event loop. */
    private static Executor eventLoop() {
        return io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap.currentExecutor();
    }

    /**
     * Answers with {@code read} served locally once a linearizable read barrier passed (or at once
     * when serializable), on the gRPC event loop that decoded it ({@link #callExecutor}), which
     * writes the response anyway. A serializable read is served right there, in the handler: no
     * hand-off at all (a pool thread and back cost it 0.4 context switches and a quarter of its
     * CPU under load). A linearizable read takes one hand-off, from the loop thread to that event
     * loop, as a write's answer. Off an event loop (in-process calls, tests), a pool thread.
     */
    <Q extends Message, A> void read(MethodDescriptor<Q, A> method, Q request, boolean serializable,
                                     java.util.function.Supplier<A> read, StreamObserver<A> out) {
        boolean forwarded = forwarded();
        if (serializable && eventLoop() != null) {
            serve(read, out);
            return;
        }
        CompletableFuture<?> barrier = serializable ? CompletableFuture.completedFuture(0L)
                : deadlines.watch(runtime.readBarrier(groupId));
        Executor serving = serializable ? executor : callExecutor();
        barrier.handleAsync((index, error) -> {
            if (error != null) {
                fail(method, request, forwarded, error, out);
            } else {
                serve(read, out);
            }
            return null;
        }, serving).exceptionally(rejected -> {
            out.onError(statusOf(rejected));
            return null;
        });
    }

    /** Serves {@code read}; a refusal or a failure of the store becomes its etcd status. */
    private static <A> void serve(java.util.function.Supplier<A> read, StreamObserver<A> out) {
        A response;
        try {
            response = read.get();
        } catch (RuntimeException e) {
            out.onError(statusOf(e));
            return;
        }
        out.onNext(response);
        out.onCompleted();
    }

    private static <A> void answer(Object result, Function<Object, A> respond, StreamObserver<A> out) {
        switch (result) {
            case EtcdStateMachine.Applied applied -> {
                out.onNext(respond.apply(applied.response()));
                out.onCompleted();
            }
            case EtcdStateMachine.Refused refused -> out.onError(EtcdCodec.toStatus(refused.error()));
            case EtcdStateMachine.Malformed malformed -> out.onError(EtcdCodec.malformed(malformed.detail()));
            case EtcdStateMachine.Replayed replayed -> throw new IllegalStateException(
                    "a fresh proposal is never a replay: " + replayed);
            case null, default -> throw new IllegalStateException("unexpected apply result " + result);
        }
    }

    private <Q extends Message, A> void fail(MethodDescriptor<Q, A> method, Q request, boolean forwarded,
                                             Throwable error, StreamObserver<A> out) {
        Throwable cause = unwrap(error);
        if (cause instanceof NotLeaderException notLeader) {
            if (forwarded) {
                // the member that forwarded thought we lead; leadership moved meanwhile
                out.onError(EtcdCodec.leaderChanged());
                return;
            }
            forward(method, request, notLeader.leaderHint(), out);
            return;
        }
        out.onError(statusOf(cause));
    }

    /** The etcd status for a failure of a proposal, read or continuation. */
    static StatusRuntimeException statusOf(Throwable error) {
        Throwable cause = unwrap(error);
        return switch (cause) {
            case StatusRuntimeException s -> s;
            case TimeoutException t -> EtcdCodec.requestTimedOut();
            case RejectedExecutionException r -> EtcdCodec.tooManyRequests();
            case NotLeaderException n -> n.leaderHint() == null ? EtcdCodec.noLeader() : EtcdCodec.leaderChanged();
            case ProposalFailedException p -> {
                // NodeRuntime says why only in words: stopping, overloaded, dropped or lost to a leader change
                String why = p.getMessage();
                if (why.contains("stopping")) {
                    yield EtcdCodec.serverStopped();
                }
                if (why.contains("overloaded")) {
                    yield EtcdCodec.tooManyRequests();
                }
                yield EtcdCodec.leaderChanged();
            }
            case CancellationException c -> Status.CANCELLED.withDescription("request cancelled").asRuntimeException();
            default -> {
                log.error("etcd_request_failed error={}", cause.toString(), cause);
                yield Status.INTERNAL.withDescription("etcdserver: internal error: " + cause).asRuntimeException();
            }
        };
    }

    private static Throwable unwrap(Throwable error) {
        Throwable t = error;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    // ------------------------------------------------------------------ forwarding

    /** The channel to the current leader, or null (the caller answers "no leader"). */
    Channel leaderChannel(NodeId hint) {
        NodeId leader = hint;
        if (leader == null) {
            LogStatus s = status();
            leader = s == null ? null : s.leader();
        }
        if (leader == null || leader.equals(runtime.self())) {
            return null;
        }
        Channel channel = leaderChannels.channelTo(leader);
        if (channel == null) {
            return null;
        }
        var marker = new Metadata();
        marker.put(FORWARDED_BY, runtime.self().value());
        return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(marker));
    }

    /** Calls {@code method} on the leader with the forwarding marker and relays its answer, once. */
    <Q, A> void forward(MethodDescriptor<Q, A> method, Q request, NodeId leaderHint, StreamObserver<A> out) {
        Channel leader = leaderChannel(leaderHint);
        if (leader == null) {
            out.onError(EtcdCodec.noLeader());
            return;
        }
        CallOptions callOptions = CallOptions.DEFAULT.withDeadlineAfter(options.requestTimeoutMillis(),
                TimeUnit.MILLISECONDS);
        // a fresh context: the forwarded call must not inherit this call's forwarding marker
        Context.ROOT.run(() -> ClientCalls.asyncUnaryCall(leader.newCall(method, callOptions), request,
                new StreamObserver<A>() {
                    @Override
                    public void onNext(A value) {
                        out.onNext(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        out.onError(relayedError(t));
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }));
    }

    /**
     * What a client is told when the hop to the leader failed. The leader's own etcd errors
     * pass through; a transport failure of the hop is not the client's connection failing, so
     * it becomes etcd's answer: "no leader" when the leader could not be reached, "leader
     * changed" when the connection broke with the request in flight (it may have been applied).
     */
    static StatusRuntimeException relayedError(Throwable t) {
        Status s = Status.fromThrowable(t);
        if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return EtcdCodec.requestTimedOut();
        }
        String description = s.getDescription();
        if (description != null && description.startsWith("etcdserver: ")) {
            return s.asRuntimeException();
        }
        if (s.getCode() == Status.Code.UNAVAILABLE) {
            return description != null && description.contains("Network closed")
                    ? EtcdCodec.leaderChanged() : EtcdCodec.noLeader();
        }
        return s.asRuntimeException();
    }

    /** Proposes a command with no client waiting on a particular answer (lease expiry). */
    CompletableFuture<Object> proposeInternal(Command.Builder op) {
        return deadlines.watch(runtime.propose(groupId,
                op.setRequestId(nextRequestId.incrementAndGet()).build().toByteArray()));
    }
}
