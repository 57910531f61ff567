package dev.atoll.server.cluster;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.proto.meta.MembersRequest;
import dev.atoll.proto.meta.MembershipGrpc;
import dev.atoll.proto.meta.PublishResult;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Notices that this member was removed from the cluster, so that it stops as etcd's removed
 * members do ("the member has been permanently removed from the cluster") instead of serving
 * stale reads. A removed member is no longer sent anything, so the watch starts looking once the
 * member has heard from no leader of the {@code default} group for a while: its own table may
 * hold its tombstone (the removal committed while it still replicated the meta group), or else
 * its peers' tables do. Only a tombstone with this member's id counts: a peer whose table lags
 * says nothing, and a member cut off by a partition is not removed.
 */
public final class RemovalWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemovalWatch.class);
    private static final long PERIOD_MILLIS = 500;
    private static final long CALL_MILLIS = 2_000;

    private final long memberId;
    private final Supplier<MemberTable> table;
    private final Supplier<LogStatus> dataStatus;
    private final Supplier<Collection<String>> peerTargets;
    private final long leaderlessMillisMin;
    private final Runnable removed;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean fired = new AtomicBoolean();
    private ScheduledFuture<?> periodic;
    private long leaderlessSinceNanos = -1;

    /**
     * @param memberId           this member's etcd id
     * @param dataStatus         the {@code default} group's status on this node
     * @param peerTargets        "host:port" of the peers' peer ports
     * @param leaderlessMillisMin how long without a leader before the peers are asked
     * @param removed            run once, when the removal is known
     */
    public RemovalWatch(long memberId, Supplier<MemberTable> table, Supplier<LogStatus> dataStatus,
                        Supplier<Collection<String>> peerTargets, long leaderlessMillisMin, Runnable removed,
                        ScheduledExecutorService scheduler) {
        this.memberId = memberId;
        this.table = table;
        this.dataStatus = dataStatus;
        this.peerTargets = peerTargets;
        this.leaderlessMillisMin = leaderlessMillisMin;
        this.removed = removed;
        this.scheduler = scheduler;
    }

    public void start() {
        periodic = scheduler.scheduleWithFixedDelay(this::check, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Whether {@code table} holds this member's tombstone. */
    boolean removedIn(MemberTable t) {
        return t.byId(memberId).map(Member::removed).orElse(false);
    }

    private void check() {
        if (fired.get()) {
            return;
        }
        // a member being removed still serves (a leader hands over first): only once it hears
        // from no leader any more is it out
        LogStatus s = dataStatus.get();
        if (s == null || s.leader() != null) {
            leaderlessSinceNanos = -1;
            return;
        }
        long now = System.nanoTime();
        if (leaderlessSinceNanos < 0) {
            leaderlessSinceNanos = now;
        }
        if (now - leaderlessSinceNanos < TimeUnit.MILLISECONDS.toNanos(leaderlessMillisMin)) {
            return;
        }
        if (removedIn(table.get())) {
            fire("own table");
            return;
        }
        for (String target : peerTargets.get()) {
            ManagedChannel ch = NettyChannelBuilder.forTarget(target).usePlaintext().build();
            MembershipGrpc.newStub(ch).withDeadlineAfter(CALL_MILLIS, TimeUnit.MILLISECONDS)
                    .members(MembersRequest.getDefaultInstance(), new StreamObserver<>() {
                        @Override
                        public void onNext(PublishResult r) {
                            var t = new MemberTable(r.getClusterId(), r.getMembersList().stream()
                                    .map(Member::fromProto).toList());
                            if (removedIn(t)) {
                                fire("peer " + target);
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            ch.shutdown();
                        }

                        @Override
                        public void onCompleted() {
                            ch.shutdown();
                        }
                    });
        }
        leaderlessSinceNanos = now; // ask again after another while
    }

    private void fire(String source) {
        if (fired.compareAndSet(false, true)) {
            log.error("member_removed id={} source=\"{}\" action=stopping reason=\"the member has been permanently "
                    + "removed from the cluster\"", Long.toHexString(memberId), source);
            if (periodic != null) {
                periodic.cancel(false);
            }
            removed.run();
        }
    }

    /** Whether the removal was noticed. */
    public boolean removed() {
        return fired.get();
    }

    @Override
    public void close() {
        if (periodic != null) {
            periodic.cancel(false);
        }
    }
}
