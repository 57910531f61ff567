package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Any interleaving of writes, deletes, stale-routed writes, splits and merges, over shard groups
 * each with a replica that applies its log at once and one that lags and applies it (splits
 * included) much later: the union of the shards always equals one reference map, every key is in
 * exactly one shard, and each lagging replica ends equal to its group's prompt one.
 */
class ShardReplicaPropertyTest {
    private static final int SLOT_COUNT = 16;
    private static final List<Key> KEYS = new ArrayList<>();

    static {
        byte[] alphabet = {0, 'a', 'm', (byte) 0xFF};
        for (byte a : alphabet) {
            KEYS.add(Key.of(new byte[]{a}));
            for (byte b : alphabet) {
                KEYS.add(Key.of(new byte[]{a, b}));
            }
        }
    }

    record Step(int kind, int a, int b) {
    }

    /** One shard group: its log (entry bytes), a prompt replica and a lagging one. */
    private static final class Group {
        final List<byte[]> log = new ArrayList<>();
        final ShardSnapshot initial;
        final Replica prompt;
        Replica lagging;

        Group(ShardSnapshot initial) {
            this.initial = initial;
            prompt = new Replica(initial);
            lagging = new Replica(initial);
        }
    }

    private static final class Replica {
        final MemoryShardStore store = new MemoryShardStore();
        final ShardReplica state;
        int applied;

        Replica(ShardSnapshot s) {
            state = ShardReplica.restore(s, store, Set.of());
        }

        ShardResult applyNext(List<byte[]> log) {
            return state.apply(ShardReplica.INITIAL_INDEX + 1 + applied, log.get(applied++));
        }
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        return Arbitraries.integers().between(0, 9).flatMap(kind -> Arbitraries.integers().between(0, 10_000)
                        .flatMap(a -> Arbitraries.integers().between(0, 10_000).map(b -> new Step(kind, a, b))))
                .list().ofMaxSize(80);
    }

    @Property(tries = 300)
    void rangeShardsHoldExactlyTheReferenceMap(@ForAll("steps") List<Step> steps) {
        run(steps, new ShardBounds(ShardId.of(1), KeyRange.ALL, ShardEpoch.INITIAL, 0));
    }

    @Property(tries = 300)
    void hashShardsHoldExactlyTheReferenceMap(@ForAll("steps") List<Step> steps) {
        run(steps, new ShardBounds(ShardId.of(1), HashSlots.of(new SlotRange(0, SLOT_COUNT)), ShardEpoch.INITIAL,
                SLOT_COUNT));
    }

    private static void run(List<Step> steps, ShardBounds first) {
        var groups = new TreeMap<ShardId, Group>();
        groups.put(first.shard(), new Group(ShardReplica.initial(first)));
        var reference = new TreeMap<Key, byte[]>();
        long nextId = 2;
        int written = 0;
        for (Step s : steps) {
            switch (s.kind()) {
                case 0, 1, 2, 3 -> { // put or delete through the owner
                    Key key = KEYS.get(s.a() % KEYS.size());
                    Group g = owner(groups, key);
                    ShardBounds b = g.prompt.state.bounds();
                    byte[] value = {(byte) written++};
                    ShardCommand c = s.kind() == 3 ? new ShardCommand.Delete(b.shard(), b.epoch(), key)
                            : new ShardCommand.Put(b.shard(), b.epoch(), key, value);
                    assertThat(append(g, c)).isInstanceOf(ShardResult.Written.class);
                    if (s.kind() == 3) {
                        reference.remove(key);
                    } else {
                        reference.put(key, value);
                    }
                }
                case 4 -> { // a write routed by an outdated map: to a shard that no longer holds the key, or an old epoch
                    Key key = KEYS.get(s.a() % KEYS.size());
                    Group g = pick(groups, s.b());
                    ShardBounds b = g.prompt.state.bounds();
                    boolean holds = b.contains(key);
                    ShardEpoch epoch = holds ? new ShardEpoch(b.epoch().rangeVersion() + 1, 1) : b.epoch();
                    ShardResult r = append(g, new ShardCommand.Put(b.shard(), epoch, key, new byte[]{-1}));
                    assertThat(r).isInstanceOfAny(ShardResult.ShardMoved.class, ShardResult.StaleEpoch.class);
                }
                case 5, 6 -> { // split
                    Group g = pick(groups, s.a());
                    ShardBounds b = g.prompt.state.bounds();
                    SplitPoint at = b.isHash() ? new SplitPoint.AtSlot(s.b() % SLOT_COUNT)
                            : new SplitPoint.AtKey(KEYS.get(s.b() % KEYS.size()));
                    ShardId child = ShardId.of(nextId);
                    ShardResult r = append(g, new ShardCommand.Split(b.shard(), b.epoch(), at, child));
                    if (r instanceof ShardResult.Split split) {
                        nextId++;
                        groups.put(child, new Group(split.child()));
                    } else {
                        assertThat(r).isInstanceOf(ShardResult.Rejected.class);
                        assertThat(g.prompt.state.bounds()).isEqualTo(b);
                    }
                }
                case 7, 8 -> merge(groups, s);
                default -> { // lagging replicas catch up a little
                    for (Group g : new ArrayList<>(groups.values())) {
                        int n = Math.min(g.log.size() - g.lagging.applied, 1 + s.b() % 3);
                        for (int i = 0; i < n; i++) {
                            catchUpOne(groups, g);
                        }
                    }
                }
            }
            checkUnion(groups, reference);
        }
        for (Group g : new ArrayList<>(groups.values())) {
            while (g.lagging.applied < g.log.size()) {
                catchUpOne(groups, g);
            }
        }
        for (Group g : groups.values()) {
            assertThat(g.lagging.state.snapshot()).usingRecursiveComparison().isEqualTo(g.prompt.state.snapshot());
        }
        checkUnion(groups, reference);
    }

