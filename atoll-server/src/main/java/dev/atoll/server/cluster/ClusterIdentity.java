package dev.atoll.server.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Which cluster a data directory belongs to and which member it is, kept in
 * {@code <data-dir>/cluster-id} from the first start on (etcd keeps both in its WAL metadata):
 * a founder derives them from its initial-cluster and name, a joining member learns them from
 * the cluster. A restart reads them and no longer looks at initial-cluster. Written to a temp
 * file, fsynced, renamed, directory fsynced. The file holds the two ids in hex, one a line.
 *
 * @param memberId 0 when unknown (a data directory written before it was recorded)
 */
public record ClusterIdentity(long clusterId, long memberId) {
    private static final String FILE = "cluster-id";

    public ClusterIdentity {
        if (clusterId == 0) {
            throw new IllegalArgumentException("cluster id 0 is reserved");
        }
    }

    /** The identity stored in {@code dataDir}, if this is not its first start. */
    public static Optional<ClusterIdentity> load(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            String[] lines = Files.readString(file, StandardCharsets.UTF_8).strip().split("\n");
            long member = lines.length > 1 ? Long.parseUnsignedLong(lines[1].strip(), 16) : 0;
            return Optional.of(new ClusterIdentity(Long.parseUnsignedLong(lines[0].strip(), 16), member));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("CLUSTER_ID_CORRUPT: " + file + " does not hold a hex cluster id", e);
        }
    }

    public void save(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        Path tmp = dataDir.resolve(FILE + ".tmp");
        try {
            Files.createDirectories(dataDir);
            Files.writeString(tmp, Long.toHexString(clusterId) + "\n" + Long.toHexString(memberId) + "\n",
                    StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
