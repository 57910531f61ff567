package dev.atoll.cli;

import dev.atoll.sim.FaultProfile;
import dev.atoll.sim.SimOptions;
import dev.atoll.sim.SimResult;
import dev.atoll.sim.Simulation;
import dev.atoll.sim.raft.RaftFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code atoll sim demo}: a narrated run of a Raft cluster in the deterministic simulator —
 * elections, crashes, partitions, client writes — ending with the invariant and
 * linearizability verdicts.
 */
@Command(name = "sim-demo", mixinStandardHelpOptions = true,
        description = "Narrate one simulated run of a Raft cluster under faults.")
final class SimDemo implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "3", description = "Cluster size: 3, 5 or 7 (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the run (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("Atoll demo: a " + nodes + "-node Raft cluster in the deterministic simulator (seed " + seed + ").");
        out.println("Faults: message loss, delay, duplication, partitions, crashes with torn writes, pauses,");
        out.println("membership changes and leadership transfers. Every event is checked against Raft's invariants.");
        out.println();
        var sim = new Simulation<>(seed, SimOptions.of(nodes, FaultProfile.Set.ALL), new RaftFactory(), true);
        SimResult r = sim.run();
        for (String line : sim.transcript().split("\n")) {
            String event = line.substring(line.indexOf(' ') + 1);
            if (event.startsWith("invoke") || event.startsWith("ok") || event.startsWith("fail")
                    || event.startsWith("timeout") || event.startsWith("compact")) {
                continue;
            }
            long micros = Long.parseLong(line.substring(0, line.indexOf(' ')));
            out.printf("%8.1f ms  %s%n", micros / 1000.0, event);
        }
        out.println();
        out.printf("%d client operations, %d events; %s%n", r.operationCount(), r.eventCount(),
                r.ok() ? "invariants held and the history is linearizable." : "VIOLATION: " + r.violation());
        out.println("More: ./atoll sim raft --seeds 500 --faults all");
        out.flush();
        return r.ok() ? 0 : 1;
    }
}
