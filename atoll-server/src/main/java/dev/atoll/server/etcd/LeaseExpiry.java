package dev.atoll.server.etcd;

import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Role;
import dev.atoll.proto.log.Command;
import dev.atoll.proto.log.LeaseExpire;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The leader's lease clock: follows this node's leadership of the group (a new term restarts
 * every deadline at the full TTL) and proposes a {@code lease_expire} command for each lease
 * whose deadline passed, so every replica deletes its keys at the same revision. Replicas
 * never expire a lease on their own clock. An expiry still unapplied after
 * leaseExpiryRetryMillis is proposed again (applying it twice is harmless).
 */
public final class LeaseExpiry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseExpiry.class);

    private final EtcdGroup group;
    private final LeaseDeadlines deadlines;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoClock;
    /** Lease id -> when its expiry was proposed (nanos), at most leaseExpiriesInFlightMax. */
    private final Map<Long, Long> proposedAtNanos = new ConcurrentHashMap<>();
    private boolean leading;
    private long leadingTerm;
    private ScheduledFuture<?> task;

    public LeaseExpiry(EtcdGroup group, ScheduledExecutorService scheduler, LongSupplier nanoClock) {
        this.group = group;
        this.deadlines = group.stateMachine().leaseDeadlines();
        this.scheduler = scheduler;
        this.nanoClock = nanoClock;
    }

    public void start() {
        long every = group.options().leaseExpiryCheckMillis();
        task = scheduler.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
    }

    /** Brings the deadlines in line with this node's current role; returns whether it leads. */
    public synchronized boolean syncLeadership() {
        LogStatus s = group.status();
        boolean leaderNow = s != null && s.role() == Role.LEADER;
        if (leaderNow && (!leading || s.term() != leadingTerm)) {
            deadlines.startLeading();
            proposedAtNanos.clear();
            log.info("lease_clock_started group={} term={}", group.groupId(), s.term());
        } else if (!leaderNow && leading) {
            deadlines.stopLeading();
            proposedAtNanos.clear();
            log.info("lease_clock_stopped group={}", group.groupId());
        }
        leading = leaderNow;
        leadingTerm = leaderNow ? s.term() : 0;
        return leaderNow;
    }

    void tick() {
        try {
            if (!syncLeadership()) {
                return;
            }
            long now = nanoClock.getAsLong();
            long retryNanos = TimeUnit.MILLISECONDS.toNanos(group.options().leaseExpiryRetryMillis());
            List<Long> expired = deadlines.expired(group.options().leaseExpiriesInFlightMax());
            for (long id : expired) {
                Long proposedAt = proposedAtNanos.get(id);
                if (proposedAt != null && now - proposedAt < retryNanos) {
                    continue;
                }
                if (proposedAt == null && proposedAtNanos.size() >= group.options().leaseExpiriesInFlightMax()) {
                    break;
                }
                proposedAtNanos.put(id, now);
                group.proposeInternal(Command.newBuilder().setLeaseExpire(LeaseExpire.newBuilder().addLeaseIds(id)))
                        .whenComplete((result, error) -> {
                            if (error == null) {
                                proposedAtNanos.remove(id);
                            }
                        });
                log.debug("lease_expiry_proposed lease={}", id);
            }
        } catch (RuntimeException e) {
            // the periodic task must survive a failed round; the next round retries
            log.warn("lease_expiry_round_failed error={}", e.toString());
        }
    }

    @Override
    public void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
