package dev.atoll.server.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshot files on disk: a new file does not remove the one the WAL still names; older files
 * go once the WAL names the new one; at startup only the file the WAL names is kept.
 */
class SnapshotFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aNewSnapshotKeepsTheOneTheWalNamesUntilItIsRecorded() throws IOException {
        var files = new SnapshotFiles(dir);
        files.save(10, 1, new byte[] {1});
        files.save(20, 2, new byte[] {2, 2});
        // a crash now recovers from snapshot 10, which the WAL still names
        assertThat(files.load(10, 1)).containsExactly(1);

        files.removeOlderThan(20); // the WAL named 20 durably
        assertThat(names()).containsExactly(String.format("snap-%016x-%016x.bin", 20, 2));
        assertThat(files.load(20, 2)).containsExactly(2, 2);
    }

    @Test
    void atStartupOnlyTheFileTheWalNamesIsKept() throws IOException {
        var files = new SnapshotFiles(dir);
        files.save(10, 1, new byte[] {1});
        files.save(30, 1, new byte[] {3}); // written, the WAL never named it (a crash or a stop)
        Files.write(dir.resolve(String.format("snap-%016x-%016x.bin.tmp", 40, 1)), new byte[] {4}); // torn

        files.retainOnly(10, 1);
        assertThat(names()).containsExactly(String.format("snap-%016x-%016x.bin", 10, 1));

        files.delete(10, 1);
        files.delete(10, 1); // absent: nothing to do
        assertThat(names()).isEmpty();
    }
}
