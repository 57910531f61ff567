package dev.atoll.storage.wal;

import static dev.atoll.storage.wal.WalModel.entries;
import static dev.atoll.storage.wal.WalModel.hardState;
import static dev.atoll.storage.wal.WalModel.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.PersistentState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalTest {
    private static final WalOptions SMALL = WalOptions.defaults().withSegmentBytesMax(4096).withRecordBytesMax(2048)
            .withWriteBufferBytes(1024);

    @TempDir
    Path dir;

    private final WalModel model = new WalModel();

    private Wal.Appended append(Wal wal, GroupWrite... writes) throws IOException {
        model.apply(List.of(writes));
        return wal.append(List.of(writes));
    }

    private WalRecovery reopen(WalOptions options) throws IOException {
        return Wal.open(dir, options);
    }

    @Test
    void severalGroupsSurviveSyncAndReopen() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 3, 1, 20)),
                    GroupWrite.ofEntries(2, entries(1, 2, 1, 5)),
                    GroupWrite.ofHardState(1, hardState(1, "n1", 2)));
            append(wal, new GroupWrite(3, snapshot(0, 0), entries(1, 1, 2, 0), hardState(2, "n3", 0)),
                    GroupWrite.ofHardState(2, hardState(1, null, 0)));
            Wal.Synced synced = wal.sync();
            assertThat(synced.forced()).isTrue();
            assertThat(synced.position()).isEqualTo(wal.appendedPosition());
            assertThat(wal.sync().forced()).as("nothing new, no fsync").isFalse();
        }
        WalRecovery recovery = reopen(SMALL);
        try (Wal wal = recovery.wal()) {
            assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
            assertThat(recovery.droppedBytes()).isZero();
            assertThat(recovery.groups().get(1L).entries()).extracting(Entry::index).containsExactly(1L, 2L, 3L);
            // appends continue after the last record
            append(wal, GroupWrite.ofEntries(1, entries(4, 4, 1, 8)));
            wal.sync();
        }
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void batchAtAnEarlierIndexReplacesTheConflictingSuffix() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(7, entries(1, 10, 1, 4)));
            append(wal, GroupWrite.ofEntries(7, entries(6, 8, 2, 4)));
            assertThatThrownBy(() -> wal.append(List.of(GroupWrite.ofEntries(7, entries(10, 10, 2, 4)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gap");
        }
        PersistentState g = reopen(SMALL).groups().get(7L);
        assertThat(g.entries()).extracting(Entry::index).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);
        assertThat(g.entries()).extracting(Entry::term).containsExactly(1L, 1L, 1L, 1L, 1L, 2L, 2L, 2L);
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void snapshotMetadataMakesEntriesAtOrBelowItObsolete() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 10, 1, 4)), GroupWrite.ofEntries(2, entries(1, 4, 1, 4)));
            append(wal, GroupWrite.ofSnapshot(1, snapshot(6, 1)));
            // a snapshot past the group's log (installed from the leader): the whole log is obsolete
            append(wal, new GroupWrite(2, snapshot(20, 3), entries(21, 22, 3, 4), null));
            assertThatThrownBy(() -> wal.append(List.of(GroupWrite.ofEntries(1, entries(5, 12, 2, 4)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("obsolete");
            assertThatThrownBy(() -> wal.append(List.of(GroupWrite.ofSnapshot(1, snapshot(5, 1)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never goes back");
        }
        WalRecovery recovery = reopen(SMALL);
        assertThat(recovery.groups().get(1L).snapshot().index()).isEqualTo(6);
        assertThat(recovery.groups().get(1L).entries()).extracting(Entry::index).containsExactly(7L, 8L, 9L, 10L);
        assertThat(recovery.groups().get(2L).entries()).extracting(Entry::index).containsExactly(21L, 22L);
        assertThat(recovery.groups().get(2L).snapshot().membership()).isEqualTo(snapshot(20, 3).membership());
        assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
        recovery.wal().close();
    }

    @Test
    void installedSnapshotWithoutEntriesDiscardsTheStaleTailButLocalCompactionKeepsIt() throws IOException {
        long follower = 1;  // entries 6-10 came from a deposed leader; the new leader sends snapshot 5
        long compacted = 2; // the same log, compacted locally at 5: its tail continues the snapshot
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(follower, entries(1, 10, 1, 4)),
                    GroupWrite.ofEntries(compacted, entries(1, 10, 1, 4)));
            append(wal, GroupWrite.ofInstalledSnapshot(follower, snapshot(5, 2), List.of(), hardState(2, null, 5)),
                    GroupWrite.ofSnapshot(compacted, snapshot(5, 1)));
            wal.sync();
        }
        WalRecovery recovery = reopen(SMALL);
        try (Wal wal = recovery.wal()) {
            assertThat(recovery.groups().get(follower).snapshot().index()).isEqualTo(5);
            assertThat(recovery.groups().get(follower).entries()).as("no stale tail").isEmpty();
            assertThat(recovery.groups().get(compacted).entries()).extracting(Entry::index)
                    .containsExactly(6L, 7L, 8L, 9L, 10L);
            assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
            // the log of the follower goes on right after the snapshot, and only there
            assertThatThrownBy(() -> wal.append(List.of(GroupWrite.ofEntries(follower, entries(8, 8, 2, 4)))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gap");
            append(wal, GroupWrite.ofEntries(follower, entries(6, 7, 2, 4)));
        }
        PersistentState g = reopen(SMALL).groups().get(follower);
        assertThat(g.entries()).extracting(Entry::index).containsExactly(6L, 7L);
        assertThat(g.entries()).extracting(Entry::term).containsExactly(2L, 2L);
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void installedSnapshotWithEntriesLeavesExactlyThoseEntries() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 10, 1, 4)), GroupWrite.ofSnapshot(1, snapshot(2, 1)));
            // snapshot 4 sits below the follower's stale entries 5-10: 5-6 replace them, 7-10 go
            append(wal, GroupWrite.ofInstalledSnapshot(1, snapshot(4, 3), entries(5, 6, 3, 4), hardState(3, "n2", 6)));
            // installed at the current snapshot index: still discards what follows
            append(wal, GroupWrite.ofEntries(2, entries(1, 6, 1, 4)), GroupWrite.ofSnapshot(2, snapshot(3, 1)));
            append(wal, GroupWrite.ofInstalledSnapshot(2, snapshot(3, 1), entries(4, 4, 2, 4), null));
        }
        WalRecovery recovery = reopen(SMALL);
        assertThat(recovery.groups().get(1L).entries()).extracting(Entry::index).containsExactly(5L, 6L);
        assertThat(recovery.groups().get(1L).entries()).extracting(Entry::term).containsExactly(3L, 3L);
        assertThat(recovery.groups().get(1L).hardState()).isEqualTo(hardState(3, "n2", 6));
        assertThat(recovery.groups().get(2L).entries()).extracting(Entry::index).containsExactly(4L);
        assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
        recovery.wal().close();
    }

    @Test
    void installedSnapshotRefusesEntriesNotRightAfterItOrAnOlderSnapshotAndWritesNothing() throws IOException {
        assertThatThrownBy(() -> GroupWrite.ofInstalledSnapshot(1, snapshot(4, 2), entries(6, 7, 2, 4), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must start at 5");
        assertThatThrownBy(() -> GroupWrite.ofInstalledSnapshot(1, snapshot(4, 2), entries(3, 7, 2, 4), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must start at 5");
        assertThatThrownBy(() -> new GroupWrite(1, null, entries(1, 1, 1, 4), null, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only a snapshot");
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 10, 1, 4)), GroupWrite.ofSnapshot(1, snapshot(6, 1)));
            WalPosition before = wal.appendedPosition();
            List<GroupWrite> call = List.of(GroupWrite.ofEntries(2, entries(1, 1, 1, 4)),
                    GroupWrite.ofInstalledSnapshot(1, snapshot(5, 2), List.of(), null));
            assertThatThrownBy(() -> wal.append(call))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never goes back");
            assertThat(wal.appendedPosition()).isEqualTo(before);
        }
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void installedSnapshotThenAppendsAndRotationsRecoverAndFreeTheStaleSegments() throws IOException {
        long follower = 1;
        long idle = 2; // one entry in the first segment pins it, and every later one, until its snapshot
        long installSegment;
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(idle, entries(1, 1, 1, 10)));
            for (long i = 1; i <= 100; i += 5) {
                append(wal, GroupWrite.ofEntries(follower, entries(i, i + 4, 1, 100)));
            }
            wal.sync();
            assertThat(wal.segmentCount()).isGreaterThan(2);
            append(wal, GroupWrite.ofInstalledSnapshot(follower, snapshot(30, 2), List.of(), hardState(2, "n3", 30)));
            installSegment = wal.appendedPosition().segmentSequence();
            assertThat(wal.sync().segmentsDeleted()).as("the idle group still pins the first segment").isZero();
            for (long i = 31; i <= 80; i += 5) {
                append(wal, GroupWrite.ofEntries(follower, entries(i, i + 4, 2, 100)));
            }
            assertThat(wal.appendedPosition().segmentSequence()).as("rotated after the install").isGreaterThan(installSegment);
        }
        // recovery replays the stale entries 31-100, then the install that discards them
        WalRecovery recovery = reopen(SMALL);
        assertThat(recovery.groups().get(follower).snapshot().index()).isEqualTo(30);
        assertThat(recovery.groups().get(follower).entries()).extracting(Entry::index).first().isEqualTo(31L);
        assertThat(recovery.groups().get(follower).entries()).extracting(Entry::term).containsOnly(2L);
        assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
        try (Wal wal = recovery.wal()) {
            // the stale entries 31-100 lie above snapshot 30 but are dead: once the idle group
            // releases the first segment, every segment before the install goes
            append(wal, GroupWrite.ofSnapshot(idle, snapshot(1, 1)));
            assertThat(wal.sync().segmentsDeleted()).isEqualTo((int) installSegment);
            assertThat(segmentFiles().get(0).getFileName().toString())
                    .isEqualTo(WalReplay.segmentFileName(installSegment));
            append(wal, GroupWrite.ofEntries(follower, entries(81, 81, 2, 100)));
        }
        // the oldest segment's checkpoint predates the install: replay must still apply it
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void installedSnapshotFreesTheSegmentsOfTheDiscardedTailAtTheNextSync() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            for (long i = 1; i <= 100; i += 5) {
                append(wal, GroupWrite.ofEntries(1, entries(i, i + 4, 1, 100)));
            }
            assertThat(wal.segmentCount()).isGreaterThan(2);
            // a local snapshot at 30 would keep the segments holding 31-100; an install frees them
            append(wal, GroupWrite.ofInstalledSnapshot(1, snapshot(30, 2), entries(31, 32, 2, 100), null));
            assertThat(wal.sync().segmentsDeleted()).isPositive();
            assertThat(wal.segmentCount()).as("only the segment holding the install").isEqualTo(1);
            assertThat(segmentFiles()).hasSize(1);
            for (long i = 33; i <= 80; i += 4) {
                append(wal, GroupWrite.ofEntries(1, entries(i, i + 3, 2, 100)));
            }
            assertThat(wal.segmentCount()).isGreaterThan(1);
        }
        WalRecovery recovery = reopen(SMALL);
        assertThat(recovery.groups().get(1L).entries()).extracting(Entry::index).first().isEqualTo(31L);
        assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
        recovery.wal().close();
    }

    @Test
    void rotatedSegmentsAreDeletedOnceSnapshotsCoverThemAndCheckpointsKeepTheHardState() throws IOException {
        long hot = 1;  // writes a lot, snapshots often
        long idle = 2; // wrote one entry long ago, then only its hard state
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(idle, entries(1, 1, 1, 10)), GroupWrite.ofHardState(idle, hardState(5, "n2", 1)));
            append(wal, GroupWrite.ofHardState(hot, hardState(3, "n1", 0)));
            for (long i = 1; i <= 120; i++) {
                append(wal, GroupWrite.ofEntries(hot, entries(i, i, 3, 100)));
                if (i % 10 == 0) {
                    wal.sync();
                }
            }
            assertThat(wal.segmentCount()).isGreaterThan(3);
            int segmentsBefore = wal.segmentCount();
            append(wal, GroupWrite.ofSnapshot(hot, snapshot(100, 3)));
            assertThat(wal.sync().segmentsDeleted()).as("the idle group's entry pins the first segment").isZero();
            append(wal, GroupWrite.ofSnapshot(idle, snapshot(1, 1)));
            Wal.Synced synced = wal.sync();
            assertThat(synced.segmentsDeleted()).isPositive();
            assertThat(wal.segmentCount()).isEqualTo(segmentsBefore - synced.segmentsDeleted());
            assertThat(segmentFiles()).hasSize(wal.segmentCount());
            assertThat(wal.release(hot, 100)).isZero();
            assertThatThrownBy(() -> wal.release(hot, 101)).isInstanceOf(IllegalArgumentException.class);
        }
        WalRecovery recovery = reopen(SMALL);
        // the hard states were written in the deleted first segment: the checkpoints carried them
        assertThat(recovery.groups().get(idle).hardState()).isEqualTo(hardState(5, "n2", 1));
        assertThat(recovery.groups().get(hot).hardState()).isEqualTo(hardState(3, "n1", 0));
        assertThat(recovery.groups().get(hot).entries()).extracting(Entry::index).first().isEqualTo(101L);
        assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
        // and the log goes on from there
        try (Wal wal = recovery.wal()) {
            for (long i = 121; i <= 140; i += 10) {
                append(wal, GroupWrite.ofEntries(hot, entries(i, i + 9, 4, 100)));
            }
            wal.sync();
        }
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void recordAboveRecordBytesMaxIsRefusedAndNothingOfTheCallIsWritten() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 1, 1, 10)));
            wal.sync();
            WalPosition before = wal.appendedPosition();
            long bytesBefore = wal.appendedBytes();
            List<GroupWrite> call = List.of(GroupWrite.ofEntries(1, entries(2, 2, 1, 10)),
                    GroupWrite.ofEntries(2, entries(1, 1, 1, SMALL.recordBytesMax())));
            assertThatThrownBy(() -> wal.append(call))
                    .isInstanceOfSatisfying(WalRecordTooLargeException.class, e -> {
                        assertThat(e.code()).isEqualTo("WAL_RECORD_TOO_LARGE");
                        assertThat(e.groupId()).isEqualTo(2);
                        assertThat(e.recordBytesMax()).isEqualTo(SMALL.recordBytesMax());
                    });
            assertThat(wal.appendedPosition()).isEqualTo(before);
            assertThat(wal.appendedBytes()).isEqualTo(bytesBefore);
            // the refused call left no state behind either: index 2 is still next
            append(wal, GroupWrite.ofEntries(1, entries(2, 2, 1, 10)));
        }
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void damagedRecordInsideTheSyncedLogIsCorruption() throws IOException {
        long damagedOffset;
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 2, 1, 50)));
            damagedOffset = wal.appendedPosition().offset();
            append(wal, GroupWrite.ofEntries(1, entries(3, 4, 1, 50)));
            wal.sync();
            append(wal, GroupWrite.ofEntries(1, entries(5, 6, 1, 50)));
            wal.sync();
        }
        Path segment = segmentFiles().get(0);
        flipByte(segment, damagedOffset + 40);
        assertThatThrownBy(() -> reopen(SMALL))
                .isInstanceOfSatisfying(WalCorruptedException.class, e -> {
                    assertThat(e.code()).isEqualTo("WAL_CORRUPT");
                    assertThat(e.file()).isEqualTo(segment);
                    assertThat(e.offset()).isEqualTo(damagedOffset);
                });
    }

    @Test
    void damageToTheLastSyncedRecordIsCorruptionAfterACleanClose() throws IOException {
        long damagedOffset;
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 2, 1, 50)));
            damagedOffset = wal.appendedPosition().offset();
            append(wal, GroupWrite.ofEntries(1, entries(3, 4, 1, 50)));
        }
        flipByte(segmentFiles().get(0), damagedOffset + 20);
        assertThatThrownBy(() -> reopen(SMALL)).isInstanceOf(WalCorruptedException.class);
    }

    @Test
    void damagedRecordInASealedSegmentIsCorruption() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            for (long i = 1; i <= 80; i++) {
                append(wal, GroupWrite.ofEntries(1, entries(i, i, 1, 100)));
            }
            wal.sync();
            assertThat(wal.segmentCount()).isGreaterThanOrEqualTo(3);
        }
        Path sealed = segmentFiles().get(1);
        flipByte(sealed, 600);
        assertThatThrownBy(() -> reopen(SMALL))
                .isInstanceOfSatisfying(WalCorruptedException.class, e -> assertThat(e.file()).isEqualTo(sealed));
    }

    @Test
    void missingMiddleSegmentIsCorruption() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            for (long i = 1; i <= 100; i++) {
                append(wal, GroupWrite.ofEntries(1, entries(i, i, 1, 100)));
            }
        }
        List<Path> files = segmentFiles();
        assertThat(files).hasSizeGreaterThanOrEqualTo(3);
        Files.delete(files.get(1));
        assertThatThrownBy(() -> reopen(SMALL))
                .isInstanceOfSatisfying(WalCorruptedException.class, e -> {
                    assertThat(e.code()).isEqualTo("WAL_CORRUPT");
                    assertThat(e.file()).isEqualTo(files.get(2));
                    assertThat(e.getMessage()).contains("missing");
                });
    }

    @Test
    void newSegmentCutByACrashDuringRotationIsDroppedAndTheLogContinuesInThePreviousOne() throws IOException {
        try (Wal wal = Wal.open(dir, SMALL).wal()) {
            append(wal, GroupWrite.ofEntries(1, entries(1, 5, 1, 10)), GroupWrite.ofHardState(1, hardState(1, "n1", 3)));
        }
        // the crash left the next segment preallocated, its header half written
        Path torn = dir.resolve(WalReplay.segmentFileName(1));
        byte[] image = new byte[(int) SMALL.segmentBytesMax()];
        byte[] header = WalCodec.segmentHeader(1).array();
        System.arraycopy(header, 0, image, 0, 10);
        Files.write(torn, image);
        WalRecovery recovery = reopen(SMALL);
        try (Wal wal = recovery.wal()) {
            assertThat(recovery.droppedBytes()).isEqualTo(WalReplay.lastNonZeroEnd(header, 0, 10));
            assertThat(WalModel.view(recovery.groups())).isEqualTo(model.view());
            assertThat(wal.segmentCount()).isEqualTo(1);
            for (long i = 6; i <= 60; i += 5) {
                append(wal, GroupWrite.ofEntries(1, entries(i, i + 4, 1, 100)));
            }
            assertThat(wal.segmentCount()).isGreaterThan(1);
        }
        assertThat(WalModel.view(reopen(SMALL).groups())).isEqualTo(model.view());
    }

    @Test
    void segmentOfAnotherFormatVersionIsRefusedWithItsOwnCode() throws IOException {
        Wal.open(dir, SMALL).wal().close();
        Path segment = segmentFiles().get(0);
        ByteBuffer header = WalCodec.segmentHeader(0);
        header.putShort(4, (short) 99);
        header.putInt(28, WalCodec.crc(header.array(), 0, 28));
        try (FileChannel c = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            c.write(header, 0);
        }
        assertThatThrownBy(() -> reopen(SMALL)).isInstanceOfSatisfying(WalCorruptedException.class,
                e -> assertThat(e.code()).isEqualTo("WAL_UNSUPPORTED_FORMAT"));
    }

    @Test
    void closedLogRefusesWrites() throws IOException {
        Wal wal = Wal.open(dir, SMALL).wal();
        wal.close();
        wal.close();
        assertThatThrownBy(() -> wal.append(List.of(GroupWrite.ofEntries(1, entries(1, 1, 1, 1)))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("WAL_CLOSED");
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("wal-")).sorted().toList();
        }
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            c.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x5A));
            b.rewind();
            c.write(b, offset);
        }
    }
}
