package dev.atoll.cli;

import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.DirectoryEditResponse;
import dev.atoll.proto.admin.DirectoryEntry;
import dev.atoll.proto.admin.ListDirectoryRequest;
import dev.atoll.proto.admin.PutDirectoryEntryRequest;
import dev.atoll.proto.admin.RemoveDirectoryEntryRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code atoll directory put|remove|list}: a directory keyspace's table, edited online (the keys' data moves). */
@Command(name = "directory", mixinStandardHelpOptions = true,
        description = "List and edit a directory keyspace's table; the data of the keys an edit reroutes moves online.",
        subcommands = {DirectoryCommand.Put.class, DirectoryCommand.Remove.class, DirectoryCommand.ListEntries.class})
final class DirectoryCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The entry an edit names: {@code --key K} or {@code --prefix P}. */
    static final class Match {
        @Option(names = "--key", required = true, description = "An exact key.")
        String key;
        @Option(names = "--prefix", required = true, description = "Every key starting with this prefix.")
        String prefix;

        DirectoryEntry.Builder entry() {
            var b = DirectoryEntry.newBuilder();
            return key != null ? b.setKey(utf8(key)) : b.setPrefix(utf8(prefix));
        }
    }

    private static ByteString utf8(String s) {
        return ByteString.copyFrom(s, StandardCharsets.UTF_8);
    }

    /** Prints an edit's answer: 0, or 1 when it was refused (the refusal printed by the call). */
    private static int printEdit(DirectoryEditResponse r, CommandSpec spec) {
        if (r == null) {
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (r.getMoves() == 0) {
            out.println("no key changed shard (map v" + r.getMapVersion() + ")");
        } else {
            out.println((r.getDone() ? "moved" : "moving") + ": " + r.getMoves() + " data move(s), relocation "
                    + r.getRelocation() + " (map v" + r.getMapVersion() + ")");
        }
        return 0;
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Route an exact key or a prefix to a shard of the keyspace; its data moves there online.")
    static final class Put implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Option(names = "--keyspace", required = true, description = "The directory keyspace.")
        String keyspace;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Match match;
        @Option(names = "--shard", required = true, description = "The shard the keys go to (s12 or 12).")
        String shard;
        @Option(names = "--no-wait", description = "Answer once the table changed, not once the data moved.")
        boolean noWait;

        @Override
        public Integer call() {
            var request = PutDirectoryEntryRequest.newBuilder().setKeyspace(keyspace)
                    .setEntry(match.entry().setShard(ShardCommand.shardId(shard))).setWait(!noWait).build();
            return printEdit(admin.call(a -> a.putDirectoryEntry(request), spec.commandLine().getErr()), spec);
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Drop an entry: its keys fall back to a shorter prefix or the default rule, and move there.")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Option(names = "--keyspace", required = true, description = "The directory keyspace.")
        String keyspace;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Match match;
        @Option(names = "--no-wait", description = "Answer once the table changed, not once the data moved.")
        boolean noWait;

        @Override
        public Integer call() {
            var request = RemoveDirectoryEntryRequest.newBuilder().setKeyspace(keyspace).setEntry(match.entry())
                    .setWait(!noWait).build();
            return printEdit(admin.call(a -> a.removeDirectoryEntry(request), spec.commandLine().getErr()), spec);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the table's entries and default rule.")
    static final class ListEntries implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Option(names = "--keyspace", required = true, description = "The directory keyspace.")
        String keyspace;

        @Override
        public Integer call() {
            var list = admin.call(a -> a.listDirectory(ListDirectoryRequest.newBuilder().setKeyspace(keyspace).build()),
                    spec.commandLine().getErr());
            if (list == null) {
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%-8s %-40s %s%n", "KIND", "KEY", "SHARD");
            for (DirectoryEntry e : list.getEntriesList()) {
                boolean exact = e.getMatchCase() == DirectoryEntry.MatchCase.KEY;
                out.printf("%-8s %-40s s%d%n", exact ? "key" : "prefix",
                        (exact ? e.getKey() : e.getPrefix()).toStringUtf8(), e.getShard());
            }
            out.println("default: " + list.getDefaultShardsList().stream().map(id -> "s" + id)
                    .collect(Collectors.joining(",")) + (list.getRelocationInProgress() == 0 ? ""
                    : "  (relocation " + list.getRelocationInProgress() + " moving data)"));
            return 0;
        }
    }
}
