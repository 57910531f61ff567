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
 * Which cluster a data directory belongs to, kept in {@code <data-dir>/cluster-id} from the
 * first start on (etcd keeps it in its WAL metadata): a founder derives it from its
 * initial-cluster, a joining member learns it from the cluster. A restart reads it and no
 * longer looks at initial-cluster. Written to a temp file, fsynced, renamed, directory fsynced.
 */
public record ClusterIdentity(long clusterId) {
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
            String hex = Files.readString(file, StandardCharsets.UTF_8).strip();
            return Optional.of(new ClusterIdentity(Long.parseUnsignedLong(hex, 16)));
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
            Files.writeString(tmp, Long.toHexString(clusterId) + "\n", StandardCharsets.UTF_8);
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
