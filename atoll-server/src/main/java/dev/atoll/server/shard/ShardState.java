package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.shardmap.ChangeBatch;
import dev.atoll.proto.shardmap.DirectoryRecord;
import dev.atoll.proto.shardmap.FinishMerge;
import dev.atoll.proto.shardmap.KeyspaceRecord;
import dev.atoll.proto.shardmap.MergeRecord;
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
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The meta group's shard state: the {@link ShardMap}, each keyspace's storage id, and the
 * intents the shard leaders carry out (replica moves, leader transfers, merges). Immutable: {@link #apply}
 * returns the next state and the answer for the proposer; a refused command returns this very
 * state, so a refusal changes nothing. Deterministic, as every replica of the meta group must
 * compute the same state.
 *
 * <p>Intents end by themselves: a move once its source replica is gone from the shard (or its
 * learner was removed), a transfer once its target is observed leading or is no longer a voter,
 * all of them when their shard is dropped. A merge is recorded with the map's {@code Merge} (the
 * source leaves the map at once; the intent keeps its replicas and data on their nodes) and ends
 * with {@code FinishMerge}, once the target's group applied the merge, or when the target is dropped.
 */
public record ShardState(ShardMap map, NavigableMap<String, Long> keyspaceIds, NavigableMap<ShardId, Move> moves,
                         NavigableMap<ShardId, NodeId> transfers, NavigableMap<ShardId, Merge> merges,
                         NavigableMap<Long, Relocation> relocations) {
    public static final ShardState EMPTY = new ShardState(ShardMap.empty(), new TreeMap<>(), new TreeMap<>(),
            new TreeMap<>(), new TreeMap<>(), new TreeMap<>());

    /** A replica move in progress: the learner on {@code to} replaces the replica on {@code from}. */
    public record Move(NodeId from, NodeId to) {
    }

    /**
     * A merge in progress, under its source's id: {@code source} (the descriptor the map held
     * before the merge) freezes and goes into {@code target}, which was at {@code targetEpoch}.
     * The target's group then reaches {@link #mergedEpoch()}, the epoch the map gave it.
     */
    public record Merge(ShardId target, ShardEpoch targetEpoch, ShardDescriptor source) {
        public ShardEpoch mergedEpoch() {
            return ShardEpoch.merged(targetEpoch, source.epoch());
        }
    }

    /**
     * Refused before the map was asked: a merge whose shard is moving or merging, or a split, move
     * or merge of the target of a merge in progress. Retry once it is done.
     */
    public record MergeRefused(String reason) {
    }

    /** {@code FinishMerge} came to this: whether an intent was forgotten. */
    public record MergeFinished(boolean forgotten) {
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

    /**
     * Refused before the map was asked: a directory edit or slot move while an earlier one's data of
     * the keyspace still moves, or a split or merge of a shard whose keys move. Retry once it is done.
     */
    public record RelocationRefused(String reason) {
    }

    /** {@code RelocationStep} came to this: the relocation's state after it (empty once forgotten). */
    public record RelocationStepped(Optional<Relocation> relocation) {
    }

    /** A state with no data move in flight. */
    public ShardState(ShardMap map, NavigableMap<String, Long> keyspaceIds, NavigableMap<ShardId, Move> moves,
                      NavigableMap<ShardId, NodeId> transfers, NavigableMap<ShardId, Merge> merges) {
        this(map, keyspaceIds, moves, transfers, merges, new TreeMap<>());
    }

    public ShardState {
        relocations = Collections.unmodifiableNavigableMap(new TreeMap<>(relocations));
        keyspaceIds = Collections.unmodifiableNavigableMap(new TreeMap<>(keyspaceIds));
        moves = Collections.unmodifiableNavigableMap(new TreeMap<>(moves));
        transfers = Collections.unmodifiableNavigableMap(new TreeMap<>(transfers));
        merges = Collections.unmodifiableNavigableMap(new TreeMap<>(merges));
    }

    /** The merge in progress whose source is {@code source}. */
    public Optional<Merge> mergeOf(ShardId source) {
        return Optional.ofNullable(merges.get(source));
    }

    /** The merge in progress into {@code target}, if any (at most one: a target takes no other operation). */
    public Optional<Merge> mergeInto(ShardId target) {
        return merges.values().stream().filter(m -> m.target().equals(target)).findFirst();
    }

    /** The data move in progress of {@code keyspace} (at most one at a time), if any. */
    public Optional<Relocation> relocationOf(String keyspace) {
        return relocations.values().stream().filter(r -> r.keyspace().equals(keyspace)).findFirst();
    }

    /** The data move in progress whose keys come from or go to {@code shard}, if any. */
    public Optional<Relocation> relocationInvolving(ShardId shard) {
        return relocations.values().stream().filter(r -> r.involves(shard)).findFirst();
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
                case FINISH_MERGE -> finishMerge(command.getFinishMerge());
                case RELOCATION_STEP -> relocationStep(command.getRelocationStep());
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
        if (change instanceof ShardChange.Operation op && !(change instanceof ShardChange.TransferLeader)
                && mergeInto(op.shard()).isPresent()) {
            // the group has yet to take the source's keys at the epoch the merge planned
            return new Outcome(this, new MergeRefused(op.shard() + " has a merge in progress: wait until it is done"));
        }
        if (change instanceof ShardChange.Merge m) {
            Optional<String> refused = mergeRefusal(m);
            if (refused.isPresent()) {
                return new Outcome(this, new MergeRefused(refused.get()));
            }
        }
        Optional<String> moving = relocationRefusal(change);
        if (moving.isPresent()) {
            return new Outcome(this, new RelocationRefused(moving.get()));
        }
        ChangeResult result = map.apply(change);
        if (!(result instanceof ChangeResult.Applied applied)) {
            return new Outcome(this, result);
        }
        if (Relocation.givesAndTakes(applied.moves())) {
            // one step per shard (a handoff or an intake) carries a move out: a shard does not do both at once
            return new Outcome(this, new ChangeResult.Rejected("a shard would both give and take keys in one move: "
                    + applied.moves()));
        }
        var nextMerges = new TreeMap<>(merges);
        if (change instanceof ShardChange.Merge m) {
            // the source leaves the map now; its replicas keep its frozen rows until the target took them
            nextMerges.put(m.right(), new Merge(m.shard(), m.epoch(), map.shard(m.right()).orElseThrow()));
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
        var nextRelocations = new TreeMap<>(relocations);
        if (!applied.moves().isEmpty()) {
            String keyspace = switch (change) {
                case ShardChange.PutDirectoryEntry p -> p.keyspace();
                case ShardChange.RemoveDirectoryEntry r -> r.keyspace();
                case ShardChange.MoveSlots m -> map.shard(m.from()).orElseThrow().keyspace();
                default -> throw new IllegalStateException("only directory edits and slot moves move data: " + change);
            };
            // the relocation's id is the map version that made it: unique, and the same on every replica
            Relocation.of(applied.map().version(), keyspace, applied.moves(), map, applied.map())
                    .ifPresent(r -> nextRelocations.put(r.id(), r));
        }
        return new Outcome(new ShardState(applied.map(), ids, moves, nextTransfers, nextMerges, nextRelocations)
                .settled(), result);
    }

    /** Why the map must not apply {@code change} now because keys of its shards are moving, if so. */
    private Optional<String> relocationRefusal(ShardChange change) {
        String keyspace = switch (change) {
            case ShardChange.PutDirectoryEntry p -> p.keyspace();
            case ShardChange.RemoveDirectoryEntry r -> r.keyspace();
            case ShardChange.MoveSlots m -> map.shard(m.from()).map(ShardDescriptor::keyspace).orElse(null);
            default -> null;
        };
        if (keyspace != null) {
            Optional<Relocation> running = relocationOf(keyspace);
            if (running.isPresent()) {
                return Optional.of("relocation " + running.get().id() + " of " + keyspace
                        + " is still moving data: edit again once it is done");
            }
            if (change instanceof ShardChange.MoveSlots m) {
                for (ShardId id : List.of(m.from(), m.to())) {
                    if (mergeInto(id).isPresent()) {
                        return Optional.of(id + " has a merge in progress: wait until it is done");
                    }
                }
            }
            return Optional.empty();
        }
        if (change instanceof ShardChange.Split || change instanceof ShardChange.Merge) {
            ShardChange.Operation op = (ShardChange.Operation) change;
            var ids = change instanceof ShardChange.Merge m ? List.of(m.shard(), m.right()) : List.of(op.shard());
            for (ShardId id : ids) {
                Optional<Relocation> r = relocationInvolving(id);
                if (r.isPresent()) {
                    return Optional.of(id + " has keys moving in relocation " + r.get().id() + ": wait until it is done");
                }
            }
        }
        return Optional.empty();
    }

    private Outcome relocationStep(dev.atoll.proto.shardmap.RelocationStep step) {
        Relocation r = relocations.get(step.getRelocation());
        if (r == null) {
            return new Outcome(this, new RelocationStepped(Optional.empty()));
        }
        ShardId source = ShardCodec.shard(step.getSource());
        Relocation next = step.getTarget() == 0 ? r.withReleased(source)
                : r.withTaken(source, ShardCodec.shard(step.getTarget()));
        var nextRelocations = new TreeMap<>(relocations);
        if (next.done()) {
            nextRelocations.remove(r.id());
        } else {
            nextRelocations.put(r.id(), next);
        }
        return new Outcome(new ShardState(map, keyspaceIds, moves, transfers, merges, nextRelocations),
                new RelocationStepped(next.done() ? Optional.empty() : Optional.of(next)));
    }

    /** Why the map must not apply {@code m} now (beyond its own checks), if it must not. */
    private Optional<String> mergeRefusal(ShardChange.Merge m) {
        for (ShardId id : List.of(m.shard(), m.right())) {
            if (moves.containsKey(id)) {
                return Optional.of(id + " has a replica move in progress: merge it after");
            }
            if (mergeInto(id).isPresent()) {
                return Optional.of(id + " has a merge in progress: wait until it is done");
            }
        }
        Optional<ShardDescriptor> left = map.shard(m.shard());
        if (left.isPresent() && left.get().span() instanceof ShardSpan.Directed) {
            return Optional.of(m.shard() + " is a directory shard: directory keyspaces do not merge");
        }
        return Optional.empty();
    }

    private Outcome finishMerge(FinishMerge f) {
        ShardId source = ShardCodec.shard(f.getSource());
        if (!merges.containsKey(source)) {
            return new Outcome(this, new MergeFinished(false));
        }
        var nextMerges = new TreeMap<>(merges);
        nextMerges.remove(source);
        return new Outcome(new ShardState(map, keyspaceIds, moves, transfers, nextMerges, relocations),
                new MergeFinished(true));
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
        return new Outcome(new ShardState(applied.map(), ids, moves, transfers, merges, relocations).settled(), result);
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
        return new Outcome(new ShardState(s.map, s.keyspaceIds, nextMoves, s.transfers, s.merges, s.relocations),
                added.answer());
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
        var nextMerges = new TreeMap<ShardId, Merge>();
        merges.forEach((id, m) -> {
            if (map.shard(m.target()).isPresent()) {
                nextMerges.put(id, m);
            }
        });
        var nextRelocations = new TreeMap<Long, Relocation>();
        relocations.forEach((id, r) -> {
            if (map.keyspace(r.keyspace()).isPresent()) {
                nextRelocations.put(id, r);
            }
        });
        return new ShardState(map, keyspaceIds, nextMoves, nextTransfers, nextMerges, nextRelocations);
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
        merges.forEach((id, m) -> b.addMerges(MergeRecord.newBuilder().setTarget(m.target().value())
                .setTargetEpoch(ShardCodec.encode(m.targetEpoch())).setSource(ShardCodec.encode(m.source()))));
        relocations.values().forEach(r -> b.addRelocations(r.toProto()));
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
        var merges = new TreeMap<ShardId, Merge>();
        for (MergeRecord m : p.getMergesList()) {
            ShardDescriptor source = ShardCodec.decode(m.getSource());
            merges.put(source.id(), new Merge(ShardId.of(m.getTarget()), ShardCodec.decode(m.getTargetEpoch()), source));
        }
        var relocations = new TreeMap<Long, Relocation>();
        for (dev.atoll.proto.shardmap.RelocationRecord r : p.getRelocationsList()) {
            Relocation relocation = Relocation.fromProto(r);
            relocations.put(relocation.id(), relocation);
        }
        return new ShardState(map, ids, moves, transfers, merges, relocations);
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

    public static ShardMapCommand finishMerge(ShardId source) {
        return ShardMapCommand.newBuilder().setFinishMerge(FinishMerge.newBuilder().setSource(source.value())).build();
    }

    /** {@code target} holds every row {@code source} handed off to it in relocation {@code relocation}. */
    public static ShardMapCommand relocationTaken(long relocation, ShardId source, ShardId target) {
        return ShardMapCommand.newBuilder().setRelocationStep(dev.atoll.proto.shardmap.RelocationStep.newBuilder()
                .setRelocation(relocation).setSource(source.value()).setTarget(target.value())).build();
    }

    /** {@code source} deleted the rows it handed off in relocation {@code relocation}. */
    public static ShardMapCommand relocationReleased(long relocation, ShardId source) {
        return ShardMapCommand.newBuilder().setRelocationStep(dev.atoll.proto.shardmap.RelocationStep.newBuilder()
                .setRelocation(relocation).setSource(source.value())).build();
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
