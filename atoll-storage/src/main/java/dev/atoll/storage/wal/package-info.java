/**
 * The node's write-ahead log: one segmented, checksummed log shared by every replica group on
 * the node, so that one fdatasync makes every group's ready writes durable (group commit, as in
 * etcd's per-node WAL and TiKV's raft-engine). {@link dev.atoll.storage.wal.Wal} writes and
 * recovers it; {@link dev.atoll.storage.wal.WalCodec} holds the on-disk format.
 */
package dev.atoll.storage.wal;
