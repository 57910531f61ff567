package dev.atoll.shard;

/**
 * What part of its keyspace a shard holds: a contiguous {@link KeyRange} (range and geo
 * keyspaces), a set of {@link HashSlots} (hash keyspaces), or {@link Directed} (directory
 * keyspaces, where the directory table says which keys are the shard's).
 */
public sealed interface ShardSpan permits KeyRange, HashSlots, ShardSpan.Directed {
    /** The shard holds the keys the keyspace's directory routes to it. */
    record Directed() implements ShardSpan {
        @Override
        public String toString() {
            return "directed";
        }
    }
}
