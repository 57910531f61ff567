package dev.atoll.storage.mvcc;

/**
 * RocksDB failed (I/O error, corruption, closed handle). The store's on-disk state is still a
 * consistent prefix of the log; the runtime must stop applying, reopen, and replay from
 * {@link MvccStore#appliedPosition()} + 1.
 */
public final class MvccStorageException extends RuntimeException {
    public MvccStorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
