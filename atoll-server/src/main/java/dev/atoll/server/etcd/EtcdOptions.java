package dev.atoll.server.etcd;

import static dev.atoll.core.Check.checkArgument;

/**
 * Limits and timing of the etcd API edge. Every bound is checked on input.
 *
 * @param requestTimeoutMillis        longest a proposal or a linearizable read waits before
 *                                    "etcdserver: request timed out" (etcd: 5 s)
 * @param requestBytesMax             largest request proposed to the log (etcd --max-request-bytes,
 *                                    1.5 MiB); the Raft group's appendBytesMax must be above it
 * @param leaseTtlSecondsMin          shortest TTL granted; shorter requests are raised to it, as
 *                                    etcd raises them to its minimum lease TTL
 * @param leaseExpiryCheckMillis      how often the leader looks for expired leases
 * @param leaseExpiryRetryMillis      when an expiry proposal is retried if the lease is still there
 * @param leaseExpiriesInFlightMax    lease expiries proposed and not yet applied
 * @param watchersPerStreamMax        watchers one Watch stream may hold
 * @param watchEventsQueuedMax        events queued unsent for one watcher before it is cancelled
 *                                    as too slow (live events) or paused (catching up from history)
 * @param watchHistoryPageEventsMax   events read from history per page while catching up
 * @param watchProgressIntervalMillis how often idle watchers with progress_notify get an empty response
 */
public record EtcdOptions(long requestTimeoutMillis, int requestBytesMax, long leaseTtlSecondsMin,
                          long leaseExpiryCheckMillis, long leaseExpiryRetryMillis, int leaseExpiriesInFlightMax,
                          int watchersPerStreamMax, int watchEventsQueuedMax, int watchHistoryPageEventsMax,
                          long watchProgressIntervalMillis) {

    public static final int REQUEST_BYTES_MAX_DEFAULT = 1536 * 1024;

    public EtcdOptions {
        checkArgument(requestTimeoutMillis > 0, "requestTimeoutMillis > 0: %d", requestTimeoutMillis);
        checkArgument(requestBytesMax > 0, "requestBytesMax > 0: %d", requestBytesMax);
        checkArgument(leaseTtlSecondsMin > 0, "leaseTtlSecondsMin > 0: %d", leaseTtlSecondsMin);
        checkArgument(leaseExpiryCheckMillis > 0 && leaseExpiryRetryMillis > 0, "lease timings > 0");
        checkArgument(leaseExpiriesInFlightMax > 0, "leaseExpiriesInFlightMax > 0");
        checkArgument(watchersPerStreamMax > 0 && watchEventsQueuedMax > 0 && watchHistoryPageEventsMax > 0,
                "watch bounds > 0");
        checkArgument(watchProgressIntervalMillis > 0, "watchProgressIntervalMillis > 0");
    }

    public static EtcdOptions defaults() {
        return new EtcdOptions(5_000, REQUEST_BYTES_MAX_DEFAULT, 2, 250, 3_000, 1_000, 1_000, 10_000, 1_000,
                600_000);
    }

    public EtcdOptions withRequestTimeoutMillis(long millis) {
        return new EtcdOptions(millis, requestBytesMax, leaseTtlSecondsMin, leaseExpiryCheckMillis,
                leaseExpiryRetryMillis, leaseExpiriesInFlightMax, watchersPerStreamMax, watchEventsQueuedMax,
                watchHistoryPageEventsMax, watchProgressIntervalMillis);
    }

    public EtcdOptions withLeaseTtlSecondsMin(long seconds) {
        return new EtcdOptions(requestTimeoutMillis, requestBytesMax, seconds, leaseExpiryCheckMillis,
                leaseExpiryRetryMillis, leaseExpiriesInFlightMax, watchersPerStreamMax, watchEventsQueuedMax,
                watchHistoryPageEventsMax, watchProgressIntervalMillis);
    }

    public EtcdOptions withWatchEventsQueuedMax(int events) {
        return new EtcdOptions(requestTimeoutMillis, requestBytesMax, leaseTtlSecondsMin, leaseExpiryCheckMillis,
                leaseExpiryRetryMillis, leaseExpiriesInFlightMax, watchersPerStreamMax, events,
                watchHistoryPageEventsMax, watchProgressIntervalMillis);
    }
}
