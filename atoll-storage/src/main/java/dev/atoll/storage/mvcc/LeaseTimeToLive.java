package dev.atoll.storage.mvcc;

import java.util.List;

/** What the store knows for etcd's LeaseTimeToLive: the lease and the keys attached to it (in key order). */
public record LeaseTimeToLive(Lease lease, List<byte[]> keys) {
}
