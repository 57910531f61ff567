package dev.atoll.server.etcd;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
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

    /** The regular files directly in {@code dir}, by name order; the total must fit in one array. */
    public static byte[] pack(Path dir) {
        try (Stream<Path> listing = Files.list(dir)) {
            List<Path> files = listing.sorted().toList();
            var bytes = new ByteArrayOutputStream();
            var out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeInt(files.size());
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    throw new IllegalArgumentException("a checkpoint holds only files: " + f);
                }
                byte[] name = f.getFileName().toString().getBytes(StandardCharsets.UTF_8);
                byte[] content = Files.readAllBytes(f);
                out.writeInt(name.length);
                out.write(name);
                out.writeLong(content.length);
                out.write(content);
            }
            out.flush();
            var crc = new CRC32C();
            crc.update(bytes.toByteArray());
            out.writeInt((int) crc.getValue());
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack checkpoint " + dir, e);
        }
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
