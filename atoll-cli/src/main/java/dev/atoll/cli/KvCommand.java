package dev.atoll.cli;

import dev.atoll.client.AtollClient;
import dev.atoll.client.AtollException;
import dev.atoll.client.ClientOptions;
import dev.atoll.client.KeyValue;
import dev.atoll.client.RangeResult;
import dev.atoll.client.ReadConsistency;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code atoll kv put|get|del|scan}: the data of a sharded keyspace through the Java client (keys
 * and values as UTF-8 text). A refusal is printed as {@code atoll: CODE: message}, exit code 1.
 */
@Command(name = "kv", mixinStandardHelpOptions = true, description = "Put, get, delete and scan keys of a sharded keyspace.",
        subcommands = {KvCommand.Put.class, KvCommand.Get.class, KvCommand.Delete.class, KvCommand.Scan.class})
final class KvCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * What every {@code kv} subcommand takes (the endpoints and the keyspace) and does: runs
     * {@link #with} on a client of the endpoints; a refusal is printed and is exit code 1.
     */
    abstract static class OnKeyspace implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints endpoints;
        @Option(names = "--keyspace", required = true, description = "The keyspace.")
        String keyspace;

        /** The subcommand's work with a connected client; its exit code. */
        abstract int with(AtollClient client);

        @Override
        public Integer call() {
            var options = ClientOptions.DEFAULTS.withOperationTimeout(Duration.ofSeconds(endpoints.timeoutSeconds))
                    .withAttemptTimeout(Duration.ofSeconds(Math.min(endpoints.timeoutSeconds, 10)));
            try (var client = AtollClient.connect(endpoints.endpoints, options)) {
                return with(client);
            } catch (AtollException e) {
                spec.commandLine().getErr().println(e);
                return 1;
            }
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Write a value under a key; prints OK.")
    static final class Put extends OnKeyspace {
        @Parameters(index = "0", description = "The key.")
        String key;
        @Parameters(index = "1", description = "The value.")
        String value;

        @Override
        int with(AtollClient client) {
            client.put(keyspace, utf8(key), utf8(value));
            out().println("OK");
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print the value under a key; a missing key prints nothing and exits 1 (KEY_NOT_FOUND).")
    static final class Get extends OnKeyspace {
        @Option(names = "--serializable", description = "Read any replica's state, possibly stale (default: linearizable).")
        boolean serializable;
        @Parameters(index = "0", description = "The key.")
        String key;

        @Override
        int with(AtollClient client) {
            Optional<byte[]> value = client.get(keyspace, utf8(key),
                    serializable ? ReadConsistency.SERIALIZABLE : ReadConsistency.LINEARIZABLE);
            if (value.isEmpty()) {
                err().println("atoll: KEY_NOT_FOUND: no key " + key + " in " + keyspace);
                return 1;
            }
            out().println(new String(value.get(), StandardCharsets.UTF_8));
            return 0;
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Delete a key; prints how many keys were deleted (0 or 1).")
    static final class Delete extends OnKeyspace {
        @Parameters(index = "0", description = "The key.")
        String key;

        @Override
        int with(AtollClient client) {
            out().println(client.delete(keyspace, utf8(key)).existed() ? 1 : 0);
            return 0;
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true,
            description = "Print the keys in [--from, --to) in key order, one 'key<TAB>value' line each.")
    static final class Scan extends OnKeyspace {
        @Option(names = "--from", defaultValue = "", description = "The first key (default: the keyspace's start).")
        String from;
        @Option(names = "--to", defaultValue = "", description = "The key after the last (default: the keyspace's end).")
        String to;
        @Option(names = "--limit", defaultValue = "100",
                description = "At most this many keys, 1.." + AtollClient.RANGE_LIMIT_MAX + " (default ${DEFAULT-VALUE}).")
        int limit;
        @Option(names = "--serializable", description = "Read any replica's state, possibly stale (default: linearizable).")
        boolean serializable;

        @Override
        public Integer call() {
            if (limit < 1 || limit > AtollClient.RANGE_LIMIT_MAX) {
                err().println("atoll: INVALID_REQUEST: --limit is in 1.." + AtollClient.RANGE_LIMIT_MAX);
                return 1;
            }
            return super.call();
        }

        @Override
        int with(AtollClient client) {
            RangeResult r = client.range(keyspace, utf8(from), utf8(to), limit,
                    serializable ? ReadConsistency.SERIALIZABLE : ReadConsistency.LINEARIZABLE);
            for (KeyValue kv : r.pairs()) {
                out().println(kv.keyUtf8() + "\t" + kv.valueUtf8());
            }
            if (r.more()) {
                err().println("(more keys after " + r.pairs().getLast().keyUtf8() + ")");
            }
            return 0;
        }
    }
}
