package dev.atoll.server.etcd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Packs the files of one directory (an MVCC checkpoint) into a single byte array for a Raft
 * snapshot, and unpacks it. Layout: magic "ATCK", format version (int), file count (int), then
 * per file: name length (int), UTF-8 name, content length (long), content; then the CRC32C of
 * everything before it (int). Unpacking checks the magic, every bound and the CRC before
 * writing a single file, so a damaged archive is refused whole.
 */
public final class CheckpointArchive {
    private static final int MAGIC = 0x4154434B; // "ATCK"
    private static final int FORMAT_VERSION = 1;
    static final int FILE_COUNT_MAX = 100_000;
    static final int NAME_BYTES_MAX = 255;

    /** A damaged or foreign archive. */
    public static final class CorruptArchiveException extends RuntimeException {
        public CorruptArchiveException(String message) {
            super(message);
        }
    }

    private CheckpointArchive() {
    }

    /**
     * The regular files directly in {@code dir}, by name order; the total must fit in one array.
     * Sized from the files first and filled in place: one array of the archive's size is all it
     * allocates (a 30 MB archive grown by doubling and copied out twice made 130 MB of garbage).
     * The files must not change meanwhile (a checkpoint's do not).
     */
    public static byte[] pack(Path dir) {
        try (Stream<Path> listing = Files.list(dir)) {
            List<Path> files = listing.sorted().toList();
            long total = 3 * Integer.BYTES;
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    throw new IllegalArgumentException("a checkpoint holds only files: " + f);
                }
                total += Integer.BYTES + nameBytes(f).length + Long.BYTES + Files.size(f);
            }
            total += Integer.BYTES;
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("checkpoint " + dir + " of " + total + " bytes does not fit in one archive");
            }
            ByteBuffer out = ByteBuffer.allocate((int) total);
            out.putInt(MAGIC).putInt(FORMAT_VERSION).putInt(files.size());
            for (Path f : files) {
                byte[] name = nameBytes(f);
                long size = Files.size(f);
                out.putInt(name.length).put(name).putLong(size);
                int end = out.position() + (int) size;
                try (var channel = java.nio.channels.FileChannel.open(f)) {
                    out.limit(end);
                    while (out.hasRemaining()) {
                        if (channel.read(out) < 0) {
                            throw new IOException(f + " shrank while packed: " + (end - out.position())
                                    + " of " + size + " bytes missing");
                        }
                    }
                    out.limit(out.capacity());
                }
            }
            var crc = new CRC32C();
            crc.update(out.array(), 0, out.position());
            out.putInt((int) crc.getValue());
            if (out.hasRemaining()) {
                throw new IOException("checkpoint " + dir + " changed while packed");
            }
            return out.array();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack checkpoint " + dir, e);
        }
    }

    private static byte[] nameBytes(Path f) {
        return f.getFileName().toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Writes the archive's files into {@code target} (created; must not exist); the caller (the store's install) fsyncs. */
    public static void unpack(byte[] archive, Path target) {
        ByteBuffer in = ByteBuffer.wrap(archive);
        if (archive.length < 16) {
            throw new CorruptArchiveException("archive of " + archive.length + " bytes is too short");
        }
        var crc = new CRC32C();
        crc.update(archive, 0, archive.length - 4);
        int stored = ByteBuffer.wrap(archive, archive.length - 4, 4).getInt();
        if ((int) crc.getValue() != stored) {
            throw new CorruptArchiveException("archive CRC mismatch");
        }
        if (in.getInt() != MAGIC) {
            throw new CorruptArchiveException("not a checkpoint archive");
        }
        int version = in.getInt();
        if (version != FORMAT_VERSION) {
            throw new CorruptArchiveException("unknown archive format " + version);
        }
        int count = in.getInt();
        if (count < 0 || count > FILE_COUNT_MAX) {
            throw new CorruptArchiveException("file count " + count + " out of [0, " + FILE_COUNT_MAX + "]");
        }
        int end = archive.length - 4;
        record Slice(String name, int offset, int length) {
        }
        var slices = new java.util.ArrayList<Slice>(count);
        for (int i = 0; i < count; i++) {
            int nameLength = in.getInt();
            if (nameLength <= 0 || nameLength > NAME_BYTES_MAX || in.position() + nameLength > end) {
                throw new CorruptArchiveException("bad name length " + nameLength);
            }
            byte[] name = new byte[nameLength];
            in.get(name);
            String fileName = new String(name, StandardCharsets.UTF_8);
            if (fileName.contains("/") || fileName.contains("\\") || fileName.equals(".") || fileName.equals("..")) {
                throw new CorruptArchiveException("file name escapes the directory: " + fileName);
            }
            long length = in.getLong();
            if (length < 0 || in.position() + length > end) {
                throw new CorruptArchiveException("bad content length " + length + " of " + fileName);
            }
            slices.add(new Slice(fileName, in.position(), (int) length));
            in.position(in.position() + (int) length);
        }
        if (in.position() != end) {
            throw new CorruptArchiveException("trailing bytes after the last file");
        }
        try {
            Files.createDirectories(target.getParent());
            Files.createDirectory(target);
            for (Slice s : slices) {
                try (var channel = java.nio.channels.FileChannel.open(target.resolve(s.name()),
                        java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                    ByteBuffer content = ByteBuffer.wrap(archive, s.offset(), s.length());
                    while (content.hasRemaining()) {
                        channel.write(content);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack checkpoint into " + target, e);
        }
    }
}
