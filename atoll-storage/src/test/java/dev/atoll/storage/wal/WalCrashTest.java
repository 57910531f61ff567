package dev.atoll.storage.wal;

import static dev.atoll.storage.wal.WalModel.entries;
import static dev.atoll.storage.wal.WalModel.hardState;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A crash after writes of which only a prefix was synced. Each seed writes a random multi-group
 * workload (truncations, local snapshots, snapshots installed from a leader with or without
 * entries after them, rotations), syncs, writes more without syncing, and then
 * recovers from many images of what the disk could hold: the last segment cut at offsets past
 * the synced position, its unwritten rest zeros or garbage, random bytes of the unsynced tail
 * flipped. Recovery must return every synced write, no record that was not wholly written and
 * undamaged, in order, and take appends afterwards.
 */
class WalCrashTest {
    private static final WalOptions OPTIONS = WalOptions.defaults().withSegmentBytesMax(8192).withRecordBytesMax(2048)
            .withWriteBufferBytes(512);
    private static final int CASES_PER_SEED = 200;

    private enum Cut { TRUNCATE, ZERO_REST, GARBAGE_REST, FLIP_TAIL }

    @TempDir
    Path root;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void recoveryKeepsEverySyncedWriteAndNothingHalfWritten(long seed) throws IOException {
        Random random = new Random(seed);
        Workload w = new Workload(random);
        Path origin = root.resolve("origin");
        Wal wal = Wal.open(origin, OPTIONS).wal();

        // synced: several rounds, with rotations
        for (int round = 0; round < 40; round++) {
            w.appendRandom(wal, 1 + random.nextInt(3));
            if (random.nextInt(3) == 0) {
                wal.sync();
            }
        }
        wal.sync();
        WalPosition synced = wal.syncedPosition();
        // unsynced: one record per append, so that every record boundary is a state of the model
        // (a cut between an installed snapshot and the entries after it included)
        List<Map<Long, WalModel.GroupView>> views = new ArrayList<>();
        List<Long> endOffsets = new ArrayList<>();
        views.add(w.model.view());
        endOffsets.add(synced.offset());
        while (views.size() < 12 && wal.appendedPosition().offset() + 700 < OPTIONS.segmentBytesMax()) {
            w.appendRandomRecordByRecord(wal, () -> {
                views.add(w.model.view());
                endOffsets.add(wal.appendedPosition().offset());
            });
        }
        wal.flush();
        assertThat(wal.appendedPosition().segmentSequence()).isEqualTo(synced.segmentSequence());
        Map<String, byte[]> disk = readAll(origin);
        String lastName = WalReplay.segmentFileName(synced.segmentSequence());
        wal.close();

        long writtenEnd = endOffsets.get(endOffsets.size() - 1);
        for (int c = 0; c < CASES_PER_SEED; c++) {
            Cut cut = Cut.values()[c % Cut.values().length];
            long cutOffset = synced.offset() + 1 + random.nextLong(writtenEnd - synced.offset());
            byte[] image = disk.get(lastName).clone();
            long damagedFrom = cutOffset;
            switch (cut) {
                case TRUNCATE -> image = java.util.Arrays.copyOf(image, (int) cutOffset);
                case ZERO_REST -> java.util.Arrays.fill(image, (int) cutOffset, image.length, (byte) 0);
                case GARBAGE_REST -> garbage(random, image, cutOffset, writtenEnd + random.nextInt(300));
                case FLIP_TAIL -> {
                    garbage(random, image, cutOffset, writtenEnd);
                    for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
                        long at = synced.offset() + random.nextLong(cutOffset - synced.offset());
                        image[(int) at] ^= (byte) (1 + random.nextInt(255));
                        damagedFrom = Math.min(damagedFrom, at);
                    }
                }
            }
            int intact = 0; // the model state after every record wholly before the damage
            while (intact + 1 < endOffsets.size() && endOffsets.get(intact + 1) <= damagedFrom) {
                intact++;
            }
            Path caseDir = root.resolve("case-" + c);
            Files.createDirectories(caseDir);
            for (var f : disk.entrySet()) {
                Files.write(caseDir.resolve(f.getKey()), f.getKey().equals(lastName) ? image : f.getValue());
            }

            WalRecovery recovery = Wal.open(caseDir, OPTIONS);
            String what = "seed " + seed + " case " + c + " " + cut + " at " + cutOffset + ", damage from " + damagedFrom;
            assertThat(WalModel.view(recovery.groups())).as(what).isEqualTo(views.get(intact));
            // the first unsynced append starts with a synced-through record, kept if undamaged
            long claimEnd = synced.offset() + WalCodec.SYNCED_THROUGH_RECORD_BYTES;
            long expectedEnd = intact == 0 && damagedFrom >= claimEnd ? claimEnd : endOffsets.get(intact);
            assertThat(recovery.wal().appendedPosition()).as(what)
                    .isEqualTo(new WalPosition(synced.segmentSequence(), expectedEnd));
            if (c % 5 == 0) {
                // the log takes writes where the damage was, and they survive the next recovery
                Workload after = new Workload(new Random(seed * 1000 + c), views.get(intact));
                try (Wal resumed = recovery.wal()) {
                    for (int i = 0; i < 6; i++) {
                        after.appendRandom(resumed, 2);
                    }
                }
                WalRecovery again = Wal.open(caseDir, OPTIONS);
                assertThat(again.droppedBytes()).as(what).isZero();
                assertThat(WalModel.view(again.groups())).as(what).isEqualTo(after.model.view());
                again.wal().close();
            } else {
                recovery.wal().close();
            }
        }
    }

    private static void garbage(Random random, byte[] image, long from, long to) {
        for (long i = from; i < Math.min(to, image.length); i++) {
            image[(int) i] = (byte) random.nextInt(256);
        }
    }

    private static Map<String, byte[]> readAll(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    /**
     * Random writes of groups 1-3: appends, conflicting rewrites, hard states, local snapshots and
     * snapshots installed from a leader (below, at or past the group's last index).
     */
    private static final class Workload {
        final Random random;
        final WalModel model;
        final Map<Long, Long> termByGroup = new HashMap<>();

        Workload(Random random) {
            this.random = random;
            this.model = new WalModel();
        }

        /** Continues from a recovered state. */
        Workload(Random random, Map<Long, WalModel.GroupView> from) {
            this(random);
            from.forEach((id, g) -> {
                List<GroupWrite> restore = new ArrayList<>();
                restore.add(new GroupWrite(id, g.snapshot(), g.entries(), g.hardState()));
                model.apply(restore);
                long term = Math.max(g.hardState().term(), g.snapshot().term());
                for (var e : g.entries()) {
                    term = Math.max(term, e.term());
                }
                termByGroup.put(id, Math.max(1, term));
            });
        }

        void appendRandom(Wal wal, int groupCount) throws IOException {
            List<GroupWrite> writes = new ArrayList<>();
            List<Long> groups = new ArrayList<>(List.of(1L, 2L, 3L));
            java.util.Collections.shuffle(groups, random);
            for (long g : groups.subList(0, groupCount)) {
                writes.add(randomWrite(g));
            }
            model.apply(writes);
            wal.append(writes);
        }

        /** One random write of one group, appended as one call per record it makes. */
        void appendRandomRecordByRecord(Wal wal, Runnable afterEachRecord) throws IOException {
            GroupWrite w = randomWrite(1 + random.nextInt(3));
            List<GroupWrite> records = new ArrayList<>();
            if (w.snapshot() != null) {
                records.add(new GroupWrite(w.groupId(), w.snapshot(), List.of(), null, w.replacesLog()));
            }
            if (!w.entries().isEmpty()) {
                records.add(GroupWrite.ofEntries(w.groupId(), w.entries()));
            }
            if (w.hardState() != null) {
                records.add(GroupWrite.ofHardState(w.groupId(), w.hardState()));
            }
            for (GroupWrite record : records) {
                model.apply(List.of(record));
                wal.append(List.of(record));
                afterEachRecord.run();
            }
        }

        private GroupWrite randomWrite(long g) {
            long last = model.lastIndex(g);
            long snap = model.snapshotIndex(g);
            long term = termByGroup.getOrDefault(g, 1L);
            int kind = random.nextInt(12);
            if (kind < 6) {
                long first = last + 1;
                if (last > snap && random.nextInt(4) == 0) {
                    first = Math.max(snap + 1, last - random.nextInt(3)); // a new leader overwrites a suffix
                    term++;
                }
                termByGroup.put(g, term);
                return GroupWrite.ofEntries(g, entries(first, first + random.nextInt(4), term, random.nextInt(120)));
            }
            if (kind < 9) {
                String[] votes = {null, "n1", "n2", "n3"};
                return GroupWrite.ofHardState(g, hardState(term, votes[random.nextInt(votes.length)],
                        random.nextLong(last + 1)));
            }
            long index = snap + random.nextLong(last - snap + 3);
            if (kind < 10) {
                return GroupWrite.ofSnapshot(g, WalModel.snapshot(index, term));
            }
            // installed from a (maybe new) leader: the tail above index, if any, was a deposed leader's
            long leaderTerm = term + random.nextInt(2);
            termByGroup.put(g, leaderTerm);
            int after = random.nextInt(4);
            return GroupWrite.ofInstalledSnapshot(g, WalModel.snapshot(index, leaderTerm),
                    entries(index + 1, index + after, leaderTerm, random.nextInt(120)),
                    random.nextBoolean() ? null : hardState(leaderTerm, "n1", index));
        }
    }
}
