package dev.atoll.shard;

import dev.atoll.shard.KeySample.SampledKey;
import dev.atoll.shard.SplitPlanner.SplitDecision;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.atoll.shard.Keys.k;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SplitPlannerTest {
    private static final SplitPolicy POLICY = new SplitPolicy(1000, 100, 400, 40, 10);
    private static final SplitPlanner PLANNER = new SplitPlanner(POLICY);
    private static final KeyspaceSpec USERS = KeyspaceSpec.range("users", 3);

    private static ShardDescriptor wholeRange() {
        return Keys.withKeyspace(USERS).shard(ShardId.of(1)).orElseThrow();
    }

    private static ShardStats stats(ShardDescriptor s, long bytes, long qps, List<SampledKey> sample) {
        return new ShardStats(s.id(), s.epoch(), bytes, qps, 100, List.of(), new KeySample(sample));
    }

    @Test
    void aSizeSplitHalvesTheBytesNotTheKeySpace() {
        // Almost all bytes live under "a": the midpoint of the key space would leave one side empty.
        var sample = new ArrayList<SampledKey>();
        for (int i = 0; i < 10; i++) {
            sample.add(new SampledKey(k("a" + i), 100, 0));
        }
        sample.add(new SampledKey(k("m"), 10, 0));
        sample.add(new SampledKey(k("z"), 10, 0));
        ShardDescriptor s = wholeRange();

        SplitDecision d = PLANNER.decideSplit(USERS, s, stats(s, 1020, 0, sample));

        assertThat(d).isEqualTo(new SplitDecision.Split(new SplitPoint.AtKey(k("a5")), SplitPlanner.Reason.SIZE));
    }

    @Test
    void aLoadSplitHalvesTheQueriesOfASmallShard() {
        var sample = List.of(new SampledKey(k("a"), 1, 10), new SampledKey(k("b"), 1, 10),
                new SampledKey(k("c"), 1, 50), new SampledKey(k("d"), 1, 60));
        ShardDescriptor s = wholeRange();

        SplitDecision d = PLANNER.decideSplit(USERS, s, stats(s, 4, 130, sample));

        assertThat(d).isEqualTo(new SplitDecision.Split(new SplitPoint.AtKey(k("d")), SplitPlanner.Reason.LOAD));
    }

    @Test
    void aSingleHotKeyIsNeverSplit() {
        ShardDescriptor s = wholeRange();
        var oneKey = List.of(new SampledKey(k("hot"), 5000, 0));
        var allWeightOnOne = List.of(new SampledKey(k("cold"), 0, 0), new SampledKey(k("hot"), 5000, 0));
        assertThat(PLANNER.decideSplit(USERS, s, stats(s, 5000, 0, oneKey))).isInstanceOf(SplitDecision.NoSplit.class);
        assertThat(PLANNER.decideSplit(USERS, s, stats(s, 5000, 0, allWeightOnOne))).isInstanceOf(SplitDecision.NoSplit.class);
    }

    @Test
    void smallColdShardsAndStaleStatsDoNotSplit() {
        ShardDescriptor s = wholeRange();
        var sample = List.of(new SampledKey(k("a"), 500, 50), new SampledKey(k("b"), 500, 50));
        assertThat(PLANNER.decideSplit(USERS, s, stats(s, 999, 99, sample))).isInstanceOf(SplitDecision.NoSplit.class);
        var stale = new ShardStats(s.id(), s.epoch().nextRange(), 5000, 0, 0, List.of(), new KeySample(sample));
        assertThat(PLANNER.decideSplit(USERS, s, stale)).isInstanceOf(SplitDecision.NoSplit.class);
    }

    @Test
    void aHashShardSplitsAtTheSlotThatHalvesItsLoad() {
        var spec = KeyspaceSpec.hash("sessions", 3, 1);
        ShardDescriptor s = Keys.withKeyspace(spec).shard(ShardId.of(1)).orElseThrow();
        var sample = new ArrayList<SampledKey>();
        for (int i = 0; i < 100; i++) {
            sample.add(new SampledKey(k("session-" + i), 20, 0));
        }
        sample.sort((a, b) -> a.key().compareTo(b.key()));

        SplitDecision d = PLANNER.decideSplit(spec, s, stats(s, 2000, 0, sample));

        int slot = ((SplitPoint.AtSlot) ((SplitDecision.Split) d).at()).slot();
        long below = sample.stream().filter(x -> KeyHash.slot(x.key(), 16384) < slot).count();
        assertThat(below).isBetween(48L, 52L);
    }

    /** A key whose slot, in a space of {@code slotCount}, is {@code slot}. */
    private static Key keyInSlot(int slot, int slotCount) {
        for (int i = 0; ; i++) {
            Key key = k("key-" + slot + "-" + i);
            if (KeyHash.slot(key, slotCount) == slot) {
                return key;
            }
        }
    }

    private static SampledKey sampled(int slot, long bytes) {
        return new SampledKey(keyInSlot(slot, 16), bytes, 1);
    }

    private static final HashSlots ALL_16 = HashSlots.of(new SlotRange(0, 16));

    @Test
    void theWeightedMedianSlotHalvesTheBytesForSizeAndTheRowsForLoad() {
        // one row in each of slots 1, 4 and 10; slot 14 holds most bytes
        var sample = List.of(sampled(1, 100), sampled(4, 100), sampled(10, 100), sampled(14, 900));

        // by bytes: cutting before 14 leaves 300 | 900, before 10 leaves 200 | 1000
        assertThat(SplitPlanner.balancedSlot(ALL_16, 16, sample, SplitPlanner.Reason.SIZE)).hasValue(14);
        // by rows: cutting before 10 leaves 2 | 2
        assertThat(SplitPlanner.balancedSlot(ALL_16, 16, sample, SplitPlanner.Reason.LOAD)).hasValue(10);
    }

    @Test
    void theWeightedMedianSlotSumsTheKeysOfASlotAndIgnoresKeysOutsideTheShard() {
        // slots {0..3, 8..11}: two keys in slot 2 weigh as much as the one in slot 9; slot 13 is not the shard's
        var slots = new HashSlots(List.of(new SlotRange(0, 4), new SlotRange(8, 12)));
        Key first = keyInSlot(2, 16);
        Key second = k("{" + new String(first.toBytes(), java.nio.charset.StandardCharsets.UTF_8) + "}.more");
        assertThat(KeyHash.slot(second, 16)).isEqualTo(2);
        var sample = List.of(new SampledKey(first, 250, 1), new SampledKey(second, 250, 1), sampled(9, 500),
                sampled(13, 10_000));

        assertThat(SplitPlanner.balancedSlot(slots, 16, sample, SplitPlanner.Reason.SIZE)).hasValue(9);
    }

    @Test
    void noSlotIsChosenWhenTheWeightSitsInOneSlotOrThereIsNone() {
        assertThat(SplitPlanner.balancedSlot(ALL_16, 16, List.of(sampled(7, 100)), SplitPlanner.Reason.SIZE)).isEmpty();
        assertThat(SplitPlanner.balancedSlot(ALL_16, 16, List.of(), SplitPlanner.Reason.SIZE)).isEmpty();
        // weight on one side only: a cut before a slot without weight leaves nothing below it
        assertThat(SplitPlanner.balancedSlot(ALL_16, 16, List.of(sampled(3, 0), sampled(5, 100)),
                SplitPlanner.Reason.SIZE)).isEmpty();
    }

    @Test
    void neighboursMergeOnlyWhenSettledSmallAndColdTogether() {
        ShardMap map = Keys.withKeyspace(USERS);
        map = Keys.applied(map, new ShardChange.Split(ShardId.of(1), map.shard(ShardId.of(1)).orElseThrow().epoch(),
                new SplitPoint.AtKey(k("m"))));
        ShardDescriptor l = map.shard(ShardId.of(1)).orElseThrow();
        ShardDescriptor r = map.shard(ShardId.of(2)).orElseThrow();
        assertThat(PLANNER.shouldMerge(l, settled(l, 200, 10), r, settled(r, 200, 10))).isTrue();
        assertThat(PLANNER.shouldMerge(l, settled(l, 300, 10), r, settled(r, 200, 10))).as("too big together").isFalse();
        assertThat(PLANNER.shouldMerge(l, settled(l, 100, 30), r, settled(r, 100, 30))).as("too hot together").isFalse();
        var young = new ShardStats(l.id(), l.epoch(), 10, 0, 9, List.of(), KeySample.EMPTY);
        assertThat(PLANNER.shouldMerge(l, young, r, settled(r, 10, 0))).as("just split").isFalse();
    }

    @Test
    void theHalvesOfASplitNeverQualifyToMergeBack() {
        // Hysteresis by construction: the merge limits are at most half the split thresholds.
        for (long size = POLICY.splitSizeBytes(); size < 10 * POLICY.splitSizeBytes(); size += 37) {
            long left = size / 2;
            assertThat(left + (size - left)).isGreaterThan(POLICY.mergeSizeBytesMax());
        }
        assertThat(POLICY.mergeSizeBytesMax()).isLessThan(POLICY.splitSizeBytes());
        assertThatThrownBy(() -> new SplitPolicy(1000, 100, 501, 40, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SplitPolicy(1000, 100, 400, 51, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static ShardStats settled(ShardDescriptor s, long bytes, long qps) {
        return new ShardStats(s.id(), s.epoch(), bytes, qps, 1000, List.of(), KeySample.EMPTY);
    }
}
