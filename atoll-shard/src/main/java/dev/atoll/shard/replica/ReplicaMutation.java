package dev.atoll.shard.replica;

/**
 * Deliberate bugs the simulator switches on to prove it catches them; never set in production.
 * A campaign with one of them on must report a violation.
 */
public enum ReplicaMutation {
    /**
     * Data commands skip the route check: a replica writes and reads keys outside its span and
     * with a stale epoch, as a client's outdated map sends them after a split or merge.
     */
    IGNORE_EPOCH,
    /** PrepareMerge does not freeze the source: writes it takes afterwards miss the merge. */
    MERGE_WITHOUT_FREEZE
}
