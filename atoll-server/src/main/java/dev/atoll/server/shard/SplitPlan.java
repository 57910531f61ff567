package dev.atoll.server.shard;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * The next split a shard's group has to apply to catch up with the meta group's map: derived
 * from the map alone, so that any leader, at any time, proposes the same command. A replica at
 * range version n held, at that version, exactly the span the map gave its shard; every other
 * shard of the map inside that span was created since, by a split of this shard or of a shard
 * created by one. The map allocates shard ids in increasing order, so the oldest of them (the
 * smallest id) is the first split's new shard, and its first key (or slot) is that split's
 * point: a shard's later splits keep its lower part, so its start never moves. Pure.
 */
final class SplitPlan {
    private SplitPlan() {
    }

    /**
     * The split {@code replica} applies next, planned at its own epoch, given the shards the map
     * holds now in its keyspace; empty when its group has applied every split of the map.
     */
    static Optional<ShardCommand.Split> next(ShardBounds replica, Collection<ShardDescriptor> keyspaceShards) {
        return keyspaceShards.stream()
                .filter(s -> !s.id().equals(replica.shard()) && inside(s.span(), replica.span()))
                .filter(s -> s.epoch().rangeVersion() > replica.epoch().rangeVersion())
                .min(Comparator.comparing(ShardDescriptor::id))
                .map(child -> new ShardCommand.Split(replica.shard(), replica.epoch(), pointOf(child.span()),
                        child.id()));
    }

    private static boolean inside(ShardSpan inner, ShardSpan outer) {
        return switch (outer) {
            case KeyRange o -> inner instanceof KeyRange i && o.contains(i) && !i.start().equals(o.start());
            case HashSlots o -> inner instanceof HashSlots i && !i.isEmpty() && o.plus(i).equals(o)
                    && !o.equals(i);
            case ShardSpan.Directed d -> false;
        };
    }

    private static SplitPoint pointOf(ShardSpan span) {
        return switch (span) {
            case KeyRange r -> new SplitPoint.AtKey(r.start());
            case HashSlots h -> new SplitPoint.AtSlot(h.ranges().getFirst().start());
            case ShardSpan.Directed d -> throw new IllegalArgumentException("directory shards do not split");
        };
    }
}
