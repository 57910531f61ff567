package dev.atoll.client;

import dev.atoll.proto.shardmap.KeyspaceSpecRecord;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.proto.shardmap.SlotRangeRecord;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.KeyRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A client's copy of one keyspace's shards, immutable: {@link #with} returns a new copy. Range
 * keyspaces route by key range, hash keyspaces by slot (the server's own slot function);
 * directory and geo keyspaces are routed by the node asked ({@link #lookup} is empty), since
 * their tables are not part of what a client fetches.
 */
final class KeyspaceRoutes {
    enum Kind { RANGE, HASH, BY_SERVER }

    private final String keyspace;
    private final Kind kind;
    private final int slotCount;
    private final long fetchedAtNanos;
    private final List<ShardRecord> shards;

    private KeyspaceRoutes(String keyspace, Kind kind, int slotCount, long fetchedAtNanos, List<ShardRecord> shards) {
        this.keyspace = keyspace;
        this.kind = kind;
        this.slotCount = slotCount;
        this.fetchedAtNanos = fetchedAtNanos;
        this.shards = List.copyOf(shards);
    }

    static KeyspaceRoutes of(KeyspaceSpecRecord spec, List<ShardRecord> shards, long fetchedAtNanos) {
        return switch (spec.getShardingCase()) {
            case RANGE -> new KeyspaceRoutes(spec.getName(), Kind.RANGE, 0, fetchedAtNanos, shards);
            case HASH -> new KeyspaceRoutes(spec.getName(), Kind.HASH, spec.getHash().getSlotCount(), fetchedAtNanos,
                    shards);
            default -> new KeyspaceRoutes(spec.getName(), Kind.BY_SERVER, 0, fetchedAtNanos, shards);
        };
    }

    String keyspace() {
        return keyspace;
    }

    Kind kind() {
        return kind;
    }

    long fetchedAtNanos() {
        return fetchedAtNanos;
    }

    /** The shard holding {@code key} by this copy; empty when the copy has a hole there or the server routes. */
    Optional<ShardRecord> lookup(byte[] key) {
        return switch (kind) {
            case RANGE -> {
                Key k = Key.of(key);
                yield shards.stream().filter(s -> range(s).contains(k)).findFirst();
            }
            case HASH -> {
                int slot = KeyHash.slot(Key.of(key), slotCount);
                yield shards.stream().filter(s -> containsSlot(s, slot)).findFirst();
            }
            case BY_SERVER -> Optional.empty();
        };
    }

    /**
     * This copy with {@code owner} (what a "shard moved" answer named) in place of every shard
     * its span overlaps; unchanged when this copy already holds {@code owner} at a later range version
     * (the answer came from a node whose map is behind ours).
     */
    KeyspaceRoutes with(ShardRecord owner) {
        if (!owner.getKeyspace().equals(keyspace) || kind == Kind.BY_SERVER) {
            return this;
        }
        for (ShardRecord s : shards) {
            if (s.getId() == owner.getId()
                    && s.getEpoch().getRangeVersion() > owner.getEpoch().getRangeVersion()) {
                return this;
            }
        }
        var kept = new ArrayList<ShardRecord>();
        for (ShardRecord s : shards) {
            if (s.getId() != owner.getId() && !overlaps(s, owner)) {
                kept.add(s);
            }
        }
        kept.add(owner);
        return new KeyspaceRoutes(keyspace, kind, slotCount, fetchedAtNanos, kept);
    }

    private boolean overlaps(ShardRecord a, ShardRecord b) {
        if (kind == Kind.RANGE) {
            return range(a).overlaps(range(b));
        }
        for (SlotRangeRecord r : b.getSlots().getRangesList()) {
            for (SlotRangeRecord q : a.getSlots().getRangesList()) {
                if (r.getStart() < q.getEnd() && q.getStart() < r.getEnd()) {
                    return true;
                }
            }
        }
        return false;
    }

    static KeyRange range(ShardRecord s) {
        var r = s.getRange();
        return new KeyRange(Key.of(r.getStart().toByteArray()), r.hasEnd() ? Key.of(r.getEnd().toByteArray()) : Key.END);
    }

    private static boolean containsSlot(ShardRecord s, int slot) {
        for (SlotRangeRecord r : s.getSlots().getRangesList()) {
            if (slot >= r.getStart() && slot < r.getEnd()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return keyspace + " " + kind + " " + shards.stream().map(s -> "s" + s.getId()).toList();
    }
}
