package dev.atoll.storage.wal;

/**
 * A write would produce a record bigger than {@link WalOptions#recordBytesMax()}. The whole
 * {@link Wal#append} call is refused and nothing of it is written; the caller splits the batch
 * (or, for {@link #GROUP_CHECKPOINT}, hosts fewer groups on this node).
 */
public final class WalRecordTooLargeException extends IllegalArgumentException {
    public static final String CODE = "WAL_RECORD_TOO_LARGE";
    /** The {@link #groupId()} reported when the record that grew too large is the checkpoint of all groups. */
    public static final long GROUP_CHECKPOINT = Long.MIN_VALUE;

    private final long groupId;
    private final long recordBytes;
    private final int recordBytesMax;

    public WalRecordTooLargeException(long groupId, String recordKind, long recordBytes, int recordBytesMax) {
        super(CODE + ": " + recordKind + " record of "
                + (groupId == GROUP_CHECKPOINT ? "all groups" : "group " + groupId)
                + " would be " + recordBytes + " bytes, recordBytesMax is " + recordBytesMax);
        this.groupId = groupId;
        this.recordBytes = recordBytes;
        this.recordBytesMax = recordBytesMax;
    }

    public String code() {
        return CODE;
    }

    public long groupId() {
        return groupId;
    }

    public long recordBytes() {
        return recordBytes;
    }

    public int recordBytesMax() {
        return recordBytesMax;
    }
}
