package dev.atoll.storage.wal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The log on disk is damaged in a way a crash cannot explain (a bad record that later data
 * proves was durable, a bad record in a sealed segment, a missing segment, a checkpoint that
 * disagrees with the records before it). The node must not start on it: an operator restores the
 * replica from its peers. Carries a stable {@link #code()}, the file and the byte offset.
 */
public final class WalCorruptedException extends IOException {
    /** The stable code of a damaged log. */
    public static final String CODE_CORRUPT = "WAL_CORRUPT";
    /** The stable code of a segment written in a format version this build does not read. */
    public static final String CODE_UNSUPPORTED_FORMAT = "WAL_UNSUPPORTED_FORMAT";

    private final String code;
    private final Path file;
    private final long offset;

    public WalCorruptedException(String code, Path file, long offset, String reason) {
        super(code + ": " + reason + " (" + file + " at offset " + offset + ")");
        this.code = code;
        this.file = file;
        this.offset = offset;
    }

    public String code() {
        return code;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
