package dev.atoll.client;

/** What a read asks of the shard's replicas (etcd's words). */
public enum ReadConsistency {
    /** From the shard's leader after a ReadIndex round: sees every write acknowledged before it. */
    LINEARIZABLE,
    /** From one replica's state as it is: may miss recent writes, needs no quorum. */
    SERIALIZABLE
}
