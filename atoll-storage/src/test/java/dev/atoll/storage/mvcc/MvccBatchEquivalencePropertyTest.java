package dev.atoll.storage.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * Applying a log in batches is applying it one entry at a time: random puts (leases, prev_kv,
 * ignore flags), deletes, txns (every compare target, nested txns, ranges at past revisions),
 * compactions, lease grants, revokes and checkpoints, no-ops, replays of applied indexes and
 * term changes go to one store entry by entry and to another in random batch splits, with
 * random batch bounds, restarts between batches and RocksDB write failures injected in the
 * middle of a batch (after which the store is replayed from its applied index, as the runtime
 * does). Every outcome must be the same, and so must the final state: every key at every
 * readable revision, the history with previous values, the leases and their keys, the applied
 * position, and the in-memory key index (which must also equal one rebuilt from RocksDB).
 */
class MvccBatchEquivalencePropertyTest {
    private static final byte[][] KEYS = {{0}, {0, 0}, {'a'}, {'a', 0}, {'a', 'b'}, {(byte) 0xFF}, {(byte) 0xFF, 0}};
    private static final byte[][] PREFIXES = {{0}, {'a'}, {(byte) 0xFF}};
    private static final long REVISION_MAX = 40;
    private static final int RANGE_KEYS_MAX = 1;

    sealed interface Op permits Put, Delete, Range, Txn, PutThenScan, Compact, LeaseGrant, LeaseRevoke,
            LeaseCheckpoint, Noop, Replay, NewTerm {
    }

    /** ignore: 0 none, 1 ignore_value, 2 ignore_lease. */
    record Put(int key, int value, int lease, boolean prevKv, int ignore) implements Op {
    }

    /** kind 0 = single key, 1 = prefix, 2 = from key. */
    record Delete(int key, int kind, boolean prevKv) implements Op {
    }

    /** revision 0 = current. */
    record Range(int key, int kind, long revision) implements Op {
    }

    record Txn(int compareKey, Compare.Target target, Compare.Result result, int number, List<Op> success,
               List<Op> failure) implements Op {
    }

    /**
     * A txn that puts, then reads every key: refused (RANGE_TOO_LARGE) once more than
     * RANGE_KEYS_MAX keys live, after its put went into the batch, which must take it back.
     */
    record PutThenScan(int key, int value) implements Op {
    }

    record Compact(long revision) implements Op {
    }

    record LeaseGrant(int id, int ttlSeconds) implements Op {
    }

    record LeaseRevoke(int id) implements Op {
    }

    record LeaseCheckpoint(int id, int remainingTtlSeconds) implements Op {
    }

    record Noop() implements Op {
    }

    /** An entry whose index is already applied (a replay after a restart): it must change nothing. */
    record Replay(int back, int key) implements Op {
    }

    /** The entries from here on carry a higher term. */
    record NewTerm() implements Op {
    }

