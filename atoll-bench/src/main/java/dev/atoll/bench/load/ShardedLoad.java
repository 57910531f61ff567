package dev.atoll.bench.load;

import dev.atoll.client.AtollClient;
import dev.atoll.client.AtollException;
import dev.atoll.client.ClientOptions;
import dev.atoll.client.ReadConsistency;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The load generator's requests on a sharded keyspace ({@code --keyspace}): puts and point reads
 * through one {@link AtollClient}, which sends each key straight to its shard's leader. The
 * client's calls block, so each request runs on a virtual thread of its own; the key and the
 * read-or-write choice are drawn on the caller's thread from the client slot's random source.
 */
final class ShardedLoad implements AutoCloseable {
    private final LoadOptions options;
    private final KeySpace keys;
    private final byte[] value;
    private final ReadConsistency consistency;
    private final AtollClient client;
    private final ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor();

    ShardedLoad(LoadOptions options, KeySpace keys) {
        this.options = options;
        this.keys = keys;
        this.value = Operation.filler(options.valueBytes());
        this.consistency = options.consistency() == LoadOptions.Consistency.SERIALIZABLE
                ? ReadConsistency.SERIALIZABLE : ReadConsistency.LINEARIZABLE;
        Duration timeout = Duration.ofMillis(options.requestTimeoutMillis());
        this.client = AtollClient.connect(options.endpoints(), ClientOptions.DEFAULTS.withAttemptTimeout(timeout)
                .withOperationTimeout(timeout));
    }

    /** Fetches the keyspace's map before the clock starts; a keyspace that cannot be read ends the run. */
    void prepare() {
        try {
            client.get(options.keyspace(), keys.key(0).toByteArray(), ReadConsistency.SERIALIZABLE);
        } catch (AtollException e) {
            throw new IllegalStateException("keyspace " + options.keyspace() + ": " + e);
        }
    }

    /** Starts one request; its end is reported to {@code done} exactly once, on the request's thread. */
    void issue(SplittableRandom random, Operation.Done done) {
        byte[] key = keys.key(keys.nextIndex(random)).toByteArray();
        boolean read = switch (options.workload()) {
            case GET, RANGE -> true;
            case MIXED -> random.nextDouble() < options.readRatio();
            default -> false;
        };
        requests.execute(() -> {
            try {
                if (read) {
                    client.get(options.keyspace(), key, consistency);
                } else {
                    client.put(options.keyspace(), key, value);
                }
            } catch (AtollException e) {
                done.failed(e);
                return;
            }
            done.succeeded();
        });
    }

    @Override
    public void close() {
        requests.shutdownNow();
        client.close();
    }
}
