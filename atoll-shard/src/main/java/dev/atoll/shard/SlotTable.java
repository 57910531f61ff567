package dev.atoll.shard;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

/**
 * Which shard owns each slot of a hash keyspace, and how to re-divide the slots among a new
 * set of owners moving as few as possible, as Redis Cluster resharding does: each owner ends
 * with floor(S/N) or ceil(S/N) slots, and only the slots above an owner's new share move. Going
 * from N to N+1 owners therefore moves about 1/(N+1) of the slots, and of the keys. Immutable.
 */
public final class SlotTable {
    /** Slots {@code from} gives to {@code to}. */
    public record SlotMove(ShardId from, ShardId to, HashSlots slots) {
        public SlotMove {
            checkArgument(!from.equals(to) && !slots.isEmpty(), "a slot move gives some slots to another owner");
        }
    }

    /** The table after a rebalance and the moves that lead to it. */
    public record Rebalance(SlotTable table, List<SlotMove> moves) {
        public Rebalance {
            moves = List.copyOf(moves);
        }

        public int movedSlotCount() {
            return moves.stream().mapToInt(m -> m.slots().slotCount()).sum();
        }
    }

    private final ShardId[] owners;

    private SlotTable(ShardId[] owners) {
        this.owners = owners;
        for (int i = 0; i < owners.length; i++) {
            check(owners[i] != null, "slot %d has an owner", i);
        }
    }

    /** {@code slotCount} slots in equal contiguous runs, one per owner in the order given. */
    public static SlotTable evenly(int slotCount, List<ShardId> owners) {
        checkArgument(!owners.isEmpty() && owners.size() <= slotCount, "1 to %d owners: %d", slotCount, owners.size());
        checkArgument(new TreeSet<>(owners).size() == owners.size(), "distinct owners: %s", owners);
        var table = new ShardId[slotCount];
        for (int i = 0; i < owners.size(); i++) {
            Arrays.fill(table, (int) ((long) i * slotCount / owners.size()),
                    (int) ((long) (i + 1) * slotCount / owners.size()), owners.get(i));
        }
        return new SlotTable(table);
    }

    /** The table of a hash keyspace in {@code map}. */
    public static SlotTable of(ShardMap map, String keyspace) {
        KeyspaceSpec spec = map.keyspace(keyspace).orElseThrow(() -> new IllegalArgumentException("no keyspace " + keyspace));
        checkArgument(spec.sharding() instanceof Sharding.Hash, "%s is not a hash keyspace", keyspace);
        var table = new ShardId[((Sharding.Hash) spec.sharding()).slotCount()];
        for (ShardDescriptor s : map.shards(keyspace)) {
            for (SlotRange r : s.hashSlots().ranges()) {
                Arrays.fill(table, r.start(), r.end(), s.id());
            }
        }
        return new SlotTable(table);
    }

    public int slotCount() {
        return owners.length;
    }

    public ShardId ownerOf(int slot) {
        return owners[slot];
    }

    public ShardId ownerOf(Key key) {
        return owners[KeyHash.slot(key, owners.length)];
    }

    /** Each owner's slots, by owner. */
    public NavigableMap<ShardId, HashSlots> slotsByOwner() {
        var bits = new TreeMap<ShardId, BitSet>();
        for (int i = 0; i < owners.length; i++) {
            bits.computeIfAbsent(owners[i], o -> new BitSet()).set(i);
        }
        var result = new TreeMap<ShardId, HashSlots>();
        bits.forEach((o, b) -> result.put(o, HashSlots.of(b)));
        return result;
    }

    /**
     * Re-divides the slots among {@code newOwners} (which may add owners, drop owners, or both)
     * with the fewest slots moved: owners keeping more than their new share give their highest
     * slots away, owners short of it take them, lowest slots first. Deterministic.
     */
    public Rebalance rebalance(List<ShardId> newOwners) {
        int n = newOwners.size();
        checkArgument(n >= 1 && n <= owners.length, "1 to %d owners: %d", owners.length, n);
        checkArgument(new TreeSet<>(newOwners).size() == n, "distinct owners: %s", newOwners);
        var count = new TreeMap<ShardId, Integer>();
        for (ShardId o : owners) {
            count.merge(o, 1, Integer::sum);
        }
        // The ceil(S/N) shares go to the owners that already hold the most, so fewer slots move.
        int base = owners.length / n;
        int extra = owners.length % n;
        var byHolding = new ArrayList<>(newOwners);
        byHolding.sort(Comparator.comparing((ShardId o) -> -count.getOrDefault(o, 0)).thenComparing(o -> o));
        var target = new TreeMap<ShardId, Integer>();
        for (int i = 0; i < n; i++) {
            target.put(byHolding.get(i), base + (i < extra ? 1 : 0));
        }
        var next = owners.clone();
        var surplus = new TreeMap<ShardId, Integer>();
        for (Map.Entry<ShardId, Integer> e : count.entrySet()) {
            int give = e.getValue() - target.getOrDefault(e.getKey(), 0);
            if (give > 0) {
                surplus.put(e.getKey(), give);
            }
        }
        // Donated slots: each donor's highest ones, pooled in slot order.
        var pool = new ArrayList<Integer>();
        for (int slot = owners.length - 1; slot >= 0; slot--) {
            Integer give = surplus.get(owners[slot]);
            if (give != null && give > 0) {
                surplus.put(owners[slot], give - 1);
                pool.add(slot);
            }
        }
        pool.sort(null);
        var moved = new TreeMap<ShardId, TreeMap<ShardId, BitSet>>();
        int cursor = 0;
        for (Map.Entry<ShardId, Integer> e : target.entrySet()) {
            int deficit = e.getValue() - count.getOrDefault(e.getKey(), 0);
            for (int i = 0; i < deficit; i++) {
                int slot = pool.get(cursor++);
                moved.computeIfAbsent(owners[slot], f -> new TreeMap<>())
                        .computeIfAbsent(e.getKey(), t -> new BitSet()).set(slot);
                next[slot] = e.getKey();
            }
        }
        check(cursor == pool.size(), "every donated slot finds an owner: %d of %d", cursor, pool.size());
        var moves = new ArrayList<SlotMove>();
        moved.forEach((from, tos) -> tos.forEach((to, bits) -> moves.add(new SlotMove(from, to, HashSlots.of(bits)))));
        var table = new SlotTable(next);
        var counts = table.slotsByOwner();
        check(counts.keySet().equals(new TreeSet<>(newOwners)), "exactly the new owners own slots");
        counts.values().forEach(h -> check(h.slotCount() == base || h.slotCount() == base + 1,
                "every owner holds floor or ceil of S/N slots: %d", h.slotCount()));
        return new Rebalance(table, moves);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlotTable t && Arrays.equals(owners, t.owners);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(owners);
    }

    @Override
    public String toString() {
        return "SlotTable" + slotsByOwner();
    }
}
