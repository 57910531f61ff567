package dev.atoll.server.runtime;

import dev.atoll.core.protocol.Snapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A group's snapshot data on disk, one file per snapshot ({@code snap-<index>-<term>.bin}),
 * as etcd keeps {@code .snap} files: the WAL records only a snapshot's metadata, so the data a
 * restarted leader may have to send a lagging follower lives here. Written to a temp file,
 * fsynced, renamed, directory fsynced. Older files are removed only once the WAL names a newer
 * snapshot durably ({@link #removeOlderThan}): until then a crash recovers from the old one, so
 * its file must stay. A file carries a CRC32C of its data and is refused when it does not match.
 *
 * <p>{@link #save} may run on the runtime's snapshot thread while the loop thread saves or
 * removes other files of the group (they never share a name: one snapshot per index and term).
 */
final class SnapshotFiles {
    private final Path dir;

    SnapshotFiles(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create snapshot directory " + dir, e);
        }
    }

    /** Writes the snapshot's data durably; the WAL may name it once this returns. */
    void save(Snapshot snapshot) {
        save(snapshot.index(), snapshot.term(), snapshot.data());
    }

    /** As {@link #save(Snapshot)}, for the data of the snapshot at index/term. */
    void save(long index, long term, byte[] data) {
        Path target = dir.resolve(name(index, term));
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        var crc = new CRC32C();
        crc.update(data);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer header = ByteBuffer.allocate(12).putInt((int) crc.getValue()).putLong(data.length);
            header.flip();
            while (header.hasRemaining()) {
                ch.write(header);
            }
            ByteBuffer body = ByteBuffer.wrap(data);
            while (body.hasRemaining()) {
                ch.write(body);
            }
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write snapshot " + tmp, e);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish snapshot " + target, e);
        }
    }

    /** The data of the snapshot at index/term, or null when there is none (index 0). */
    byte[] load(long index, long term) {
        if (index == 0) {
            return new byte[0];
        }
        Path file = dir.resolve(name(index, term));
        try {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(all);
            int crcExpected = b.getInt();
            long length = b.getLong();
            if (length != all.length - 12) {
                throw new IllegalStateException("SNAPSHOT_CORRUPT: " + file + " holds " + (all.length - 12)
                        + " bytes of data, header says " + length);
            }
            byte[] data = new byte[(int) length];
            b.get(data);
            var crc = new CRC32C();
            crc.update(data);
            if ((int) crc.getValue() != crcExpected) {
                throw new IllegalStateException("SNAPSHOT_CORRUPT: checksum mismatch in " + file);
            }
            return data;
        } catch (IOException e) {
            throw new UncheckedIOException("SNAPSHOT_MISSING: the WAL names snapshot " + index + "@" + term
                    + " but " + file + " cannot be read", e);
        }
    }

    /** Removes the files of snapshots before {@code index}: call once the WAL names it durably. */
    void removeOlderThan(long index) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "snap-*.bin")) {
            for (Path f : files) {
                String[] parts = f.getFileName().toString().split("[-.]");
                if (Long.parseUnsignedLong(parts[1], 16) < index) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove old snapshots in " + dir, e);
        }
    }

    /**
     * Removes every file but the snapshot's at index/term, temp files included: at startup, when
     * the WAL names that one and no snapshot is being written (a crash may leave the file of a
     * snapshot the WAL never named, or a half-written temp file).
     */
    void retainOnly(long index, long term) {
        String keep = name(index, term);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "snap-*")) {
            for (Path f : files) {
                if (!f.getFileName().toString().equals(keep)) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean snapshot directory " + dir, e);
        }
    }

    /** Removes the file of the snapshot at index/term, if any: one written but never recorded. */
    void delete(long index, long term) {
        try {
            Files.deleteIfExists(dir.resolve(name(index, term)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete snapshot " + index + "@" + term + " in " + dir, e);
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static String name(long index, long term) {
        return String.format("snap-%016x-%016x.bin", index, term);
    }
}
