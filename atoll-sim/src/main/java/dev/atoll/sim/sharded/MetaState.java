package dev.atoll.sim.sharded;

import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;

import java.util.HashMap;
import java.util.Map;

/**
 * The meta group's state machine in the simulator: the {@link ShardMap}, and for each shard the
 * last split or merge the map applied to it, which the placement driver replays into the shard
 * groups' logs. Immutable: applying a change gives a new state (or this one, if refused).
 */
record MetaState(ShardMap map, Map<ShardId, RangeChange> rangeChanges, long appliedIndex) {
    /**
     * A split or merge as the map applied it. {@code child}: the new shard of a split (else null).
     * A merge is recorded under its target ({@code change.shard()}) and under its source.
     */
    record RangeChange(ShardChange.Operation change, ShardId child) {
    }

    MetaState {
        rangeChanges = Map.copyOf(rangeChanges);
    }

    static MetaState initial(ShardMap map, long appliedIndex) {
        return new MetaState(map, Map.of(), appliedIndex);
    }

    /** The state after the entry at {@code index}: {@code change} applied if the map takes it. */
    MetaState apply(long index, ShardChange change) {
        if (!(map.apply(change) instanceof ChangeResult.Applied applied)) {
            return skip(index);
        }
        var changes = new HashMap<>(rangeChanges);
        switch (change) {
            case ShardChange.Split s -> {
                ShardId child = applied.changed().stream().map(ShardDescriptor::id)
                        .filter(id -> !id.equals(s.shard())).findFirst().orElseThrow();
                changes.put(s.shard(), new RangeChange(s, child));
            }
            case ShardChange.Merge m -> {
                changes.put(m.shard(), new RangeChange(m, null));
                changes.put(m.right(), new RangeChange(m, null));
            }
            default -> { }
        }
        return new MetaState(applied.map(), changes, index);
    }

    /** The state after an entry that changes nothing. */
    MetaState skip(long index) {
        return new MetaState(map, rangeChanges, index);
    }
}
