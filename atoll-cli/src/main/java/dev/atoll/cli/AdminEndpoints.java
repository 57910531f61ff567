package dev.atoll.cli;

import dev.atoll.proto.admin.AdminGrpc;
import dev.atoll.proto.admin.ShardInfo;
import dev.atoll.proto.shardmap.ReplicaRecord;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The {@code --endpoints} option of the admin commands and the call through them: each endpoint
 * in turn until one answers (an unreachable one is skipped; a refusal is the answer).
 */
final class AdminEndpoints {
    @Option(names = "--endpoints", defaultValue = "127.0.0.1:2379", split = ",",
            description = "Client URLs of the cluster's members, comma-separated (default ${DEFAULT-VALUE}).")
    List<String> endpoints;

    @Option(names = "--timeout", defaultValue = "60", description = "Seconds to wait for an answer (default ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    /**
     * Calls {@code call} on the first endpoint that answers; prints a refusal ("atoll: CODE: ...")
     * to {@code err} and returns null. Exit code 1 then, by the caller.
     */
    <T> T call(Function<AdminGrpc.AdminBlockingStub, T> call, PrintWriter err) {
        StatusRuntimeException last = null;
        for (String endpoint : endpoints) {
            URI uri = URI.create(endpoint.contains("://") ? endpoint : "http://" + endpoint);
            ManagedChannel channel = NettyChannelBuilder.forAddress(uri.getHost(), uri.getPort()).usePlaintext().build();
            try {
                return call.apply(AdminGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS));
            } catch (StatusRuntimeException e) {
                last = e;
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                    break;
                }
            } finally {
                channel.shutdownNow();
            }
        }
        String description = last == null ? "no endpoint" : last.getStatus().getDescription();
        err.println(description != null && description.startsWith("atoll: ") ? description
                : "atoll: " + (last == null ? "no endpoint given" : last.getStatus().getCode() + ": " + description));
        return null;
    }

    /** One line per shard: id, keyspace, span, replicas (leader starred, learners marked), epoch, a move in progress. */
    static void printShards(List<ShardInfo> shards, PrintWriter out) {
        out.printf("%-8s %-16s %-40s %-28s %s%n", "SHARD", "KEYSPACE", "SPAN", "REPLICAS", "EPOCH");
        for (ShardInfo s : shards) {
            var shard = s.getShard();
            String replicas = shard.getReplicasList().stream().map(r -> replica(r, shard.getLeaderHint()))
                    .collect(Collectors.joining(","));
            String moving = (s.getMovingTo().isEmpty() ? "" : "  moving " + s.getMovingFrom() + "->" + s.getMovingTo())
                    + (s.getMergingFrom() == 0 ? "" : "  merging s" + s.getMergingFrom() + " in")
                    + (s.getRelocation() == 0 ? "" : "  moving data (relocation " + s.getRelocation() + ")");
            out.printf("%-8s %-16s %-40s %-28s v%d/c%d%s%n", "s" + shard.getId(), shard.getKeyspace(), s.getSpan(),
                    replicas, shard.getEpoch().getRangeVersion(), shard.getEpoch().getConfVersion(), moving);
        }
    }

    private static String replica(ReplicaRecord r, String leader) {
        return r.getNode() + (r.getNode().equals(leader) ? "*" : "") + (r.getLearner() ? "(learner)" : "");
    }
}
