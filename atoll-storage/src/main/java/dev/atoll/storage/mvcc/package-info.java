/**
 * The MVCC key-value state machine of a Raft group, with etcd v3's data model, on RocksDB.
 * {@link dev.atoll.storage.mvcc.MvccStore} is the entry point.
 *
 * <h2>Model</h2>
 * A global store revision (1 when empty) moves by one per write transaction that changes
 * something: a put, a delete that deletes something, a txn whose branch writes, a lease
 * revoke with attached keys. Changes within one txn share the revision and are ordered by
 * sub-revision. Each key has create_revision, mod_revision, version (1 on creation, +1 per
 * put, reset by delete and re-create), value and lease.
 *
 * <h2>RocksDB layout</h2>
 * <ul>
 * <li>{@code kv}: {@code escape(key) 00 01 be64(MAX - revision)} → {@code 01 create version
 *     lease value} or the tombstone {@code 02}. 0x00 inside a key is escaped as 00 FF, so the
 *     byte order of encoded keys is the order of user keys, then revision newest first; a
 *     range at revision R seeks each key's newest version <= R, no in-memory index.</li>
 * <li>{@code history}: {@code be64(revision) be64(subRevision)} → {@code type key}, for watch
 *     replay in revision order; the version itself is read from {@code kv}.</li>
 * <li>{@code meta}: format version, applied Raft index and term, current revision,
 *     compacted revision, finished compaction revision, last lease id.</li>
 * <li>{@code lease}: {@code be64(id)} → granted TTL, checkpointed remaining TTL;
 *     {@code lease_key}: {@code be64(id) key} → empty, the keys attached to each lease.</li>
 * </ul>
 *
 * <h2>In memory</h2>
 * Writes need each key's newest version (create revision, version, lease): the store keeps it
 * for every live key in a {@code KeyIndex} (etcd's treeIndex, without history), rebuilt from
 * {@code kv} on open and on a checkpoint install, so a put reads nothing from RocksDB unless it
 * asks for the previous value. Reads at any revision still go to RocksDB.
 *
 * <h2>Durability</h2>
 * Every mutating call carries the Raft position of its log entry, written in the same
 * RocksDB write batch as its data: the store is always a consistent prefix of the log and
 * knows exactly which one. {@code applyAll} puts a whole Raft round (bounded by
 * {@code applyBatchEntriesMax} and {@code applyBatchBytesMax}) in one write batch, with the
 * position of its last entry; a refused entry inside it is rolled back to a save point. Batches go through RocksDB's WAL without fsync, because the Raft
 * log is the durable record: after a crash the store may have lost its latest batches, and
 * the runtime replays the log from {@code appliedIndex() + 1}; an entry at or below the
 * applied index is answered {@code AlreadyApplied} and changes nothing. A refused entry
 * changes no data but still moves the applied index. A compaction records its revision with
 * its log position, then deletes old versions in bounded batches; a restart finishes an
 * interrupted one (reads never go below the compacted revision, so they are right meanwhile).
 * Snapshots are RocksDB checkpoints; installing one renames it into place atomically.
 */
package dev.atoll.storage.mvcc;
