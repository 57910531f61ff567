package dev.atoll.server.shard;

import com.google.protobuf.ByteString;
import dev.atoll.proto.shardmap.RelocationLegRecord;
import dev.atoll.proto.shardmap.RelocationRecord;
import dev.atoll.proto.shardmap.RelocationShardRecord;
import dev.atoll.shard.DataMove;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.replica.Handoff;
import dev.atoll.shard.replica.Intake;
import dev.atoll.shard.replica.MalformedShardData;
import dev.atoll.shard.replica.MovedKeys;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;

/**
 * A data move in progress, as the meta group records it (an intent, like a merge's): the map
 * already routes the moved keys to their new shards (a directory edit, slots moved); the groups
 * carry the rows over, each step forward only ({@link RelocationPlan}). {@code legs} are the
 * source-to-target parts, {@code shards} each shard's epoch before and after (the map's), whether
 * a source released its rows. It ends once every leg is taken and every source released.
 * Immutable.
 */
public record Relocation(long id, String keyspace, List<Leg> legs, NavigableMap<ShardId, Epochs> shards) {
    /** One source's keys going to one target, and whether the target holds all their rows. */
    public record Leg(ShardId source, ShardId target, List<MovedKeys> keys, boolean taken) {
        public Leg {
            keys = List.copyOf(keys);
        }
    }

    /** A shard's epoch before and after the move (the map's), and whether it released what it handed off. */
    public record Epochs(ShardEpoch before, ShardEpoch after, boolean released) {
    }

    public Relocation {
        legs = List.copyOf(legs);
        shards = Collections.unmodifiableNavigableMap(new TreeMap<>(shards));
        for (Leg l : legs) {
            check(shards.containsKey(l.source()) && shards.containsKey(l.target()), "a leg's shards are recorded");
            check(!isTarget(legs, l.source()) && !isSource(legs, l.target()),
                    "a shard gives or takes keys in one data move, not both: %s", l);
        }
    }

    /**
     * The relocation the map's {@code moves} need, as {@code before} (the map the change was applied
     * to) and {@code after} (the map it made) describe them; empty when there are none. A directory
     * move of keys that now go by the default rule carries only those the rule sends to its target.
     */
    public static Optional<Relocation> of(long id, String keyspace, List<DataMove> moves, ShardMap before,
                                          ShardMap after) {
        if (moves.isEmpty()) {
            return Optional.empty();
        }
        int slotCount = after.keyspace(keyspace).orElseThrow().sharding() instanceof Sharding.Hash h
                ? h.slotCount() : 0;
        Directory directory = after.directory(keyspace).orElse(null);
        var byPair = new LinkedHashMap<List<ShardId>, List<MovedKeys>>();
        for (DataMove m : moves) {
            MovedKeys keys = switch (m.span()) {
                case HashSlots slots -> new MovedKeys.Slots(slots, slotCount);
                case KeyRange range -> directory != null && directory.routesByDefault(range.start())
                        ? new MovedKeys.HashedRange(range, directory.defaultShards(), m.target())
                        : new MovedKeys.Range(range);
                case dev.atoll.shard.ShardSpan.Directed d -> throw new IllegalArgumentException("a move names its keys");
            };
            byPair.computeIfAbsent(List.of(m.source(), m.target()), x -> new ArrayList<>()).add(keys);
        }
        var legs = new ArrayList<Leg>();
        var shards = new TreeMap<ShardId, Epochs>();
        byPair.forEach((pair, keys) -> {
            legs.add(new Leg(pair.get(0), pair.get(1), keys, false));
            for (ShardId s : pair) {
                shards.put(s, new Epochs(before.shard(s).orElseThrow().epoch(), after.shard(s).orElseThrow().epoch(),
                        false));
            }
        });
        return Optional.of(new Relocation(id, keyspace, legs, shards));
    }

    /** Whether some shard is both a source and a target of {@code moves}: such moves make no relocation. */
    public static boolean givesAndTakes(List<DataMove> moves) {
        var sources = new TreeSet<ShardId>();
        var targets = new TreeSet<ShardId>();
        moves.forEach(m -> {
            sources.add(m.source());
            targets.add(m.target());
        });
        sources.retainAll(targets);
        return !sources.isEmpty();
    }

    /** Whether every leg's rows are at their target and every source released its own. */
    public boolean done() {
        return legs.stream().allMatch(Leg::taken) && sources().stream().allMatch(s -> shards.get(s).released());
    }

