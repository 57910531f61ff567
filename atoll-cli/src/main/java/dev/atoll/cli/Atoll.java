package dev.atoll.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code atoll} command: entry point for every subcommand. */
@Command(name = "atoll", mixinStandardHelpOptions = true, version = "atoll 0.1.0",
        description = "Atoll: a distributed key-value database and service platform.",
        subcommands = {CommandLine.HelpCommand.class, SimCommand.class, DemoCommand.class, ServerCommand.class, JmhCommand.class, BenchCommand.class,
                KeyspaceCommand.class, ShardCommand.class, DirectoryCommand.class, NodeCommand.class, KvCommand.class})
public final class Atoll implements Runnable {
    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Atoll()).execute(args));
    }
}
