package dev.atoll.bench.load;

import java.io.PrintStream;

/**
 * {@code atoll bench WORKLOAD [options]}: parses, runs, prints. The result goes to stdout (as
 * text, or one JSON object with {@code --json}); progress and diagnostics go to stderr.
 * Exit codes: 0 the run completed (failed requests are counted in the result, not fatal),
 * 1 the run could not be carried out, 2 bad options.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (LoadOptions.wantsHelp(args)) {
            out.print(LoadOptions.USAGE);
            return args.length == 0 ? 2 : 0;
        }
        LoadOptions options;
        try {
            options = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("atoll bench: " + e.getMessage());
            return 2;
        }
        try {
            LoadResult result = new LoadGenerator(options, err).run();
            out.print(options.json() ? result.toJson() + "\n" : result.toText());
            out.flush();
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("atoll bench: interrupted");
            return 1;
        } catch (IllegalStateException e) {
            err.println("atoll bench: " + e.getMessage());
            return 1;
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }
}
