package dev.atoll.shard;

import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

import static dev.atoll.core.Check.check;

/**
 * A fixed slot space divided among the shards: a key's slot is {@link KeyHash#slot}, its shard
 * the one owning the slot. Every slot has exactly one owner; a shard may own none.
 */
public final class HashPartitioner implements Partitioner {
    private final int slotCount;
    private final NavigableMap<Integer, ShardId> ownerByRangeStart;

    private HashPartitioner(int slotCount, NavigableMap<Integer, ShardId> ownerByRangeStart) {
        this.slotCount = slotCount;
        this.ownerByRangeStart = Collections.unmodifiableNavigableMap(ownerByRangeStart);
    }

    /** Checks that every slot in [0, slotCount) is owned by exactly one of the shards. */
    public static HashPartitioner of(int slotCount, List<ShardDescriptor> shards) {
        var owned = new BitSet(slotCount);
        var byStart = new TreeMap<Integer, ShardId>();
        for (ShardDescriptor s : shards) {
            for (SlotRange r : s.hashSlots().ranges()) {
                check(r.end() <= slotCount, "%s owns slots past %d: %s", s.id(), slotCount, r);
                check(owned.get(r.start(), r.end()).isEmpty(), "a slot has one owner: %s overlaps in %s", r, s.id());
                owned.set(r.start(), r.end());
                byStart.put(r.start(), s.id());
            }
        }
        check(owned.cardinality() == slotCount, "every slot has an owner: %d of %d owned", owned.cardinality(),
                slotCount);
        return new HashPartitioner(slotCount, byStart);
    }

    @Override
    public ShardId shardFor(Key key) {
        return ownerOf(slotOf(key));
    }

    public int slotOf(Key key) {
        return KeyHash.slot(key, slotCount);
    }

    /** O(log r) in the number of slot ranges. */
    public ShardId ownerOf(int slot) {
        return ownerByRangeStart.floorEntry(slot).getValue();
    }

    public int slotCount() {
        return slotCount;
    }
}