    /** Merges a shard into a neighbour (range) or any other shard (hash), with a write to the frozen source between. */
    private static void merge(TreeMap<ShardId, Group> groups, Step s) {
        if (groups.size() < 2) {
            return;
        }
        Group target = pick(groups, s.a());
        ShardBounds tb = target.prompt.state.bounds();
        Group source = null;
        for (Group g : groups.values()) {
            ShardBounds b = g.prompt.state.bounds();
            boolean joins = b.span() instanceof KeyRange r ? r.start().equals(((KeyRange) tb.span()).end())
                    : !b.shard().equals(tb.shard()) && s.b() % 2 == 0;
            if (joins && g.prompt.state.pendingMerge().isEmpty()) {
                source = g;
                break;
            }
        }
        if (source == null) {
            return;
        }
        ShardBounds sb = source.prompt.state.bounds();
        assertThat(append(source, new ShardCommand.PrepareMerge(sb.shard(), sb.epoch(), tb.shard(), tb.epoch())))
                .isInstanceOf(ShardResult.MergePrepared.class);
        Key inSource = KEYS.stream().filter(sb::contains).findFirst().orElse(null);
        if (inSource != null) {
            assertThat(append(source, new ShardCommand.Put(sb.shard(), sb.epoch(), inSource, new byte[]{-2})))
                    .isInstanceOf(ShardResult.ShardMoved.class);
        }
        ShardResult r = append(target, new ShardCommand.CommitMerge(tb.shard(), tb.epoch(), sb.epoch(),
                source.prompt.state.snapshot()));
        assertThat(r).isInstanceOf(ShardResult.Merged.class);
        // the source group is destroyed once the target applied the commit; its lagging replica never catches up
        groups.remove(sb.shard());
    }

    private static ShardResult append(Group g, ShardCommand c) {
        g.log.add(ShardCodec.encode(c));
        return g.prompt.applyNext(g.log);
    }

    /** The lagging replica applies one more entry; a split it applies creates (or not) the child's lagging replica. */
    private static void catchUpOne(TreeMap<ShardId, Group> groups, Group g) {
        ShardResult r = g.lagging.applyNext(g.log);
        if (r instanceof ShardResult.Split split) {
            Group child = groups.get(split.child().bounds().shard());
            if (child != null && child.lagging.applied == 0) {
                // applied late, the split hands over exactly the rows the prompt replica's split did
                assertThat(split.child()).usingRecursiveComparison().isEqualTo(child.initial);
                child.lagging = new Replica(split.child());
            }
        }
    }

    private static Group owner(TreeMap<ShardId, Group> groups, Key key) {
        Group found = null;
        for (Group g : groups.values()) {
            if (g.prompt.state.bounds().contains(key)) {
                assertThat(found).as("%s in one shard only", key).isNull();
                found = g;
            }
        }
        assertThat(found).as("some shard holds %s", key).isNotNull();
        return found;
    }

    private static Group pick(TreeMap<ShardId, Group> groups, int n) {
        return new ArrayList<>(groups.values()).get(n % groups.size());
    }

    private static void checkUnion(TreeMap<ShardId, Group> groups, Map<Key, byte[]> reference) {
        var union = new TreeMap<Key, byte[]>();
        for (Group g : groups.values()) {
            ShardBounds b = g.prompt.state.bounds();
            for (var row : g.prompt.store.rows().entrySet()) {
                assertThat(b.contains(row.getKey())).as("%s holds only its own keys, not %s", b, row.getKey()).isTrue();
                assertThat(union.put(row.getKey(), row.getValue())).as("%s in one shard only", row.getKey()).isNull();
            }
        }
        assertThat(union.keySet()).isEqualTo(reference.keySet());
        union.forEach((k, v) -> assertThat(Arrays.equals(v, reference.get(k))).as("value of %s", k).isTrue());
        for (Key k : KEYS) {
            owner(groups, k);
        }
    }
}
