package dev.atoll.cli;

import dev.atoll.proto.admin.ListNodesRequest;
import dev.atoll.proto.admin.NodeInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code atoll node list}: the cluster's nodes as placement sees them. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "List the nodes placement sees.",
        subcommands = {NodeCommand.ListNodes.class})
final class NodeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Nodes with region, zone, capacity, and the shard replicas and leaders each holds.")
    static final class ListNodes implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;

        @Override
        public Integer call() {
            var list = admin.call(a -> a.listNodes(ListNodesRequest.getDefaultInstance()), spec.commandLine().getErr());
            if (list == null) {
                return 1;
            }
            var out = spec.commandLine().getOut();
            out.printf("%-12s %-12s %-14s %12s %9s %8s  %s%n", "NODE", "REGION", "ZONE", "CAPACITY-GB", "REPLICAS",
                    "LEADERS", "CLIENT-URLS");
            for (NodeInfo n : list.getNodesList()) {
                out.printf("%-12s %-12s %-14s %12d %9d %8d  %s%s%n", n.getName(), n.getRegion(),
                        n.getZone().isEmpty() ? "-" : n.getZone(), n.getCapacityBytes() >> 30, n.getReplicas(),
                        n.getLeaders(), String.join(",", n.getClientUrlsList()), n.getVoter() ? "" : "  (learner)");
            }
            return 0;
        }
    }
}
