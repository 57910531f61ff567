package dev.atoll.sim.sharded;

import dev.atoll.core.NodeId;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.sim.check.Op;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static dev.atoll.sim.sharded.ShardedSimulation.check;

/**
 * What must hold once a sharded run has converged: the meta replicas agree on the map; each
 * keyspace's spans tile it (a directory keyspace's table routes only to its shards); every
 * replica of a shard holds the map's span and range version, no merge or data move in flight and
 * exactly the same rows, none outside its span; every key lives only in the shard the map names.
 * Finally each key's value is read from its owner and recorded as a last read in the history, so
 * the linearizability check proves that no acknowledged write was lost and none applied twice.
 */
final class ClusterCheck {
    private static final int FINAL_READER = 1_000_000;

    private final ShardedSimulation sim;

    ClusterCheck(ShardedSimulation sim) {
        this.sim = sim;
    }

    void run() {
        ShardMap map = sim.leaderOf(GroupReplica.META).meta.map();
        for (NodeId id : sim.metaVoters()) {
            ShardMap other = sim.hosts.get(id).group(GroupReplica.META).meta.map();
            check(other.version() == map.version(), "meta replicas agree: %s at map v%d, leader at v%d", id,
                    other.version(), map.version());
        }
        for (KeyspaceSpec spec : map.keyspaces().values()) {
            checkTiling(map, spec);
        }
        for (ShardDescriptor s : map.shards()) {
            checkReplicas(map, s);
        }
        for (Map.Entry<String, List<Key>> e : sim.keys.entrySet()) {
            for (Key k : e.getValue()) {
                checkKey(map, e.getKey(), k);
            }
        }
    }

    private void checkTiling(ShardMap map, KeyspaceSpec spec) {
        List<ShardDescriptor> shards = map.shards(spec.name());
        if (spec.sharding() instanceof Sharding.Directory) {
            var ids = new java.util.TreeSet<ShardId>();
            shards.forEach(s -> ids.add(s.id()));
            Directory directory = map.directory(spec.name()).orElseThrow();
            check(ids.containsAll(directory.referencedShards()), "%s's directory routes to its shards %s only: %s",
                    spec.name(), ids, directory);
            return;
        }
        if (spec.sharding() instanceof Sharding.Hash h) {
            var owned = new BitSet();
            for (ShardDescriptor s : shards) {
                BitSet bits = ((HashSlots) s.span()).toBitSet();
                check(!bits.intersects(owned), "%s's slots have one owner each: %s overlaps", spec.name(), s);
                owned.or(bits);
            }
            check(owned.cardinality() == h.slotCount() && owned.length() == h.slotCount(),
                    "%s's shards own all %d slots: %d", spec.name(), h.slotCount(), owned.cardinality());
            return;
        }
        var ranges = new ArrayList<KeyRange>();
        shards.forEach(s -> ranges.add(s.keyRange()));
        ranges.sort(Comparator.comparing(KeyRange::start));
        Key expected = Key.MIN;
        for (KeyRange r : ranges) {
            check(r.start().equals(expected), "%s's ranges tile it: %s starts where %s was expected", spec.name(), r,
                    expected);
            expected = r.end();
        }
        check(expected.isEnd(), "%s's last range ends at END, not %s", spec.name(), expected);
    }

    private void checkReplicas(ShardMap map, ShardDescriptor s) {
        ShardBounds expected = ShardedSimulation.boundsOf(s, map.keyspace(s.keyspace()).orElseThrow().sharding());
        GroupReplica first = null;
        for (NodeId x : s.nodes()) {
            GroupReplica g = sim.hosts.get(x).group(s.id().value());
            check(g != null && g.initialised(), "%s has its replica of %s", x, s);
            var b = g.replica.bounds();
            check(b.span().equals(expected.span()) && b.epoch().rangeVersion() == s.epoch().rangeVersion(),
                    "%s's replica of %s holds the map's span and range version: %s", x, s.id(), g.replica);
            check(g.replica.pendingMerge().isEmpty(), "%s's replica of %s is not frozen", x, s.id());
            check(g.replica.handoffs().isEmpty() && g.replica.intakes().isEmpty(),
                    "%s's replica of %s has no data move in flight: %s %s", x, s.id(), g.replica.handoffs(),
                    g.replica.intakes());
            for (Key k : g.store.rows().keySet()) {
                check(b.contains(k), "%s's replica of %s holds %s (%s) outside its span %s", x, s.id(),
                        sim.keyNames.get(k), k, b.span());
                check(sim.keyNames.containsKey(k), "%s's replica of %s holds %s, a key no client wrote", x, s.id(), k);
            }
            if (first == null) {
                first = g;
            } else {
                String difference = difference(first, g);
                check(difference == null, "the replicas of %s on %s and %s hold the same rows: %s", s.id(),
                        first.host.id, x, difference);
            }
        }
    }

    /** The first key two replicas disagree on, with both values; null if they hold the same rows. */
    private String difference(GroupReplica a, GroupReplica b) {
        var keys = new java.util.TreeSet<>(a.store.rows().keySet());
        keys.addAll(b.store.rows().keySet());
        for (Key k : keys) {
            byte[] va = a.store.get(k);
            byte[] vb = b.store.get(k);
            if (!Arrays.equals(va, vb)) {
                return sim.keyNames.get(k) + " is " + text(va) + " on " + a.host.id + ", " + text(vb) + " on "
                        + b.host.id + " (" + a.raft.status() + " / " + b.raft.status() + ")";
            }
        }
        return null;
    }

    private static String text(byte[] value) {
        return value == null ? "absent" : new String(value, StandardCharsets.UTF_8);
    }

    private void checkKey(ShardMap map, String keyspace, Key k) {
        ShardDescriptor owner = map.lookup(keyspace, k).orElseThrow();
        for (Host h : sim.hosts.values()) {
            for (GroupReplica g : h.groups.values()) {
                if (!g.isMeta() && g.group != owner.id().value()) {
                    check(g.store.get(k) == null, "%s is in one shard only: %s holds it in s%d, the map says %s",
                            sim.keyNames.get(k), h.id, g.group, owner.id());
                }
            }
        }
        byte[] value = sim.hosts.get(owner.nodes().getFirst()).group(owner.id().value()).store.get(k);
        String name = sim.keyNames.get(k);
        int opId = sim.history.invoke(FINAL_READER, sim.now, new Op.Get(name));
        sim.history.ok(opId, sim.now, value == null ? null : new String(value, StandardCharsets.UTF_8));
    }
}
