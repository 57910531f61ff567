/** Durable storage for a node: write-ahead log, MVCC state machine on RocksDB, snapshots. */
package dev.atoll.storage;