    public boolean involves(ShardId shard) {
        return shards.containsKey(shard);
    }

    public List<ShardId> sources() {
        return new ArrayList<>(new TreeSet<>(legs.stream().map(Leg::source).toList()));
    }

    public List<ShardId> targets() {
        return new ArrayList<>(new TreeSet<>(legs.stream().map(Leg::target).toList()));
    }

    public boolean isSource(ShardId shard) {
        return isSource(legs, shard);
    }

    public boolean isTarget(ShardId shard) {
        return isTarget(legs, shard);
    }

    private static boolean isSource(List<Leg> legs, ShardId shard) {
        return legs.stream().anyMatch(l -> l.source().equals(shard));
    }

    private static boolean isTarget(List<Leg> legs, ShardId shard) {
        return legs.stream().anyMatch(l -> l.target().equals(shard));
    }

    /** What the source {@code shard} hands off: one handoff per target. */
    public List<Handoff> handoffsOf(ShardId shard) {
        return legs.stream().filter(l -> l.source().equals(shard)).map(l -> new Handoff(id, l.target(), l.keys()))
                .toList();
    }

    /** What the target {@code shard} takes over: one intake per source, each from the first key. */
    public List<Intake> intakesOf(ShardId shard) {
        return legs.stream().filter(l -> l.target().equals(shard))
                .map(l -> new Intake(id, l.source(), l.keys(), dev.atoll.shard.Key.MIN)).toList();
    }

    /** This relocation with the leg {@code source -> target} taken; itself when there is no such leg. */
    public Relocation withTaken(ShardId source, ShardId target) {
        var next = legs.stream().map(l -> l.source().equals(source) && l.target().equals(target)
                ? new Leg(source, target, l.keys(), true) : l).toList();
        return new Relocation(id, keyspace, next, shards);
    }

    /** This relocation with {@code source} released, once all of its legs are taken; else itself. */
    public Relocation withReleased(ShardId source) {
        boolean allTaken = legs.stream().filter(l -> l.source().equals(source)).allMatch(Leg::taken);
        Epochs e = shards.get(source);
        if (!isSource(source) || !allTaken || e == null) {
            return this;
        }
        var next = new TreeMap<>(shards);
        next.put(source, new Epochs(e.before(), e.after(), true));
        return new Relocation(id, keyspace, legs, next);
    }

    // ------------------------------------------------------------------ snapshot form

    public RelocationRecord toProto() {
        var b = RelocationRecord.newBuilder().setId(id).setKeyspace(keyspace);
        for (Leg l : legs) {
            b.addLegs(RelocationLegRecord.newBuilder().setSource(l.source().value()).setTarget(l.target().value())
                    .setKeys(ByteString.copyFrom(dev.atoll.shard.replica.ShardCodec.encodeKeys(l.keys())))
                    .setTaken(l.taken()));
        }
        shards.forEach((s, e) -> b.addShards(RelocationShardRecord.newBuilder().setShard(s.value())
                .setBefore(ShardCodec.encode(e.before())).setAfter(ShardCodec.encode(e.after()))
                .setReleased(e.released())));
        return b.build();
    }

    /** The relocation a snapshot recorded; throws MalformedShardRecord when it is damaged. */
    public static Relocation fromProto(RelocationRecord r) {
        var legs = new ArrayList<Leg>();
        for (RelocationLegRecord l : r.getLegsList()) {
            List<MovedKeys> keys;
            try {
                keys = dev.atoll.shard.replica.ShardCodec.decodeKeys(l.getKeys().toByteArray());
            } catch (MalformedShardData bad) {
                throw new ShardCodec.MalformedShardRecord("relocation keys: " + bad.getMessage(), bad);
            }
            legs.add(new Leg(ShardCodec.shard(l.getSource()), ShardCodec.shard(l.getTarget()), keys, l.getTaken()));
        }
        var shards = new TreeMap<ShardId, Epochs>();
        for (RelocationShardRecord s : r.getShardsList()) {
            shards.put(ShardCodec.shard(s.getShard()), new Epochs(ShardCodec.decode(s.getBefore()),
                    ShardCodec.decode(s.getAfter()), s.getReleased()));
        }
        return new Relocation(r.getId(), r.getKeyspace(), legs, shards);
    }
}
