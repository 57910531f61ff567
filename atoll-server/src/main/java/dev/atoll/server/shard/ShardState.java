package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.shardmap.ChangeBatch;
import dev.atoll.proto.shardmap.DirectoryRecord;
import dev.atoll.proto.shardmap.KeyspaceRecord;
import dev.atoll.proto.shardmap.MoveRecord;
import dev.atoll.proto.shardmap.ShardChangeRecord;
import dev.atoll.proto.shardmap.ShardMapCommand;
import dev.atoll.proto.shardmap.ShardMapState;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.proto.shardmap.StartMove;
import dev.atoll.proto.shardmap.TransferRecord;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Directory;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The meta group's shard state: the {@link ShardMap}, each keyspace's storage id, and the
 * intents the shard leaders carry out (replica moves, leader transfers). Immutable: {@link #apply}
 * returns the next state and the answer for the proposer; a refused command returns this very
 * state, so a refusal changes nothing. Deterministic, as every replica of the meta group must
 * compute the same state.
 *
 * <p>Intents end by themselves: a move once its source replica is gone from the shard (or its
 * learner was removed), a transfer once its target is observed leading or is no longer a voter,
 * both when their shard is dropped.
 */
public record ShardState(ShardMap map, NavigableMap<String, Long> keyspaceIds, NavigableMap<ShardId, Move> moves,
                         NavigableMap<ShardId, NodeId> transfers) {
    public static final ShardState EMPTY = new ShardState(ShardMap.empty(), new TreeMap<>(), new TreeMap<>(),
            new TreeMap<>());

    /** A replica move in progress: the learner on {@code to} replaces the replica on {@code from}. */
    public record Move(NodeId from, NodeId to) {
    }

    /** What a command came to: the state after it, and the proposer's answer. */
    public record Outcome(ShardState state, Object answer) {
    }

    /** A command no replica could decode; nothing changed. */
    public record Malformed(String detail) {
    }

    /** A move refused before the map was asked (no such replica, a move already running). */
    public record MoveRefused(String reason) {
    }

    public ShardState {
        keyspaceIds = Collections.unmodifiableNavigableMap(new TreeMap<>(keyspaceIds));
        moves = Collections.unmodifiableNavigableMap(new TreeMap<>(moves));
        transfers = Collections.unmodifiableNavigableMap(new TreeMap<>(transfers));
    }

    public Optional<Move> move(ShardId shard) {
        return Optional.ofNullable(moves.get(shard));
    }

    public Optional<NodeId> transfer(ShardId shard) {
        return Optional.ofNullable(transfers.get(shard));
    }

    /** The storage id of a keyspace: the id of its first shard, which no other keyspace ever gets. */
    public Optional<Long> keyspaceId(String keyspace) {
        return Optional.ofNullable(keyspaceIds.get(keyspace));
    }

    // ------------------------------------------------------------------ apply

    public Outcome apply(ShardMapCommand command) {
        try {
            return switch (command.getOpCase()) {
                case CHANGE -> change(ShardCodec.decode(command.getChange()));
                case BATCH -> batch(command.getBatch());
                case DROP_KEYSPACE -> drop(command.getDropKeyspace().getName());
                case START_MOVE -> startMove(command.getStartMove());
                case OP_NOT_SET -> new Outcome(this, new Malformed("a shard map command names its kind"));
            };
        } catch (ShardCodec.MalformedShardRecord | IllegalArgumentException bad) {
            return new Outcome(this, new Malformed(bad.getMessage()));
        }
    }

    /** Applies one change; answers its {@link ChangeResult}. */
    public Outcome change(ShardChange change) {
        if (change instanceof ShardChange.Split split && moves.containsKey(split.shard())) {
            // the new shard would inherit the moving replica without the move that completes it
            return new Outcome(this, new ChangeResult.Rejected(split.shard()
                    + " has a replica move in progress: split it after"));
        }
        ChangeResult result = map.apply(change);
        if (!(result instanceof ChangeResult.Applied applied)) {
            return new Outcome(this, result);
        }
        var ids = new TreeMap<>(keyspaceIds);
        if (change instanceof ShardChange.CreateKeyspace c) {
            ids.put(c.spec().name(), map.nextShardId());
        }
        var nextTransfers = new TreeMap<>(transfers);
        switch (change) {
            case ShardChange.TransferLeader t -> nextTransfers.put(t.shard(), t.node());
            case ShardChange.LeaderObserved o -> nextTransfers.remove(o.shard(), o.leader());
            default -> { }
        }
        return new Outcome(new ShardState(applied.map(), ids, moves, nextTransfers).settled(), result);
    }

    private Outcome batch(ChangeBatch batch) {
        var answers = new ArrayList<Object>(batch.getChangesCount());
        ShardState state = this;
        for (ShardChangeRecord r : batch.getChangesList()) {
            Outcome o;
            try {
                o = state.change(ShardCodec.decode(r));
            } catch (ShardCodec.MalformedShardRecord bad) {
                o = new Outcome(state, new Malformed(bad.getMessage()));
            }
            state = o.state();
            answers.add(o.answer());
        }
        return new Outcome(state, List.copyOf(answers));
    }

    private Outcome drop(String keyspace) {
        ChangeResult result = map.dropKeyspace(keyspace);
        if (!(result instanceof ChangeResult.Applied applied)) {
            return new Outcome(this, result);
        }
        var ids = new TreeMap<>(keyspaceIds);
        ids.remove(keyspace);
        return new Outcome(new ShardState(applied.map(), ids, moves, transfers).settled(), result);
    }

    private Outcome startMove(StartMove m) {
        ShardId id = ShardCodec.shard(m.getShard());
        NodeId from = ShardCodec.node(m.getFrom());
        NodeId to = ShardCodec.node(m.getTo());
        Optional<ShardDescriptor> shard = map.shard(id);
        if (shard.isEmpty()) {
            return new Outcome(this, new ChangeResult.UnknownShard(id));
        }
        if (moves.containsKey(id)) {
            Move running = moves.get(id);
            return new Outcome(this, new MoveRefused(id + " is already moving from " + running.from() + " to "
                    + running.to()));
        }
        if (!shard.get().voters().contains(from)) {
            return new Outcome(this, new MoveRefused(id + " has no voter on " + from));
        }
        Outcome added = change(new ShardChange.AddLearner(id, ShardCodec.decode(m.getEpoch()), to));
        if (!(added.answer() instanceof ChangeResult.Applied)) {
            return added;
        }
        ShardState s = added.state();
        var nextMoves = new TreeMap<>(s.moves);
        nextMoves.put(id, new Move(from, to));
        return new Outcome(new ShardState(s.map, s.keyspaceIds, nextMoves, s.transfers), added.answer());
    }

    /** This state without the intents that are done or can no longer be carried out. */
    private ShardState settled() {
        var nextMoves = new TreeMap<ShardId, Move>();
        moves.forEach((id, m) -> map.shard(id).ifPresent(s -> {
            if (s.hasReplicaOn(m.from()) && s.hasReplicaOn(m.to())) {
                nextMoves.put(id, m);
            }
        }));
        var nextTransfers = new TreeMap<ShardId, NodeId>();
        transfers.forEach((id, to) -> map.shard(id).ifPresent(s -> {
            if (s.voters().contains(to)) {
                nextTransfers.put(id, to);
            }
        }));
        return new ShardState(map, keyspaceIds, nextMoves, nextTransfers);
    }

    // ------------------------------------------------------------------ snapshot form

    public ShardMapState toProto() {
        var b = ShardMapState.newBuilder().setVersion(map.version()).setNextShardId(map.nextShardId());
        for (KeyspaceSpec spec : map.keyspaces().values()) {
            b.addKeyspaces(KeyspaceRecord.newBuilder().setSpec(ShardCodec.encode(spec))
                    .setKeyspaceId(keyspaceIds.getOrDefault(spec.name(), 0L)));
            map.directory(spec.name()).ifPresent(d -> b.addDirectories(ShardCodec.encode(spec.name(), d)));
        }
        map.shards().forEach(s -> b.addShards(ShardCodec.encode(s)));
        moves.forEach((id, m) -> b.addMoves(MoveRecord.newBuilder().setShard(id.value()).setFrom(m.from().value())
                .setTo(m.to().value())));
        transfers.forEach((id, to) -> b.addTransfers(TransferRecord.newBuilder().setShard(id.value())
                .setTo(to.value())));
        return b.build();
    }

    /** The state a snapshot recorded; throws MalformedShardRecord (or InvariantViolation) when it is damaged. */
    public static ShardState fromProto(ShardMapState p) {
        var specs = new ArrayList<KeyspaceSpec>();
        var ids = new TreeMap<String, Long>();
        for (KeyspaceRecord k : p.getKeyspacesList()) {
            KeyspaceSpec spec = ShardCodec.decode(k.getSpec());
            specs.add(spec);
            ids.put(spec.name(), k.getKeyspaceId());
        }
        var shards = new ArrayList<ShardDescriptor>();
        for (ShardRecord r : p.getShardsList()) {
            shards.add(ShardCodec.decode(r));
        }
        var directories = new TreeMap<String, Directory>();
        for (DirectoryRecord d : p.getDirectoriesList()) {
            Map.Entry<String, Directory> e = ShardCodec.decode(d);
            directories.put(e.getKey(), e.getValue());
        }
        ShardMap map = ShardMap.restore(p.getVersion(), p.getNextShardId(), specs, shards, directories);
        var moves = new TreeMap<ShardId, Move>();
        p.getMovesList().forEach(m -> moves.put(ShardId.of(m.getShard()),
                new Move(ShardCodec.node(m.getFrom()), ShardCodec.node(m.getTo()))));
        var transfers = new TreeMap<ShardId, NodeId>();
        p.getTransfersList().forEach(t -> transfers.put(ShardId.of(t.getShard()), ShardCodec.node(t.getTo())));
        return new ShardState(map, ids, moves, transfers);
    }

    // ------------------------------------------------------------------ commands

    public static ShardMapCommand command(ShardChange change) {
        return ShardMapCommand.newBuilder().setChange(ShardCodec.encode(change)).build();
    }

    public static ShardMapCommand batch(List<? extends ShardChange> changes) {
        var b = ChangeBatch.newBuilder();
        changes.forEach(c -> b.addChanges(ShardCodec.encode(c)));
        return ShardMapCommand.newBuilder().setBatch(b).build();
    }

    public static ShardMapCommand dropKeyspace(String name) {
        return ShardMapCommand.newBuilder().setDropKeyspace(
                dev.atoll.proto.shardmap.DropKeyspace.newBuilder().setName(name)).build();
    }

    public static ShardMapCommand startMove(ShardDescriptor shard, NodeId from, NodeId to) {
        return ShardMapCommand.newBuilder().setStartMove(StartMove.newBuilder().setShard(shard.id().value())
                .setEpoch(ShardCodec.encode(shard.epoch())).setFrom(from.value()).setTo(to.value())).build();
    }
}