    /** How the batched run goes: where the log is cut, its bounds, restarts and failing writes. */
    record Schedule(List<Integer> batchSizes, int entriesMax, long bytesMax, List<Boolean> reopenAfter,
                    int failingWrite) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Integer> key = Arbitraries.integers().between(0, KEYS.length - 1);
        Arbitrary<Integer> lease = Arbitraries.frequency(Tuple.of(12, 0), Tuple.of(1, 1), Tuple.of(1, 2), Tuple.of(1, 3));
        Arbitrary<Op> put = Combinators.combine(key, Arbitraries.integers().between(0, 4), lease,
                Arbitraries.of(true, false), Arbitraries.frequency(Tuple.of(8, 0), Tuple.of(1, 1), Tuple.of(1, 2)))
                .as(Put::new);
        Arbitrary<Op> delete = Combinators.combine(key, Arbitraries.integers().between(0, 2),
                Arbitraries.of(true, false)).as(Delete::new);
        Arbitrary<Op> range = Combinators.combine(key, Arbitraries.frequency(Tuple.of(1, 0), Tuple.of(2, 1),
                        Tuple.of(3, 2)),
                Arbitraries.frequency(Tuple.of(2, 0L), Tuple.of(1, 1L), Tuple.of(3, 2L), Tuple.of(3, 5L),
                        Tuple.of(3, 9L))).as(Range::new);
        Arbitrary<Op> leaf = Arbitraries.frequencyOf(Tuple.of(4, put), Tuple.of(2, delete), Tuple.of(2, range));
        Arbitrary<Op> nested = txn(key, leaf.list().ofMaxSize(2));
        Arbitrary<Op> branchOp = Arbitraries.frequencyOf(Tuple.of(6, leaf), Tuple.of(1, nested));
        Arbitrary<Op> txn = txn(key, branchOp.list().ofMaxSize(3));
        Arbitrary<Op> putThenScan = Combinators.combine(key, Arbitraries.integers().between(0, 3)).as(PutThenScan::new);
        Arbitrary<Op> compact = Arbitraries.longs().between(0, 14).map(Compact::new);
        Arbitrary<Op> grant = Combinators.combine(Arbitraries.integers().between(0, 3), Arbitraries.of(-1, 10, 60))
                .as(LeaseGrant::new);
        Arbitrary<Op> revoke = Arbitraries.integers().between(1, 3).map(LeaseRevoke::new);
        Arbitrary<Op> checkpoint = Combinators.combine(Arbitraries.integers().between(1, 3),
                Arbitraries.integers().between(0, 90)).as(LeaseCheckpoint::new);
        Arbitrary<Op> replay = Combinators.combine(Arbitraries.integers().between(0, 4), key).as(Replay::new);
        return Arbitraries.frequencyOf(Tuple.of(10, put), Tuple.of(3, delete), Tuple.of(6, txn),
                Tuple.of(2, putThenScan), Tuple.of(1, compact), Tuple.of(2, grant), Tuple.of(1, revoke), Tuple.of(1, checkpoint),
                Tuple.of(1, Arbitraries.just(new Noop())), Tuple.of(1, replay),
                Tuple.of(1, Arbitraries.just(new NewTerm()))).list().ofMinSize(15).ofMaxSize(60);
    }

    private static Arbitrary<Op> txn(Arbitrary<Integer> key, Arbitrary<List<Op>> branch) {
        return Combinators.combine(key, Arbitraries.of(Compare.Target.class), Arbitraries.of(Compare.Result.class),
                Arbitraries.integers().between(0, 6), branch, branch).as(Txn::new);
    }

    @Provide
    Arbitrary<Schedule> schedules() {
        return Combinators.combine(Arbitraries.integers().between(1, 20).list().ofMinSize(1).ofMaxSize(20),
                Arbitraries.of(1, 2, 5, MvccConfig.APPLY_BATCH_ENTRIES_MAX_DEFAULT),
                Arbitraries.of(150L, MvccConfig.APPLY_BATCH_BYTES_MAX_DEFAULT),
                Arbitraries.frequency(Tuple.of(4, false), Tuple.of(1, true)).list().ofSize(20),
                Arbitraries.frequency(Tuple.of(1, -1), Tuple.of(1, 1), Tuple.of(1, 2), Tuple.of(1, 3), Tuple.of(1, 6)))
                .as(Schedule::new);
    }

    @Property(tries = 40)
    void batchesGiveTheOutcomesAndStateOfOneByOne(@ForAll("ops") List<Op> ops, @ForAll("schedules") Schedule schedule)
            throws IOException {
        List<Mutation> log = toLog(ops);
        Path dir = Files.createTempDirectory("mvcc-batch");
        FailingWriter writer = new FailingWriter(schedule.failingWrite());
        // A small range bound: a txn's range over many keys is refused after the txn's puts went
        // into the batch, so the batch must take back part of one entry.
        MvccConfig config = MvccConfig.defaults().withRangeKeysMax(RANGE_KEYS_MAX);
        MvccConfig batchConfig = config.withApplyBatchEntriesMax(schedule.entriesMax())
                .withApplyBatchBytesMax(schedule.bytesMax());
        MvccStore oneByOne = MvccStore.open(dir.resolve("one-by-one"), config);
        MvccStore batched = MvccStore.open(dir.resolve("batched"), batchConfig, writer);
        try {
            List<Outcome<?>> expected = new ArrayList<>();
            for (Mutation m : log) {
                expected.add(applySingle(oneByOne, m));
            }

            for (Outcome<?> o : expected) {
                Statistics.collect(switch (o) {
                    case Outcome.Refused<?> r -> r.error().code();
                    case Outcome.Done<?> d -> d.response().getClass().getSimpleName();
                    case Outcome.AlreadyApplied<?> a -> "already applied";
                });
            }
            // the generator must reach refusals that come after an entry's first writes, and compactions
            Statistics.coverage(c -> {
                c.check(MvccError.RANGE_TOO_LARGE.code()).count(n -> n > 0);
                c.check("CompactResponse").count(n -> n > 0);
                c.check("already applied").count(n -> n > 0);
            });
            Map<Integer, Outcome<?>> actual = new HashMap<>();
            int from = 0;
            for (int cut = 0; from < log.size(); cut++) {
                int size = schedule.batchSizes().get(cut % schedule.batchSizes().size());
                int to = Math.min(log.size(), from + size);
                List<Mutation> batch = log.subList(from, to);
                long appliedBefore = batched.appliedIndex();
                try {
                    List<Outcome<?>> outcomes = batched.applyAll(batch);
                    for (int i = 0; i < outcomes.size(); i++) {
                        actual.put(from + i, outcomes.get(i));
                    }
                } catch (MvccStorageException e) {
                    assertThat(e).hasMessageContaining("injected");
                    // nothing half-applied: memory matches disk, and only whole writes of the batch are in
                    assertThat(batched.keyIndexCopy()).isEqualTo(batched.keyIndexFromDisk());
                    long appliedAfterFailure = batched.appliedIndex();
                    assertThat(appliedAfterFailure).isGreaterThanOrEqualTo(appliedBefore);
                    if (schedule.reopenAfter().get(cut % schedule.reopenAfter().size())) {
                        batched = reopen(batched, dir, batchConfig, writer);
                    }
                    // the runtime replays the round; entries applied before the failure lost their outcome
                    List<Outcome<?>> outcomes = batched.applyAll(batch);
                    for (int i = 0; i < outcomes.size(); i++) {
                        if (batch.get(i).at().index() > appliedAfterFailure) {
                            actual.put(from + i, outcomes.get(i));
                        }
                    }
                }
                if (schedule.reopenAfter().get(cut % schedule.reopenAfter().size())) {
                    batched = reopen(batched, dir, batchConfig, writer);
                }
                from = to;
            }
            // only a failed call's entries written before the failure lose their outcome: at most one batch
            assertThat(actual.size()).isGreaterThanOrEqualTo(log.size() - 20);
            for (Map.Entry<Integer, Outcome<?>> e : actual.entrySet()) {
                assertThat(e.getValue()).as("outcome of %s", log.get(e.getKey())).isEqualTo(expected.get(e.getKey()));
            }
            assertSameState(oneByOne, batched);
            batched = reopen(batched, dir, batchConfig, writer);
            assertSameState(oneByOne, batched);
        } finally {
            oneByOne.close();
            batched.close();
            MvccModelPropertyTest.deleteTree(dir);
        }
    }

    /** Fails the n-th RocksDB write of applied batches (never when n < 1). */
    static final class FailingWriter implements MvccStore.BatchWriter {
        private final int failingWrite;
        private int writes;

        FailingWriter(int failingWrite) {
            this.failingWrite = failingWrite;
        }

        @Override
        public void write(RocksDB db, org.rocksdb.WriteOptions options, org.rocksdb.WriteBatchWithIndex batch)
                throws RocksDBException {
            if (++writes == failingWrite) {
                throw new RocksDBException("injected write failure");
            }
            db.write(options, batch);
        }
    }

    private static MvccStore reopen(MvccStore store, Path dir, MvccConfig config, FailingWriter writer) {
        var before = store.keyIndexCopy();
        store.close();
        MvccStore reopened = MvccStore.open(dir.resolve("batched"), config, writer);
        assertThat(reopened.keyIndexCopy()).as("the key index rebuilt on open").isEqualTo(before);
        return reopened;
    }

    /** The single-entry call each mutation stands for: what applying one entry at a time returns. */
    private static Outcome<?> applySingle(MvccStore store, Mutation m) {
        return switch (m) {
            case Mutation.Put p -> store.put(p.request(), p.at());
            case Mutation.DeleteRange d -> store.deleteRange(d.request(), d.at());
            case Mutation.Txn t -> store.txn(t.request(), t.at());
            case Mutation.Compact c -> store.compact(c.revision(), c.at());
            case Mutation.LeaseGrant g -> store.leaseGrant(g.id(), g.ttlSeconds(), g.at());
            case Mutation.LeaseRevoke r -> store.leaseRevoke(r.id(), r.at());
            case Mutation.LeaseCheckpoint c -> store.leaseCheckpoint(c.id(), c.remainingTtlSeconds(), c.at());
            case Mutation.MarkApplied a -> store.markApplied(a.at()) ? Outcome.done(Boolean.TRUE)
                    : new Outcome.AlreadyApplied<>(store.appliedPosition());
        };
    }

    private static void assertSameState(MvccStore expected, MvccStore actual) {
        assertThat(actual.appliedPosition()).isEqualTo(expected.appliedPosition());
        assertThat(actual.currentRevision()).isEqualTo(expected.currentRevision());
        assertThat(actual.compactedRevision()).isEqualTo(expected.compactedRevision());
        for (long rev = Math.max(1, expected.compactedRevision()); rev <= expected.currentRevision(); rev++) {
            // key by key: the stores hold only KEYS, and a range over all of them passes rangeKeysMax
            for (byte[] key : KEYS) {
                RangeRequest one = RangeRequest.of(key).atRevision(rev);
                assertThat(actual.range(one)).as("%s at revision %d", Arrays.toString(key), rev)
                        .isEqualTo(expected.range(one));
            }
        }
        long from = expected.compactedRevision();
        assertThat(actual.history(from, 0, 10_000, true)).as("history with previous values")
                .isEqualTo(expected.history(from, 0, 10_000, true));
        assertThat(actual.leases()).isEqualTo(expected.leases());
        for (Lease lease : expected.leases()) {
            LeaseTimeToLive e = expected.leaseTimeToLive(lease.id()).response();
            LeaseTimeToLive a = actual.leaseTimeToLive(lease.id()).response();
            assertThat(a.lease()).isEqualTo(e.lease());
            assertThat(a.keys().stream().map(Arrays::toString).toList())
                    .isEqualTo(e.keys().stream().map(Arrays::toString).toList());
        }
        assertThat(actual.keyIndexCopy()).isEqualTo(expected.keyIndexCopy());
        assertThat(actual.keyIndexCopy()).isEqualTo(actual.keyIndexFromDisk());
        assertThat(expected.keyIndexCopy()).isEqualTo(expected.keyIndexFromDisk());
    }

    // ------------------------------------------------------------------ ops to log entries

    private static List<Mutation> toLog(List<Op> ops) {
        List<Mutation> log = new ArrayList<>();
        // two leases to start with, so that puts with a lease are not all refused
        log.add(new Mutation.LeaseGrant(1, 60, new LogPosition(1, 1)));
        log.add(new Mutation.LeaseGrant(2, 60, new LogPosition(2, 1)));
        long index = 2;
        long term = 1;
        for (Op op : ops) {
            switch (op) {
                case NewTerm n -> term++;
                case Replay r -> log.add(new Mutation.Put(PutRequest.of(KEYS[r.key()], value(0)),
                        new LogPosition(Math.max(0, index - r.back()), 1)));
                default -> log.add(toMutation(op, new LogPosition(++index, term)));
            }
        }
        return log;
    }

    private static Mutation toMutation(Op op, LogPosition at) {
        return switch (op) {
            case Put p -> new Mutation.Put(toPut(p), at);
            case Delete d -> new Mutation.DeleteRange(toDelete(d), at);
            case Txn t -> new Mutation.Txn(toTxn(t), at);
            case Compact c -> new Mutation.Compact(c.revision(), at);
            case LeaseGrant g -> new Mutation.LeaseGrant(g.id(), g.ttlSeconds(), at);
            case LeaseRevoke r -> new Mutation.LeaseRevoke(r.id(), at);
            case LeaseCheckpoint c -> new Mutation.LeaseCheckpoint(c.id(), c.remainingTtlSeconds(), at);
            case Noop n -> new Mutation.MarkApplied(at);
            case Range r -> new Mutation.Txn(new TxnRequest(List.of(), List.of(toRange(r)), List.of()), at);
            case PutThenScan p -> new Mutation.Txn(new TxnRequest(List.of(), List.of(
                    PutRequest.of(KEYS[p.key()], value(p.value())), RangeRequest.fromKey(new byte[] {0})), List.of()), at);
            case Replay r -> throw new IllegalArgumentException("a replay has no log position of its own");
            case NewTerm n -> throw new IllegalArgumentException("a term change is no entry");
        };
    }

    static byte[] value(int v) {
        // value 4 is long, so that small byte bounds cut batches
        return v == 4 ? new byte[100] : new byte[] {(byte) v, 0, (byte) 0xFF};
    }

    private static PutRequest toPut(Put p) {
        PutRequest r = PutRequest.of(KEYS[p.key()], value(p.value())).withLease(p.lease());
        if (p.prevKv()) {
            r = r.withPrevKv();
        }
        return switch (p.ignore()) {
            case 1 -> r.withIgnoreValue();
            case 2 -> r.withIgnoreLease();
            default -> r;
        };
    }

    private static DeleteRangeRequest toDelete(Delete d) {
        DeleteRangeRequest r = switch (d.kind()) {
            case 0 -> DeleteRangeRequest.of(KEYS[d.key()]);
            case 1 -> DeleteRangeRequest.ofPrefix(PREFIXES[d.key() % PREFIXES.length]);
            default -> DeleteRangeRequest.ofRange(KEYS[d.key()], RangeRequest.FROM_KEY);
        };
        return d.prevKv() ? r.withPrevKv() : r;
    }

    private static RangeRequest toRange(Range r) {
        RangeRequest q = switch (r.kind()) {
            case 0 -> RangeRequest.of(KEYS[r.key()]);
            case 1 -> RangeRequest.ofPrefix(PREFIXES[r.key() % PREFIXES.length]);
            default -> RangeRequest.fromKey(KEYS[r.key()]);
        };
        return q.atRevision(Math.min(r.revision(), REVISION_MAX));
    }

    private static TxnRequest toTxn(Txn t) {
        byte[] key = KEYS[t.compareKey()];
        Compare compare = t.target() == Compare.Target.VALUE
                ? new Compare(key, null, t.target(), t.result(), 0, value(t.number() % 4))
                : new Compare(key, null, t.target(), t.result(), t.number(), null);
        if (t.number() == 6) {
            compare = compare.overRange(RangeRequest.FROM_KEY); // a compare over every key from key on
        }
        return new TxnRequest(List.of(compare), t.success().stream().map(MvccBatchEquivalencePropertyTest::toOp).toList(),
                t.failure().stream().map(MvccBatchEquivalencePropertyTest::toOp).toList());
    }

    private static RequestOp toOp(Op op) {
        return switch (op) {
            case Put p -> toPut(p);
            case Delete d -> toDelete(d);
            case Range r -> toRange(r);
            case Txn t -> toTxn(t);
            default -> throw new IllegalArgumentException(op.toString());
        };
    }

    @Property(tries = 5)
    void aWriteFailureOnTheFirstWriteAppliesNothing(@ForAll("ops") List<Op> ops) throws IOException {
        List<Mutation> log = toLog(ops);
        Assume.that(log.stream().anyMatch(m -> m.at().index() > 0)); // something to write
        Path dir = Files.createTempDirectory("mvcc-batch-fail");
        try (MvccStore store = MvccStore.open(dir.resolve("db"), MvccConfig.defaults(), new FailingWriter(1))) {
            var indexBefore = store.keyIndexCopy();
            assertThatThrownBy(() -> store.applyAll(log)).isInstanceOf(MvccStorageException.class);
            assertThat(store.appliedIndex()).isZero();
            assertThat(store.currentRevision()).isEqualTo(MvccStore.INITIAL_REVISION);
            assertThat(store.keyIndexCopy()).isEqualTo(indexBefore).isEmpty();
            assertThat(store.leases()).isEmpty();
        } finally {
            MvccModelPropertyTest.deleteTree(dir);
        }
    }
}
