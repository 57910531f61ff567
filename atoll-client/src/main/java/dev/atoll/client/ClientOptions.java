package dev.atoll.client;

import java.time.Duration;

/**
 * How hard an {@link AtollClient} tries. Every bound is explicit.
 *
 * @param attemptTimeout     the gRPC deadline of one request to one node
 * @param operationTimeout   the whole of one operation, retries included
 * @param attemptsMax        requests one operation may send (at least 1); the default is high enough
 *                           that the operation timeout, not the count, ends the retries of a node
 *                           without a leader (a 16-attempt budget once ran out in 1.8 s during an election)
 * @param backoffMin         the pause after a node could not serve (no leader, unavailable), doubled
 *                           per retry up to {@code backoffMax}
 * @param backoffMax         the longest such pause
 * @param routeMaxAge        a keyspace's cached shard map older than this is fetched again before its
 *                           next use, so leaders that moved without refusing anything are found
 */
public record ClientOptions(Duration attemptTimeout, Duration operationTimeout, int attemptsMax,
                            Duration backoffMin, Duration backoffMax, Duration routeMaxAge) {
    public static final int ATTEMPTS_MAX_LIMIT = 1_000;

    public static final ClientOptions DEFAULTS = new ClientOptions(Duration.ofSeconds(10), Duration.ofSeconds(30), 128,
            Duration.ofMillis(10), Duration.ofMillis(500), Duration.ofSeconds(10));

    public ClientOptions {
        require(attemptTimeout.isPositive(), "attemptTimeout is positive");
        require(operationTimeout.isPositive(), "operationTimeout is positive");
        require(attemptsMax >= 1 && attemptsMax <= ATTEMPTS_MAX_LIMIT, "attemptsMax is in 1.." + ATTEMPTS_MAX_LIMIT);
        require(!backoffMin.isNegative() && backoffMax.compareTo(backoffMin) >= 0,
                "0 <= backoffMin <= backoffMax");
        require(routeMaxAge.isPositive(), "routeMaxAge is positive");
    }

    public ClientOptions withOperationTimeout(Duration timeout) {
        return new ClientOptions(attemptTimeout, timeout, attemptsMax, backoffMin, backoffMax, routeMaxAge);
    }

    public ClientOptions withAttemptTimeout(Duration timeout) {
        return new ClientOptions(timeout, operationTimeout, attemptsMax, backoffMin, backoffMax, routeMaxAge);
    }

    public ClientOptions withRouteMaxAge(Duration age) {
        return new ClientOptions(attemptTimeout, operationTimeout, attemptsMax, backoffMin, backoffMax, age);
    }

    private static void require(boolean condition, String what) {
        if (!condition) {
            throw new IllegalArgumentException("client options: " + what);
        }
    }
}
