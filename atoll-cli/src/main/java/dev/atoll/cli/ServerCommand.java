package dev.atoll.cli;

import dev.atoll.server.AtollServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code atoll server --name n1 --data-dir DIR --listen-client H:P --listen-peer H:P
 * --initial-cluster n1=H:P,... [--initial-cluster-state existing]} (or {@code --config FILE} with the same
 * keys): runs one node; {@code existing} joins a running cluster that added it with etcdctl member add.
 */
@Command(name = "server", description = "Run one Atoll node: --name, --data-dir, --listen-client, --listen-peer, "
        + "--initial-cluster, [--initial-cluster-state new|existing], [--initial-cluster-clients], [--listen-metrics], "
        + "[--snapshot-count N], [--read-mode index|lease], [--region R], [--zone Z], [--capacity-bytes N], [--config FILE].")
final class ServerCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        AtollServer.main(args.toArray(String[]::new));
        return 0;
    }
}
