package dev.atoll.storage.wal;

import static dev.atoll.core.Check.checkArgument;

/**
 * Limits of a {@link Wal}. Every bound is named, checked here and again on input.
 *
 * @param segmentBytesMax  size a segment file is preallocated to; the log rotates to a new
 *                         segment when the next record does not fit. A fresh segment exceeds it
 *                         only to hold one record bigger than its free room (etcd does the same).
 * @param recordBytesMax   largest framed record (header + payload) the log accepts; a bigger
 *                         write is refused with {@link WalRecordTooLargeException} and nothing is
 *                         written. Also bounds the checkpoint, hence the number of groups.
 * @param writeBufferBytes user-space buffer that {@link Wal#append} fills before handing bytes
 *                         to the kernel; bigger records bypass it.
 */
public record WalOptions(long segmentBytesMax, int recordBytesMax, int writeBufferBytes) {
    public static final long SEGMENT_BYTES_MAX_DEFAULT = 64L << 20;
    public static final int RECORD_BYTES_MAX_DEFAULT = 64 << 20;
    public static final int WRITE_BUFFER_BYTES_DEFAULT = 1 << 20;

    /** Recovery reads a segment into one array, so a segment must stay well below 2 GiB. */
    static final long SEGMENT_BYTES_LIMIT = 1L << 30;
    /** Format limit of one record; two of them plus a header still fit a recovery array. */
    static final int RECORD_BYTES_LIMIT = 256 << 20;
    /** Room for a segment header, an empty checkpoint and at least one small record. */
    static final long SEGMENT_BYTES_MIN = 256;
    static final int RECORD_BYTES_MIN = 64;

    public WalOptions {
        checkArgument(segmentBytesMax >= SEGMENT_BYTES_MIN && segmentBytesMax <= SEGMENT_BYTES_LIMIT,
                "segmentBytesMax must be in [%d, %d]: %d", SEGMENT_BYTES_MIN, SEGMENT_BYTES_LIMIT, segmentBytesMax);
        checkArgument(recordBytesMax >= RECORD_BYTES_MIN && recordBytesMax <= RECORD_BYTES_LIMIT,
                "recordBytesMax must be in [%d, %d]: %d", RECORD_BYTES_MIN, RECORD_BYTES_LIMIT, recordBytesMax);
        checkArgument(writeBufferBytes >= 512 && writeBufferBytes <= (64 << 20),
                "writeBufferBytes must be in [512, 64 MiB]: %d", writeBufferBytes);
    }

    public static WalOptions defaults() {
        return new WalOptions(SEGMENT_BYTES_MAX_DEFAULT, RECORD_BYTES_MAX_DEFAULT, WRITE_BUFFER_BYTES_DEFAULT);
    }

    public WalOptions withSegmentBytesMax(long value) {
        return new WalOptions(value, recordBytesMax, writeBufferBytes);
    }

    public WalOptions withRecordBytesMax(int value) {
        return new WalOptions(segmentBytesMax, value, writeBufferBytes);
    }

    public WalOptions withWriteBufferBytes(int value) {
        return new WalOptions(segmentBytesMax, recordBytesMax, value);
    }
}
