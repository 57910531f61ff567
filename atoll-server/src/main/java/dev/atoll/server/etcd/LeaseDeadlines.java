package dev.atoll.server.etcd;

import dev.atoll.storage.mvcc.Lease;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * When each lease runs out, kept in memory against a monotonic clock. Every replica knows each
 * lease's granted TTL (the state machine reports grants and revocations as it applies them);
 * only while this node leads does a lease have a deadline, which keep-alives push back. A new
 * leader restarts every deadline at the full TTL, as etcd does: the old leader's keep-alives
 * were never logged, so nothing else is safe. Thread-safe.
 */
public final class LeaseDeadlines {
    private final LongSupplier nanoClock;
    private final Map<Long, Long> ttlSeconds = new HashMap<>();
    private final Map<Long, Long> deadlineNanos = new HashMap<>();
    private boolean leading;

    /** {@code nanoClock}: a monotonic clock in nanoseconds (System::nanoTime in production). */
    public LeaseDeadlines(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** The state machine applied a grant. */
    public synchronized void granted(long id, long ttl) {
        ttlSeconds.put(id, ttl);
        if (leading) {
            deadlineNanos.put(id, nanoClock.getAsLong() + TimeUnit.SECONDS.toNanos(ttl));
        }
    }

    /** The state machine applied a revocation or an expiry. */
    public synchronized void revoked(long id) {
        ttlSeconds.remove(id);
        deadlineNanos.remove(id);
    }

    /** The state machine's leases were replaced (open, snapshot install). */
    public synchronized void reset(List<Lease> leases) {
        ttlSeconds.clear();
        deadlineNanos.clear();
        for (Lease l : leases) {
            ttlSeconds.put(l.id(), l.grantedTtlSeconds());
        }
        if (leading) {
            restartAll();
        }
    }

    /** This node became leader (of a new term): every lease gets its full TTL from now. */
    public synchronized void startLeading() {
        leading = true;
        restartAll();
    }

    public synchronized void stopLeading() {
        leading = false;
        deadlineNanos.clear();
    }

    public synchronized boolean leading() {
        return leading;
    }

    private void restartAll() {
        long now = nanoClock.getAsLong();
        deadlineNanos.clear();
        ttlSeconds.forEach((id, ttl) -> deadlineNanos.put(id, now + TimeUnit.SECONDS.toNanos(ttl)));
    }

    /** A keep-alive: the lease's granted TTL, its deadline pushed to now + TTL; 0 when the lease is unknown. */
    public synchronized long renew(long id) {
        Long ttl = ttlSeconds.get(id);
        if (ttl == null || !leading) {
            return 0;
        }
        deadlineNanos.put(id, nanoClock.getAsLong() + TimeUnit.SECONDS.toNanos(ttl));
        return ttl;
    }

    /** Whole seconds left (rounded up), the granted TTL when not leading, -1 when the lease is unknown. */
    public synchronized long remainingSeconds(long id) {
        Long ttl = ttlSeconds.get(id);
        if (ttl == null) {
            return -1;
        }
        Long deadline = deadlineNanos.get(id);
        if (deadline == null) {
            return ttl;
        }
        long leftNanos = Math.max(0, deadline - nanoClock.getAsLong());
        return (leftNanos + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1);
    }

    /** At most {@code idsMax} leases whose deadline has passed (empty unless leading). */
    public synchronized List<Long> expired(int idsMax) {
        List<Long> out = new ArrayList<>();
        long now = nanoClock.getAsLong();
        for (Map.Entry<Long, Long> e : deadlineNanos.entrySet()) {
            if (out.size() >= idsMax) {
                break;
            }
            if (e.getValue() - now <= 0) {
                out.add(e.getKey());
            }
        }
        return out;
    }
}
