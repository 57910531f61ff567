package dev.atoll.cli;

import dev.atoll.proto.admin.AddShardRequest;
import dev.atoll.proto.admin.ListShardsRequest;
import dev.atoll.proto.admin.MergeShardsRequest;
import com.google.protobuf.ByteString;
import dev.atoll.proto.admin.MoveShardRequest;
import dev.atoll.proto.admin.MoveSlotsRequest;
import dev.atoll.proto.admin.SplitShardRequest;
import dev.atoll.proto.admin.TransferShardLeaderRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code atoll shard list|move|transfer-leader|split|merge|add|move-slots}: where shards live, who
 * leads them, splits, merges, new empty shards and hash slots moved between shards.
 */
@Command(name = "shard", mixinStandardHelpOptions = true,
        description = "List shards, move replicas, transfer leaders, split and merge shards, add shards, move hash slots.",
        subcommands = {ShardCommand.ListShards.class, ShardCommand.Move.class, ShardCommand.TransferLeader.class,
                ShardCommand.Split.class, ShardCommand.Merge.class, ShardCommand.Add.class, ShardCommand.MoveSlots.class})
final class ShardCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** "s12" or "12"; 0 (refused by the server as INVALID_REQUEST) for anything else. */
    static long shardId(String text) {
        try {
            return Long.parseLong(text.startsWith("s") ? text.substring(1) : text);
        } catch (NumberFormatException notAShard) {
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List shards (the leader is starred).")
    static final class ListShards implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Option(names = "--keyspace", defaultValue = "", description = "Only this keyspace's shards.")
        String keyspace;

        @Override
        public Integer call() {
            var list = admin.call(a -> a.listShards(ListShardsRequest.newBuilder().setKeyspace(keyspace).build()),
                    spec.commandLine().getErr());
            if (list == null) {
                return 1;
            }
            AdminEndpoints.printShards(list.getShardsList(), spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "move", mixinStandardHelpOptions = true,
            description = "Move a shard's replica from one node to another (learner, snapshot, promote, remove).")
    static final class Move implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "The shard (s12 or 12).")
        String shard;
        @Option(names = "--from", required = true, description = "The node whose replica moves.")
        String from;
        @Option(names = "--to", required = true, description = "The node it moves to.")
        String to;
        @Option(names = "--no-wait", description = "Answer once the move has started.")
        boolean noWait;

        @Override
        public Integer call() {
            var moved = admin.call(a -> a.moveShard(MoveShardRequest.newBuilder().setShard(shardId(shard))
                    .setFrom(from).setTo(to).setWait(!noWait).build()), spec.commandLine().getErr());
            if (moved == null) {
                return 1;
            }
            AdminEndpoints.printShards(List.of(moved.getShard()), spec.commandLine().getOut());
            if (!noWait && !moved.getDone()) {
                spec.commandLine().getErr().println("atoll: TIMEOUT: the move goes on; see ./atoll shard list");
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "transfer-leader", mixinStandardHelpOptions = true, description = "Make another voter lead a shard.")
    static final class TransferLeader implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "The shard (s12 or 12).")
        String shard;
        @Option(names = "--to", required = true, description = "The voter to lead it.")
        String to;

        @Override
        public Integer call() {
            var done = admin.call(a -> a.transferShardLeader(TransferShardLeaderRequest.newBuilder()
                    .setShard(shardId(shard)).setTo(to).build()), spec.commandLine().getErr());
            if (done == null) {
                return 1;
            }
            AdminEndpoints.printShards(List.of(done.getShard()), spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "split", mixinStandardHelpOptions = true,
            description = "Split a shard in two. A range shard: at --at KEY, or at the median key of its data."
                    + " A hash shard: at --at-slot N (the new shard takes the slots from N up), or at the slot that"
                    + " halves its data by bytes (the middle of its slots when it is empty).")
    static final class Split implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "The shard (s12 or 12).")
        String shard;
        @Option(names = "--at", description = "Range shards: the first key of the new (upper) shard (UTF-8).")
        String at;
        @Option(names = "--at-slot", description = "Hash shards: the first slot of the new (upper) shard.")
        Integer atSlot;

        @Override
        public Integer call() {
            var request = SplitShardRequest.newBuilder().setShard(shardId(shard));
            if (at != null && atSlot != null) {
                spec.commandLine().getErr().println("atoll: INVALID_REQUEST: --at (a range shard's key) and --at-slot"
                        + " (a hash shard's slot) do not go together");
                return 2;
            }
            if (at != null) {
                request.setKey(ByteString.copyFromUtf8(at));
            }
            if (atSlot != null) {
                if (atSlot < 0) {
                    spec.commandLine().getErr().println("atoll: INVALID_REQUEST: a slot is not negative: " + atSlot);
                    return 2;
                }
                request.setAtSlot(atSlot);
            }
            var split = admin.call(a -> a.splitShard(request.build()), spec.commandLine().getErr());
            if (split == null) {
                return 1;
            }
            AdminEndpoints.printShards(List.of(split.getShard(), split.getCreated()), spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Merge two shards whose replicas are on the same nodes: RIGHT into LEFT (range shards"
                    + " must be adjacent; hash shards may hold any slots). Without RIGHT, LEFT's right neighbour (for"
                    + " hash shards: the owner of the slot after LEFT's highest); with --into-left, the one shard"
                    + " named into its left neighbour. Answers once the merged shard holds both.")
    static final class Merge implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Parameters(index = "0", description = "The shard that stays (s12 or 12), or with --into-left the one merged.")
        String left;
        @Parameters(index = "1", arity = "0..1", description = "The shard merged into it (for range shards, just after it).")
        String right;
        @Option(names = "--into-left", description = "Merge the shard named into its left neighbour.")
        boolean intoLeft;

        @Override
        public Integer call() {
            var request = MergeShardsRequest.newBuilder();
            if (intoLeft) {
                if (right != null) {
                    spec.commandLine().getErr().println("atoll: INVALID_REQUEST: --into-left takes one shard");
                    return 2;
                }
                request.setRight(shardId(left));
            } else {
                request.setLeft(shardId(left));
                if (right != null) {
                    request.setRight(shardId(right));
                }
            }
            var merged = admin.call(a -> a.mergeShards(request.build()), spec.commandLine().getErr());
            if (merged == null) {
                return 1;
            }
            AdminEndpoints.printShards(List.of(merged.getShard()), spec.commandLine().getOut());
            spec.commandLine().getOut().println("merged s" + merged.getMerged() + " into s"
                    + merged.getShard().getShard().getId());
            return 0;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add an empty shard to a hash keyspace (then give it slots) or a directory keyspace.")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Option(names = "--keyspace", required = true, description = "A hash or directory keyspace.")
        String keyspace;
        @Option(names = "--nodes", split = ",", description = "Its voters' nodes (default: the least loaded).")
        List<String> nodes = List.of();

        @Override
        public Integer call() {
            var added = admin.call(a -> a.addShard(AddShardRequest.newBuilder().setKeyspace(keyspace).addAllNodes(nodes)
                    .build()), spec.commandLine().getErr());
            if (added == null) {
                return 1;
            }
            AdminEndpoints.printShards(List.of(added.getShard()), spec.commandLine().getOut());
            return 0;
        }
    }

    @Command(name = "move-slots", mixinStandardHelpOptions = true,
            description = "Move hash slots, with their data, from one shard of a hash keyspace to another, online.")
    static final class MoveSlots implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminEndpoints admin;
        @Option(names = "--from", required = true, description = "The shard giving the slots (s12 or 12).")
        String from;
        @Option(names = "--to", required = true, description = "The shard taking them.")
        String to;
        @Option(names = "--slots", required = true, description = "A slot N, or a run A-B (both included).")
        String slots;
        @Option(names = "--no-wait", description = "Answer once the map changed, not once the data moved.")
        boolean noWait;

        @Override
        public Integer call() {
            int[] run = slotRun(slots);
            if (run == null) {
                spec.commandLine().getErr().println("atoll: INVALID_REQUEST: --slots is N or A-B with A <= B, not "
                        + slots);
                return 2;
            }
            var request = MoveSlotsRequest.newBuilder().setFrom(shardId(from)).setTo(shardId(to))
                    .setSlotStart(run[0]).setSlotEnd(run[1] + 1).setWait(!noWait).build();
            var moved = admin.call(a -> a.moveSlots(request), spec.commandLine().getErr());
            if (moved == null) {
                return 1;
            }
            AdminEndpoints.printShards(List.of(moved.getFrom(), moved.getTo()), spec.commandLine().getOut());
            spec.commandLine().getOut().println((moved.getDone() ? "moved" : "moving") + " slots " + slots + ", relocation "
                    + moved.getRelocation());
            return 0;
        }

        /** {first, last} of "N" or "A-B"; null when it is neither. */
        static int[] slotRun(String text) {
            try {
                int dash = text.indexOf('-');
                int a = Integer.parseInt(dash < 0 ? text : text.substring(0, dash));
                int b = dash < 0 ? a : Integer.parseInt(text.substring(dash + 1));
                return a >= 0 && b >= a ? new int[] {a, b} : null;
            } catch (NumberFormatException notASlot) {
                return null;
            }
        }
    }
}
