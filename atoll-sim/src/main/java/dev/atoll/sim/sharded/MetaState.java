package dev.atoll.sim.sharded;

import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.DataMove;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.replica.MovedKeys;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import static dev.atoll.sim.sharded.ShardedSimulation.check;

/**
 * The meta group's state machine in the simulator: the {@link ShardMap}; every change of a
 * shard's span the map applied (split, merge, data move), keyed by the shard and the range
 * version it had before, which the placement driver replays into the shard groups' logs in that
 * order; every data move by its relocation id; and the shards {@code AddShard} created, whose groups the driver starts empty.
 * Immutable: applying a change gives a new state (or this one, if refused).
 */
record MetaState(ShardMap map, Map<Step, RangeChange> rangeChanges, Map<Long, Relocation> relocations,
                 Set<ShardId> added, long appliedIndex) {
    /** Shard {@code shard} at range version {@code rangeVersion}: where a range change applies. */
    record Step(ShardId shard, long rangeVersion) {
    }

    /** A change of shard spans, as the map applied it. */
    sealed interface RangeChange {
    }

    /** {@code change.shard()} split; {@code child} is the new shard. */
    record Split(ShardChange.Split change, ShardId child) implements RangeChange {
    }

    /** Recorded under its target ({@code change.shard()}) and under its source ({@code change.right()}). */
    record Merge(ShardChange.Merge change) implements RangeChange {
    }

    /**
     * The data moves of one map change (slots moved, a directory entry edited), relocation
     * {@code id}: each source hands its legs' keys off, each target receives them, at the range
     * versions the map gave the shards ({@code before} to {@code after}).
     */
    record Relocation(long id, List<Leg> legs, Map<ShardId, ShardEpoch> before, Map<ShardId, ShardEpoch> after)
            implements RangeChange {
        Relocation {
            legs = List.copyOf(legs);
            // sorted, so that iterating them is the same in every run (Map.copyOf's order is not)
            before = Collections.unmodifiableSortedMap(new TreeMap<>(before));
            after = Collections.unmodifiableSortedMap(new TreeMap<>(after));
        }

        List<Leg> legsFrom(ShardId source) {
            return legs.stream().filter(l -> l.source().equals(source)).toList();
        }

        List<Leg> legsTo(ShardId target) {
            return legs.stream().filter(l -> l.target().equals(target)).toList();
        }
    }

    /** The keys relocation moves from {@code source} to {@code target}. */
    record Leg(ShardId source, ShardId target, List<MovedKeys> keys) {
        Leg {
            keys = List.copyOf(keys);
        }
    }

    MetaState {
        rangeChanges = Map.copyOf(rangeChanges);
        relocations = Collections.unmodifiableSortedMap(new TreeMap<>(relocations));
        added = Set.copyOf(added);
    }

    static MetaState initial(ShardMap map, long appliedIndex) {
        return new MetaState(map, Map.of(), Map.of(), Set.of(), appliedIndex);
    }

    /** The range change shard {@code shard} at range version {@code rangeVersion} is to apply next, if the map made one. */
    Optional<RangeChange> rangeChange(ShardId shard, long rangeVersion) {
        return Optional.ofNullable(rangeChanges.get(new Step(shard, rangeVersion)));
    }

    /** The state after the entry at {@code index}: {@code change} applied if the map takes it. */
    MetaState apply(long index, ShardChange change) {
        if (!(map.apply(change) instanceof ChangeResult.Applied applied)) {
            return skip(index);
        }
        var changes = new HashMap<>(rangeChanges);
        var newRelocations = new TreeMap<>(relocations);
        var newAdded = new HashSet<>(added);
        switch (change) {
            case ShardChange.Split s -> {
                ShardId child = applied.changed().stream().map(ShardDescriptor::id)
                        .filter(id -> !id.equals(s.shard())).findFirst().orElseThrow();
                record(changes, s.shard(), new Split(s, child));
            }
            case ShardChange.Merge m -> {
                record(changes, m.shard(), new Merge(m));
                record(changes, m.right(), new Merge(m));
            }
            case ShardChange.AddShard a -> applied.changed().forEach(d -> newAdded.add(d.id()));
            default -> {
                if (!applied.moves().isEmpty()) {
                    Relocation r = relocation(applied);
                    r.before().forEach((shard, epoch) -> record(changes, shard, r));
                    newRelocations.put(r.id(), r);
                }
            }
        }
        return new MetaState(applied.map(), changes, newRelocations, newAdded, index);
    }

    private void record(Map<Step, RangeChange> changes, ShardId shard, RangeChange change) {
        var step = new Step(shard, map.shard(shard).orElseThrow().epoch().rangeVersion());
        check(changes.put(step, change) == null, "one range change per shard and range version: %s", step);
    }

    /**
     * The relocation of an applied slot move or directory edit: its moves grouped into legs, each
     * move's keys as a replica tests them. A directory piece that a default rule routes (before
     * the edit on the source side, after it on the target side) moves only the keys that rule sends
     * from the source, or to the target; the other keys of the piece stay where they are.
     */
    private Relocation relocation(ChangeResult.Applied applied) {
        ShardMap after = applied.map();
        String keyspace = map.shard(applied.moves().getFirst().source()).orElseThrow().keyspace();
        Sharding sharding = map.keyspace(keyspace).orElseThrow().sharding();
        Directory dirBefore = map.directory(keyspace).orElse(null);
        Directory dirAfter = after.directory(keyspace).orElse(null);
        var legs = new LinkedHashMap<List<ShardId>, List<MovedKeys>>();
        for (DataMove m : applied.moves()) {
            MovedKeys keys = switch (m.span()) {
                case HashSlots slots -> new MovedKeys.Slots(slots, ((Sharding.Hash) sharding).slotCount());
                case KeyRange piece when dirBefore.routesByDefault(piece.start()) ->
                        new MovedKeys.HashedRange(piece, dirBefore.defaultShards(), m.source());
                case KeyRange piece when dirAfter.routesByDefault(piece.start()) ->
                        new MovedKeys.HashedRange(piece, dirAfter.defaultShards(), m.target());
                case KeyRange piece -> new MovedKeys.Range(piece);
                default -> throw new IllegalStateException("a data move of " + m.span());
            };
            legs.computeIfAbsent(List.of(m.source(), m.target()), k -> new ArrayList<>()).add(keys);
        }
        var before = new TreeMap<ShardId, ShardEpoch>();
        var next = new TreeMap<ShardId, ShardEpoch>();
        var out = new ArrayList<Leg>();
        legs.forEach((ends, keys) -> out.add(new Leg(ends.get(0), ends.get(1), keys)));
        for (Leg leg : out) {
            for (ShardId s : List.of(leg.source(), leg.target())) {
                before.put(s, map.shard(s).orElseThrow().epoch());
                next.put(s, after.shard(s).orElseThrow().epoch());
            }
            check(out.stream().noneMatch(l -> l.target().equals(leg.source())),
                    "a relocation's shard gives or takes keys, not both: %s", leg.source());
        }
        next.forEach((s, e) -> check(e.rangeVersion() == before.get(s).rangeVersion() + 1,
                "a data move raises each shard's range version by one: %s %s -> %s", s, before.get(s), e));
        return new Relocation(after.version(), out, before, next);
    }

    /** The state after an entry that changes nothing. */
    MetaState skip(long index) {
        return new MetaState(map, rangeChanges, relocations, added, index);
    }
}
