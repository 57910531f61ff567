package dev.atoll.shard;

import dev.atoll.core.NodeId;

import java.util.List;

/** Short names for tests. */
final class Keys {
    private Keys() {
    }

    static Key k(String s) {
        return Key.utf8(s);
    }

    static NodeId n(String s) {
        return NodeId.of(s);
    }

    static List<NodeId> nodes(String... names) {
        return java.util.Arrays.stream(names).map(NodeId::of).toList();
    }

    static ShardMap applied(ShardMap map, ShardChange change) {
        ChangeResult r = map.apply(change);
        if (!(r instanceof ChangeResult.Applied a)) {
            throw new AssertionError(change + " was not applied: " + r);
        }
        return a.map();
    }

    static ChangeResult.Applied appliedResult(ShardMap map, ShardChange change) {
        ChangeResult r = map.apply(change);
        if (!(r instanceof ChangeResult.Applied a)) {
            throw new AssertionError(change + " was not applied: " + r);
        }
        return a;
    }

    /** A map with one keyspace, each initial shard on voters n1..n3. */
    static ShardMap withKeyspace(KeyspaceSpec spec) {
        int shards = ShardMap.initialSpans(spec).size();
        var voters = java.util.Collections.nCopies(shards, nodes("n1", "n2", "n3").subList(0, Math.min(3, spec.replicationFactor())));
        return applied(ShardMap.empty(), new ShardChange.CreateKeyspace(spec, voters));
    }
}
