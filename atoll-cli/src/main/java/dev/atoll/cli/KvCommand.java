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
import java.util.function.Function;

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

    /** Runs {@code call} with a client of the endpoints; a refusal is printed and is exit code 1. */
    static Integer withClient(AdminEndpoints endpoints, CommandSpec spec, Function<AtollClient, Integer> call) {
        var options = ClientOptions.DEFAULTS.withOperationTimeout(Duration.ofSeconds(endpoints.timeoutSeconds))
                .withAttemptTimeout(Duration.ofSeconds(Math.min(endpoints.timeoutSeconds, 10)));
        try (var client = AtollClient.connect(endpoints.endpoints, options)) {
            return call.apply(client);
        } catch (AtollException e) {
            spec.commandLine().getErr().println(e);
            return 1;
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Write a value under a key; prints OK.")
    static final class Put implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints endpoints;
        @Option(names = "--keyspace", required = true, description = "The keyspace.")
        String keyspace;
        @Parameters(index = "0", description = "The key.")
        String key;
        @Parameters(index = "1", description = "The value.")
        String value;

        @Override
        public Integer call() {
            return withClient(endpoints, spec, client -> {
                client.put(keyspace, utf8(key), utf8(value));
                spec.commandLine().getOut().println("OK");
                return 0;
            });
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print the value under a key; a missing key prints nothing and exits 1 (KEY_NOT_FOUND).")
    static final class Get implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints endpoints;
        @Option(names = "--keyspace", required = true, description = "The keyspace.")
        String keyspace;
        @Option(names = "--serializable", description = "Read any replica's state, possibly stale (default: linearizable).")
        boolean serializable;
        @Parameters(index = "0", description = "The key.")
        String key;

        @Override
        public Integer call() {
            return withClient(endpoints, spec, client -> {
                Optional<byte[]> value = client.get(keyspace, utf8(key),
                        serializable ? ReadConsistency.SERIALIZABLE : ReadConsistency.LINEARIZABLE);
                if (value.isEmpty()) {
                    spec.commandLine().getErr().println("atoll: KEY_NOT_FOUND: no key " + key + " in " + keyspace);
                    return 1;
                }
                spec.commandLine().getOut().println(new String(value.get(), StandardCharsets.UTF_8));
                return 0;
            });
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Delete a key; prints how many keys were deleted (0 or 1).")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints endpoints;
        @Option(names = "--keyspace", required = true, description = "The keyspace.")
        String keyspace;
        @Parameters(index = "0", description = "The key.")
        String key;

        @Override
        public Integer call() {
            return withClient(endpoints, spec, client -> {
                spec.commandLine().getOut().println(client.delete(keyspace, utf8(key)).existed() ? 1 : 0);
                return 0;
            });
        }
    }

    @Command(name = "scan", mixinStandardHelpOptions = true,
            description = "Print the keys in [--from, --to) in key order, one 'key<TAB>value' line each.")
    static final class Scan implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints endpoints;
        @Option(names = "--keyspace", required = true, description = "The keyspace.")
        String keyspace;
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
                spec.commandLine().getErr().println("atoll: INVALID_REQUEST: --limit is in 1.." + AtollClient.RANGE_LIMIT_MAX);
                return 1;
            }
            return withClient(endpoints, spec, client -> {
                RangeResult r = client.range(keyspace, utf8(from), utf8(to), limit,
                        serializable ? ReadConsistency.SERIALIZABLE : ReadConsistency.LINEARIZABLE);
                PrintWriter out = spec.commandLine().getOut();
                for (KeyValue kv : r.pairs()) {
                    out.println(kv.keyUtf8() + "\t" + kv.valueUtf8());
                }
                if (r.more()) {
                    spec.commandLine().getErr().println("(more keys after " + r.pairs().getLast().keyUtf8() + ")");
                }
                return 0;
            });
        }
    }
}
