package dev.atoll.cli;

import dev.atoll.bench.load.BenchMain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code atoll bench WORKLOAD [options]}: the etcd v3 API load generator, or with {@code --keyspace}
 * the sharded-keyspace one through atoll-client (see {@code atoll bench --help}).
 */
@Command(name = "bench", description = "Load-test an etcd v3 API server (Atoll or etcd): put, range, txn, mixed, "
        + "watch; or a sharded keyspace with --keyspace K: put, get, mixed. ./atoll bench --help for the options.")
final class BenchCommand implements Callable<Integer> {
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        return BenchMain.run(args.toArray(String[]::new), System.out, System.err);
    }
}
