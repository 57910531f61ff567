package dev.atoll.shard;

import dev.atoll.shard.KeySample.SampledKey;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.TreeMap;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

/**
 * Decides when a shard splits and where, and which neighbours merge, by a {@link SplitPolicy}.
 * The split point comes from the data: the sampled key (or, for hash shards, the sampled slot)
 * that best halves the bytes (size split) or the load (load split), never the midpoint of the
 * key space. A key, or a slot, is never split: a shard whose weight sits in one key stays whole.
 * Pure and deterministic.
 */
public final class SplitPlanner {
    public enum Reason { SIZE, LOAD }

    public sealed interface SplitDecision {
        record Split(SplitPoint at, Reason reason) implements SplitDecision {
        }

        record NoSplit(String why) implements SplitDecision {
        }
    }

    private final SplitPolicy policy;

    public SplitPlanner(SplitPolicy policy) {
        this.policy = policy;
    }

    public SplitPolicy policy() {
        return policy;
    }

    /** Whether {@code shard} of keyspace {@code spec} should split and where, from its current statistics. */
    public SplitDecision decideSplit(KeyspaceSpec spec, ShardDescriptor shard, ShardStats stats) {
        checkArgument(spec.name().equals(shard.keyspace()), "%s is not in keyspace %s", shard.id(), spec.name());
        if (!stats.isCurrentFor(shard)) {
            return new SplitDecision.NoSplit("stats are from " + stats.epoch() + ", the shard is at " + shard.epoch());
        }
        Reason reason;
        if (stats.sizeBytes() >= policy.splitSizeBytes()) {
            reason = Reason.SIZE;
        } else if (stats.loadQps() >= policy.splitLoadQps()) {
            reason = Reason.LOAD;
        } else {
            return new SplitDecision.NoSplit("under the split thresholds");
        }
        // Weighted points in order, each a place the shard may be cut before (never inside).
        var points = new TreeMap<Integer, Long>();
        var keys = new ArrayList<Key>();
        switch (shard.span()) {
            case KeyRange range -> {
                for (SampledKey k : stats.sample().keys()) {
                    checkArgument(range.contains(k.key()), "sampled key %s is outside %s", k.key(), range);
                    points.put(keys.size(), weight(k, reason));
                    keys.add(k.key());
                }
            }
            case HashSlots slots -> {
                int slotCount = ((Sharding.Hash) spec.sharding()).slotCount();
                for (SampledKey k : stats.sample().keys()) {
                    int slot = KeyHash.slot(k.key(), slotCount);
                    checkArgument(slots.contains(slot), "sampled key %s hashes to slot %d, not in %s", k.key(), slot, slots);
                }
                points.putAll(slotWeights(slots, slotCount, stats.sample().keys(), reason));
            }
            case ShardSpan.Directed d -> {
                return new SplitDecision.NoSplit("directory shards are not split; edit the directory");
            }
        }
        int cut = balancedCut(new ArrayList<>(points.values()));
        if (cut < 0) {
            return new SplitDecision.NoSplit("the " + reason.name().toLowerCase() + " sits in one "
                    + (shard.span() instanceof KeyRange ? "key" : "slot") + ", which is never split");
        }
        SplitPoint at = shard.span() instanceof KeyRange
                ? new SplitPoint.AtKey(keys.get(cut))
                : new SplitPoint.AtSlot(new ArrayList<>(points.keySet()).get(cut));
        return new SplitDecision.Split(at, reason);
    }

    /**
     * The slot a hash shard holding {@code slots} (of a space of {@code slotCount}) splits at so that
     * the sample's weight (bytes for SIZE, load for LOAD) is best halved: the weighted median slot,
     * the new shard taking the slots from it up. Sampled keys outside {@code slots} are ignored.
     * Empty when no slot leaves weight on both sides (no weight, or all of it in one slot).
     */
    public static OptionalInt balancedSlot(HashSlots slots, int slotCount, List<SampledKey> sample, Reason reason) {
        TreeMap<Integer, Long> points = slotWeights(slots, slotCount, sample, reason);
        int cut = balancedCut(new ArrayList<>(points.values()));
        return cut < 0 ? OptionalInt.empty() : OptionalInt.of(new ArrayList<>(points.keySet()).get(cut));
    }

    /** The sample's weight per slot of {@code slots}, in slot order. */
    private static TreeMap<Integer, Long> slotWeights(HashSlots slots, int slotCount, List<SampledKey> sample,
                                                      Reason reason) {
        var points = new TreeMap<Integer, Long>();
        for (SampledKey k : sample) {
            int slot = KeyHash.slot(k.key(), slotCount);
            if (slots.contains(slot)) {
                points.merge(slot, weight(k, reason), Long::sum);
            }
        }
        return points;
    }

    private static long weight(SampledKey k, Reason reason) {
        return reason == Reason.SIZE ? k.sizeBytes() : k.loadQps();
    }

    /**
     * The index i in [1, n) where cutting before point i best halves the total weight with weight
     * on both sides, the lowest on ties; -1 if no cut leaves weight on both sides.
     */
    static int balancedCut(List<Long> weights) {
        long total = 0;
        for (long w : weights) {
            total += w;
        }
        int best = -1;
        long bestImbalance = Long.MAX_VALUE;
        long below = 0;
        for (int i = 1; i < weights.size(); i++) {
            below += weights.get(i - 1);
            long above = total - below;
            if (below > 0 && above > 0) {
                long imbalance = Math.abs(above - below);
                if (imbalance < bestImbalance) {
                    best = i;
                    bestImbalance = imbalance;
                }
            }
        }
        check(best == -1 || (best >= 1 && best < weights.size()), "a cut is between two points");
        return best;
    }

    /**
     * Whether two shards of one keyspace should merge: both statistics current, both ranges
     * settled for long enough, and together small and cold. Adjacency (range shards) and
     * region (geo shards) are the shard map's to check.
     */
    public boolean shouldMerge(ShardDescriptor left, ShardStats leftStats, ShardDescriptor right, ShardStats rightStats) {
        return leftStats.isCurrentFor(left) && rightStats.isCurrentFor(right)
                && left.keyspace().equals(right.keyspace())
                && !(left.span() instanceof ShardSpan.Directed)
                && leftStats.rangeAgeTicks() >= policy.mergeRangeAgeTicksMin()
                && rightStats.rangeAgeTicks() >= policy.mergeRangeAgeTicksMin()
                && leftStats.sizeBytes() + rightStats.sizeBytes() <= policy.mergeSizeBytesMax()
                && leftStats.loadQps() + rightStats.loadQps() <= policy.mergeLoadQpsMax();
    }
}
