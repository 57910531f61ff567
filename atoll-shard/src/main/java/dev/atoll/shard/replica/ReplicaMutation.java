package dev.atoll.shard.replica;

/**
 * Deliberate bugs in the pure shard code (the replica, and the scan stitch of
 * {@link dev.atoll.shard.ScanStitch}) that the simulator switches on to prove it catches them;
 * never set in production. A campaign with one of them on must report a violation.
 */
public enum ReplicaMutation {
    /**
     * Data commands skip the route check: a replica writes and reads keys outside its span and
     * with a stale epoch, as a client's outdated map sends them after a split or merge.
     */
    IGNORE_EPOCH,
    /** PrepareMerge does not freeze the source: writes it takes afterwards miss the merge. */
    MERGE_WITHOUT_FREEZE,
    /**
     * A scan in key order starts each next part just after the previous part's end: the first
     * key a shard could hold (often its split key) is never read.
     */
    SCAN_SKIPS_BOUNDARY_KEY,
    /** A scan of every shard at once leaves the last shard's answer out of the merge. */
    SCAN_DROPS_A_SHARD
}
