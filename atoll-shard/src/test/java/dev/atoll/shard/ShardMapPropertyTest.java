package dev.atoll.shard;

import dev.atoll.shard.ChangeResult.Applied;
import dev.atoll.shard.ChangeResult.Rejected;
import dev.atoll.shard.ChangeResult.StaleEpoch;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After any sequence of splits, merges and slot moves the shard map still tiles each keyspace:
 * every key (and every slot) is in exactly one shard, lookup finds that shard, epochs never go
 * back, and a change planned against a replaced epoch is refused.
 */
class ShardMapPropertyTest {
    /** Keys over a few awkward bytes (0x00, 0xFF) up to three long: every edge of the ordering. */
    private static final List<Key> KEYS = new ArrayList<>();

    static {
        byte[] alphabet = {0, 'a', 'm', (byte) 0xFF};
        KEYS.add(Key.MIN);
        for (byte a : alphabet) {
            KEYS.add(Key.of(new byte[]{a}));
            for (byte b : alphabet) {
                KEYS.add(Key.of(new byte[]{a, b}));
                for (byte c : alphabet) {
                    KEYS.add(Key.of(new byte[]{a, b, c}));
                }
            }
        }
    }

    record Op(int kind, int a, int b) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        return Arbitraries.integers().between(0, 2).flatMap(kind -> Arbitraries.integers().between(0, 1000)
                        .flatMap(a -> Arbitraries.integers().between(0, 1000).map(b -> new Op(kind, a, b))))
                .list().ofMaxSize(60);
    }

    @Property(tries = 200)
    void rangeShardsTileTheKeySpaceAfterAnySplitsAndMerges(@ForAll("ops") List<Op> ops) {
        ShardMap map = Keys.withKeyspace(KeyspaceSpec.range("t", 3));
        var staleChanges = new ArrayList<ShardChange>();
        var epochs = new HashMap<ShardId, ShardEpoch>();
        for (Op op : ops) {
            List<ShardDescriptor> inOrder = ((RangePartitioner) map.partitioner("t").orElseThrow()).inKeyOrder();
            ShardDescriptor s = inOrder.get(op.a() % inOrder.size());
            ShardChange change = switch (op.kind()) {
                case 0 -> new ShardChange.Split(s.id(), s.epoch(), new SplitPoint.AtKey(KEYS.get(op.b() % KEYS.size())));
                case 1 -> {
                    int i = op.a() % inOrder.size();
                    if (i + 1 == inOrder.size()) {
                        yield null;
                    }
                    ShardDescriptor right = inOrder.get(i + 1);
                    yield new ShardChange.Merge(s.id(), s.epoch(), right.id(), right.epoch());
                }
                default -> staleChanges.isEmpty() ? null : staleChanges.get(op.b() % staleChanges.size());
            };
            if (change == null) {
                continue;
            }
            ChangeResult r = map.apply(change);
            if (op.kind() == 2) {
                assertThat(r).as("a change from a replaced epoch").isInstanceOfAny(StaleEpoch.class, ChangeResult.UnknownShard.class);
                continue;
            }
            if (r instanceof Rejected) {
                assertThat(op.kind()).as("only a split at a key not strictly inside is refused").isZero();
                KeyRange range = s.keyRange();
                Key at = ((SplitPoint.AtKey) ((ShardChange.Split) change).at()).key();
                assertThat(range.contains(at) && !at.equals(range.start())).isFalse();
                continue;
            }
            assertThat(r).isInstanceOf(Applied.class);
            staleChanges.add(change);
            ShardMap next = ((Applied) r).map();
            assertThat(next.version()).isEqualTo(map.version() + 1);
            map = next;
            everyKeyIsInExactlyOneShard(map);
            for (ShardDescriptor d : map.shards("t")) {
                ShardEpoch before = epochs.put(d.id(), d.epoch());
                assertThat(before == null || d.epoch().notOlderThan(before)).as("epochs never go back").isTrue();
            }
        }
    }

    private static void everyKeyIsInExactlyOneShard(ShardMap map) {
        for (Key key : KEYS) {
            List<ShardDescriptor> holders = map.shards("t").stream().filter(s -> s.keyRange().contains(key)).toList();
            assertThat(holders).as("shards holding %s", key).hasSize(1);
            assertThat(map.lookup("t", key).orElseThrow()).isEqualTo(holders.getFirst());
        }
    }

    @Property(tries = 200)
    void hashShardsOwnEverySlotOnceAfterAnySplitsMergesAndMoves(@ForAll("ops") List<Op> ops) {
        int slotCount = 64;
        var spec = new KeyspaceSpec("h", new Sharding.Hash(slotCount), 3, 3, Placement.ANYWHERE);
        ShardMap map = Keys.withKeyspace(spec);
        for (Op op : ops) {
            List<ShardDescriptor> shards = map.shards("h");
            ShardDescriptor a = shards.get(op.a() % shards.size());
            ShardDescriptor b = shards.get(op.b() % shards.size());
            ShardChange change = switch (op.kind()) {
                case 0 -> new ShardChange.Split(a.id(), a.epoch(), new SplitPoint.AtSlot(op.b() % slotCount));
                case 1 -> a.id().equals(b.id()) ? null : new ShardChange.Merge(a.id(), a.epoch(), b.id(), b.epoch());
                default -> a.id().equals(b.id()) || a.hashSlots().isEmpty() ? null
                        : new ShardChange.MoveSlots(a.id(), a.epoch(), b.id(), b.epoch(),
                        a.hashSlots().below(a.hashSlots().ranges().getFirst().start() + 1 + op.b() % 4));
            };
            if (change == null) {
                continue;
            }
            ChangeResult r = map.apply(change);
            if (r instanceof Rejected) {
                assertThat(change).as("only a split leaving a side empty is refused").isInstanceOf(ShardChange.Split.class);
                continue;
            }
            map = ((Applied) r).map();
            var owners = new HashMap<Integer, ShardId>();
            for (ShardDescriptor s : map.shards("h")) {
                for (int slot = 0; slot < slotCount; slot++) {
                    if (s.hashSlots().contains(slot)) {
                        assertThat(owners.put(slot, s.id())).as("slot %d has one owner", slot).isNull();
                    }
                }
            }
            assertThat(owners).hasSize(slotCount);
            for (Key key : KEYS) {
                assertThat(map.lookup("h", key).orElseThrow().id()).isEqualTo(owners.get(KeyHash.slot(key, slotCount)));
            }
        }
    }

    @Provide
    Arbitrary<List<Op>> edits() {
        return Arbitraries.integers().between(0, 3).flatMap(kind -> Arbitraries.integers().between(0, KEYS.size() - 1)
                        .flatMap(a -> Arbitraries.integers().between(1, 4).map(b -> new Op(kind, a, b))))
                .list().ofMaxSize(40);
    }

    /**
     * A directory edit's moves are exactly right: a key's route changed if and only if some move
     * covers it from its old shard to its new one, and no move covers a key that a more specific
     * entry than the edited one claims (whose route the edit cannot change).
     */
    @Property(tries = 300)
    void directoryMovesCoverExactlyTheKeysWhoseRouteChanged(@ForAll("edits") List<Op> edits) {
        Directory d = Directory.withDefault(List.of(ShardId.of(1), ShardId.of(2)));
        for (Op e : edits) {
            Key key = KEYS.get(e.a());
            Directory.Match match = e.kind() % 2 == 0 || key.lengthBytes() == 0
                    ? new Directory.Exact(key) : new Directory.Prefix(key);
            Directory.Edit edit = e.kind() < 2 ? d.put(match, ShardId.of(e.b())) : d.remove(match);
            Map<Key, ShardId> before = routes(d);
            Map<Key, ShardId> after = routes(edit.directory());
            for (Key k : KEYS) {
                boolean changed = !before.get(k).equals(after.get(k));
                boolean covered = edit.moves().stream().anyMatch(m -> ((KeyRange) m.span()).contains(k)
                        && m.source().equals(before.get(k)) && m.target().equals(after.get(k)));
                assertThat(covered).as("%s moved %s -> %s after %s", k, before.get(k), after.get(k), match).isEqualTo(changed);
                boolean inAMove = edit.moves().stream().anyMatch(m -> ((KeyRange) m.span()).contains(k));
                if (inAMove) {
                    assertThat(claimedByMoreSpecific(d, match, k) || claimedByMoreSpecific(edit.directory(), match, k))
                            .as("%s is in a move of %s but a more specific entry routes it", k, match).isFalse();
                }
            }
            d = edit.directory();
        }
    }

    private static boolean claimedByMoreSpecific(Directory d, Directory.Match match, Key k) {
        if (!(match instanceof Directory.Prefix(Key p))) {
            return false;
        }
        if (d.exactEntries().containsKey(k) && k.startsWith(p)) {
            return true;
        }
        return d.prefixEntries().keySet().stream().anyMatch(q -> !q.equals(p) && q.startsWith(p) && k.startsWith(q));
    }

    private static Map<Key, ShardId> routes(Directory d) {
        var routes = new HashMap<Key, ShardId>();
        for (Key k : KEYS) {
            routes.put(k, d.shardFor(k));
        }
        return routes;
    }
}
