package dev.atoll.cli;

import dev.atoll.sim.Campaign;
import dev.atoll.sim.FaultProfile;
import dev.atoll.sim.ProtocolFactory;
import dev.atoll.sim.SimMutation;
import dev.atoll.sim.SimOptions;
import dev.atoll.sim.SimResult;
import dev.atoll.sim.Simulation;
import dev.atoll.sim.sharded.ShardedSimulation;
import dev.atoll.sim.raft.RaftFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code atoll sim <protocol>}: a simulation campaign over many seeds, of one replicated-log
 * protocol ({@code raft}) or of a sharded multi-Raft cluster ({@code sharded}). Exits 0 when no
 * seed found a violation, 1 when one did (each printed with the command that replays it).
 */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = "Run a deterministic simulation campaign: faults injected, invariants and histories checked.")
final class SimCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PROTOCOL", description = "What to simulate: raft (one group), or sharded (many groups, splits, merges, moves).")
    String protocol;

    @Option(names = "--seeds", description = "Number of seeds to run (default ${DEFAULT-VALUE}).", defaultValue = "100")
    int seeds;

    @Option(names = "--first-seed", description = "First seed (default ${DEFAULT-VALUE}).", defaultValue = "1")
    long firstSeed;

    @Option(names = "--nodes", description = "Cluster size: 3, 5 or 7 (default 3 for raft, 5 for sharded).")
    Integer nodes;

    @Option(names = "--faults", description = "none, net, crash or all (default ${DEFAULT-VALUE}).", defaultValue = "all")
    String faults;

    @Option(names = "--mutation", description = "Enable one deliberate bug (see --list-mutations).")
    String mutation;

    @Option(names = "--list-mutations", description = "Print the mutation names, one a line, and exit.")
    boolean listMutations;

    @Option(names = "--threads", description = "Seeds run in parallel (default: available cores).")
    Integer threads;

    @Option(names = "--safety-ms", description = "Simulated milliseconds of the faulty phase (default ${DEFAULT-VALUE}).",
            defaultValue = "3000")
    long safetyMillis;

    @Option(names = "--verbose", description = "With one seed: print the run's transcript and history.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean sharded = "sharded".equals(protocol);
        ProtocolFactory<?> factory = sharded ? null : factory(protocol);
        List<String> names = sharded ? ShardedSimulation.mutationNames() : mutationNames(factory);
        int nodeCount = nodes != null ? nodes : sharded ? 5 : 3;
        if (listMutations) {
            for (String name : names) {
                out.println(name.toLowerCase(java.util.Locale.ROOT));
            }
            out.flush();
            return 0;
        }
        FaultProfile.Set faultSet;
        try {
            faultSet = FaultProfile.Set.parse(faults);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--faults must be one of none, net, crash, all: " + faults);
        }
        if (mutation != null && !names.contains(mutation.toUpperCase(java.util.Locale.ROOT))) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "unknown mutation " + mutation + "; --list-mutations prints them");
        }
        if (sharded && nodeCount < 3) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--nodes must be 3, 5 or 7 for sim sharded: " + nodeCount);
        }
        SimOptions options;
        try {
            options = new SimOptions(nodeCount, faultSet, mutation, safetyMillis * 1000);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (verbose && seeds == 1 && sharded) {
            var sim = new ShardedSimulation(firstSeed, options, true);
            SimResult r = sim.run();
            out.print(sim.transcript());
            out.println("--- history");
            out.print(sim.history());
            out.println("--- " + r.summary());
        } else if (verbose && seeds == 1) {
            var sim = new Simulation<>(firstSeed, options, factory, true);
            SimResult r = sim.run();
            out.print(sim.transcript());
            out.println("--- history");
            out.print(sim.history());
            out.println("--- " + r.summary());
        }
        int threadCount = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Campaign.SeedRunner runner = sharded ? seed -> new ShardedSimulation(seed, options).run()
                : seed -> Campaign.runOne(factory, options, seed);
        var summary = Campaign.run(runner, firstSeed, seeds, threadCount, r -> {
            out.println("VIOLATION seed=" + r.seed() + " " + r.violation());
            out.println("  " + r.summary());
            out.println("  replay: ./atoll sim " + protocol + " --nodes " + nodeCount + " --faults "
                    + faultSet.name().toLowerCase(java.util.Locale.ROOT)
                    + (mutation != null ? " --mutation " + mutation : "")
                    + (safetyMillis != 3000 ? " --safety-ms " + safetyMillis : "")
                    + " --first-seed " + r.seed() + " --seeds 1");
            out.flush();
        });
        out.println(summary.line());
        out.flush();
        return summary.violationCount() == 0 ? 0 : 1;
    }

    static ProtocolFactory<?> factory(String protocol) {
        return switch (protocol) {
            case "raft" -> new RaftFactory();
            default -> throw new IllegalArgumentException("unknown protocol " + protocol + " (known: raft, sharded)");
        };
    }

    static List<String> mutationNames(ProtocolFactory<?> factory) {
        var names = new ArrayList<>(factory.mutationNames());
        for (SimMutation m : SimMutation.values()) {
            names.add(m.name());
        }
        return names;
    }
}
