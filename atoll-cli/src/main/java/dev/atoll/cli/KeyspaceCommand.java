package dev.atoll.cli;

import dev.atoll.proto.admin.CreateKeyspaceRequest;
import dev.atoll.proto.admin.DescribeKeyspaceRequest;
import dev.atoll.proto.admin.DropKeyspaceRequest;
import dev.atoll.proto.admin.KeyspaceInfo;
import dev.atoll.proto.admin.ListKeyspacesRequest;
import dev.atoll.proto.shardmap.KeyspaceSpecRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code atoll keyspace create|list|describe|drop}: keyspaces other than etcd's {@code default}. */
@Command(name = "keyspace", mixinStandardHelpOptions = true, description = "Create, list, describe and drop keyspaces.",
        subcommands = {KeyspaceCommand.Create.class, KeyspaceCommand.ListKeyspaces.class,
                KeyspaceCommand.Describe.class, KeyspaceCommand.Drop.class})
final class KeyspaceCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static String sharding(KeyspaceSpecRecord s) {
        return switch (s.getShardingCase()) {
            case RANGE -> "range";
            case HASH -> "hash(" + s.getHash().getSlotCount() + " slots)";
            case DIRECTORY -> "directory";
            case GEO -> "geo(" + String.join(",", s.getGeo().getRegionsList()) + " home=" + s.getGeo().getHomeRegion() + ")";
            case SHARDING_NOT_SET -> "?";
        };
    }

    static void print(KeyspaceInfo k, PrintWriter out) {
        KeyspaceSpecRecord s = k.getSpec();
        out.printf("%-16s %-24s %-3d %-6d %s%n", s.getName(), sharding(s), s.getReplicationFactor(), k.getShardCount(),
                s.getPlacementRegionsCount() == 0 ? "anywhere" : String.join(",", s.getPlacementRegionsList())
                        + (s.getReplicaPerRegion() ? " (one per region)" : ""));
    }

    static final String HEADER = String.format("%-16s %-24s %-3s %-6s %s", "KEYSPACE", "SHARDING", "RF", "SHARDS",
            "PLACEMENT");

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a keyspace.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "Name: 1-64 of [a-z0-9_-].")
        String name;
        @Option(names = "--sharding", defaultValue = "range", description = "range, hash, directory or geo (default ${DEFAULT-VALUE}).")
        String sharding;
        @Option(names = "--replication-factor", defaultValue = "3", description = "Voters per shard (default ${DEFAULT-VALUE}).")
        int replicationFactor;
        @Option(names = "--shards", defaultValue = "1", description = "Initial shard count (default ${DEFAULT-VALUE}).")
        int shards;
        @Option(names = "--regions", split = ",", description = "Regions replicas may live in (default: anywhere).")
        List<String> regions = new ArrayList<>();
        @Option(names = "--replica-per-region", description = "Every listed region holds a replica of every shard.")
        boolean replicaPerRegion;
        @Option(names = "--hash-slots", defaultValue = "0", description = "Hash: the slot space (default 16384).")
        int hashSlots;
        @Option(names = "--geo-regions", split = ",", description = "Geo: the regions keys name.")
        List<String> geoRegions = new ArrayList<>();
        @Option(names = "--geo-home", defaultValue = "", description = "Geo: the region of keys naming none.")
        String geoHome;

        @Override
        public Integer call() {
            var request = CreateKeyspaceRequest.newBuilder().setName(name).setSharding(sharding)
                    .setReplicationFactor(replicationFactor).setInitialShardCount(shards).addAllRegions(regions)
                    .setReplicaPerRegion(replicaPerRegion).setHashSlotCount(hashSlots).addAllGeoRegions(geoRegions)
                    .setGeoHomeRegion(geoHome).build();
            var created = admin.call(a -> a.createKeyspace(request), spec.commandLine().getErr());
            if (created == null) {
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(HEADER);
            print(created.getKeyspace(), out);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the keyspaces.")
    static final class ListKeyspaces implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;

        @Override
        public Integer call() {
            var list = admin.call(a -> a.listKeyspaces(ListKeyspacesRequest.getDefaultInstance()),
                    spec.commandLine().getErr());
            if (list == null) {
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(HEADER);
            list.getKeyspacesList().forEach(k -> print(k, out));
            return 0;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true, description = "A keyspace and its shards.")
    static final class Describe implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "The keyspace.")
        String name;

        @Override
        public Integer call() {
            var described = admin.call(a -> a.describeKeyspace(DescribeKeyspaceRequest.newBuilder().setName(name)
                    .build()), spec.commandLine().getErr());
            if (described == null) {
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(HEADER);
            print(described.getKeyspace(), out);
            out.println();
            AdminEndpoints.printShards(described.getShardsList(), out);
            return 0;
        }
    }

    @Command(name = "drop", mixinStandardHelpOptions = true, description = "Drop a keyspace and all its data.")
    static final class Drop implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "The keyspace.")
        String name;

        @Override
        public Integer call() {
            var dropped = admin.call(a -> a.dropKeyspace(DropKeyspaceRequest.newBuilder().setName(name).build()),
                    spec.commandLine().getErr());
            if (dropped == null) {
                return 1;
            }
            spec.commandLine().getOut().printf("dropped %s (%d shards)%n", name, dropped.getShardsDropped());
            return 0;
        }
    }
}
