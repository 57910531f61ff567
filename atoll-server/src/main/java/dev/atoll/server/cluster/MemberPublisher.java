package dev.atoll.server.cluster;

import dev.atoll.proto.meta.MembershipGrpc;
import dev.atoll.proto.meta.PublishMember;
import dev.atoll.proto.meta.PublishResult;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A member publishing itself, etcd's way: its name and client URLs go into the member table
 * through the leader. A joining member does it once before it starts, through the members its
 * initial-cluster names, to learn the cluster id and the members ({@link #join}); every member
 * does it again after each start, through its own peer port, until its table shows it
 * ({@link #start}).
 */
public final class MemberPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MemberPublisher.class);
    private static final long CALL_MILLIS = 5_000;

    private final PublishMember request;
    private final String ownPeerTarget;
    private final Supplier<MemberTable> table;
    private final ScheduledExecutorService scheduler;
    private ManagedChannel channel;
    private ScheduledFuture<?> periodic;
    private volatile boolean published;
    private volatile boolean inFlight;

    /** Publishes {@code request} through the node's own peer port ("host:port") until {@code table} shows it. */
    public MemberPublisher(PublishMember request, String ownPeerTarget, Supplier<MemberTable> table,
                           ScheduledExecutorService scheduler) {
        this.request = request;
        this.ownPeerTarget = ownPeerTarget;
        this.table = table;
        this.scheduler = scheduler;
    }

    public void start() {
        channel = NettyChannelBuilder.forTarget(ownPeerTarget).usePlaintext().build();
        periodic = scheduler.scheduleWithFixedDelay(this::attempt, 200, 1_000, TimeUnit.MILLISECONDS);
    }

    /** Whether the table shows this member as published. */
    public boolean published() {
        return published;
    }

    private void attempt() {
        if (published || inFlight) {
            return;
        }
        Optional<Member> me = table.get().currentByName(request.getName());
        if (me.isPresent() && me.get().clientUrls().equals(request.getClientUrlsList())
                && me.get().labels().equals(NodeLabels.fromProto(request.getLabels()))) {
            published = true;
            periodic.cancel(false);
            log.info("member_published name={} id={}", request.getName(), Long.toHexString(me.get().id()));
            return;
        }
        // asynchronous: the scheduler's thread also serves the member changes this call waits on
        inFlight = true;
        MembershipGrpc.newStub(channel).withDeadlineAfter(CALL_MILLIS, TimeUnit.MILLISECONDS).publish(request,
                new StreamObserver<>() {
                    @Override
                    public void onNext(PublishResult value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status status = Status.fromThrowable(t);
                        if (isPermanent(status)) {
                            log.error("member_publish_refused name={} error=\"{}\" action=none", request.getName(),
                                    status.getDescription());
                            published = true;
                            periodic.cancel(false);
                        } else {
                            log.debug("member_publish_retry name={} status={}", request.getName(), status);
                        }
                        inFlight = false;
                    }

                    @Override
                    public void onCompleted() {
                        inFlight = false;
                    }
                });
    }

    @Override
    public void close() {
        if (periodic != null) {
            periodic.cancel(false);
        }
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    /**
     * Joins a running cluster: publishes {@code request} through any of {@code peerTargets}
     * ("host:port" of members' peer ports), retrying for {@code timeout}. Throws
     * IllegalStateException with etcd's text when the cluster refuses (the member was not added,
     * was removed, or its name is taken) or cannot be reached.
     */
    public static PublishResult join(List<String> peerTargets, PublishMember request, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastError = "no member to ask";
        while (System.nanoTime() - deadline < 0) {
            for (String target : peerTargets) {
                ManagedChannel ch = NettyChannelBuilder.forTarget(target).usePlaintext().build();
                try {
                    PublishResult result = MembershipGrpc.newBlockingStub(ch)
                            .withDeadlineAfter(CALL_MILLIS, TimeUnit.MILLISECONDS).publish(request);
                    log.info("member_joined name={} id={} cluster={} through={}", request.getName(),
                            Long.toHexString(result.getMemberId()), Long.toHexString(result.getClusterId()), target);
                    return result;
                } catch (StatusRuntimeException e) {
                    if (isPermanent(e.getStatus())) {
                        throw new IllegalStateException("the cluster refused member " + request.getName() + ": "
                                + e.getStatus().getDescription());
                    }
                    lastError = target + ": " + e.getStatus();
                } finally {
                    ch.shutdownNow();
                }
            }
            TimeUnit.MILLISECONDS.sleep(500);
        }
        throw new IllegalStateException("could not join the cluster within " + timeout + " (" + lastError + ")");
    }

    private static boolean isPermanent(Status status) {
        return status.getCode() == Status.Code.FAILED_PRECONDITION || status.getCode() == Status.Code.NOT_FOUND;
    }
}
