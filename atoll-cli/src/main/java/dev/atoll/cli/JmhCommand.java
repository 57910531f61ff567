package dev.atoll.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code atoll jmh [JMH options] [benchmark regex]}: runs the JMH microbenchmarks of atoll-bench. */
@Command(name = "jmh", description = "Run JMH microbenchmarks (e.g. ./atoll jmh RaftCore).")
final class JmhCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(args.toArray(String[]::new));
        return 0;
    }
}
