package dev.atoll.storage.mvcc;

import static dev.atoll.storage.mvcc.MvccStoreTest.b;
import static dev.atoll.storage.mvcc.MvccStoreTest.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dev.atoll.storage.mvcc.Compare.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDBException;

/**
 * {@link MvccStore#applyAll}: a Raft round's entries in one RocksDB write, each entry seeing the
 * ones before it, with the outcomes of one-by-one apply; bounded; atomic under a failed write.
 */
class MvccApplyAllTest {
    @TempDir
    Path tmp;
    final List<MvccStore> opened = new ArrayList<>();
    long index;

    @AfterEach
    void closeAll() {
        opened.forEach(MvccStore::close);
    }

    MvccStore open(String name, MvccConfig config, MvccStore.BatchWriter writer) {
        MvccStore store = MvccStore.open(tmp.resolve(name), config, writer);
        opened.add(store);
        return store;
    }

    MvccStore open(String name) {
        return open(name, MvccConfig.defaults(), org.rocksdb.RocksDB::write);
    }

    LogPosition next() {
        return new LogPosition(++index, 1);
    }

    Mutation put(String k, String v) {
        return new Mutation.Put(PutRequest.of(b(k), b(v)), next());
    }

    static <R> R response(Outcome<?> o, Class<R> type) {
        return type.cast(o.response());
    }

    /** Counts RocksDB writes of applied batches, and fails the ones named. */
    static final class CountingWriter implements MvccStore.BatchWriter {
        final AtomicInteger writes = new AtomicInteger();
        volatile int failWrite = -1;

        @Override
        public void write(org.rocksdb.RocksDB db, org.rocksdb.WriteOptions options,
                          org.rocksdb.WriteBatchWithIndex batch) throws RocksDBException {
            if (writes.incrementAndGet() == failWrite) {
                throw new RocksDBException("injected write failure");
            }
            db.write(options, batch);
        }
    }

    @Test
    void aRoundOfPutsIsOneRocksDbWriteAndLaterPutsSeeEarlierOnes() {
        CountingWriter writer = new CountingWriter();
        MvccStore store = open("db", MvccConfig.defaults(), writer);
        List<Outcome<?>> outcomes = store.applyAll(List.of(put("a", "1"), put("a", "2"),
                new Mutation.Put(PutRequest.of(b("a"), b("3")).withPrevKv(), next())));
        assertThat(writer.writes).hasValue(1);
        PutResponse third = response(outcomes.get(2), PutResponse.class);
        assertThat(third.revision()).isEqualTo(4);
        assertThat(third.prevKv()).hasValueSatisfying(kv -> {
            assertThat(s(kv.value())).isEqualTo("2");
            assertThat(kv.version()).isEqualTo(2);
            assertThat(kv.createRevision()).isEqualTo(2);
        });
        KeyValue a = store.range(RangeRequest.of(b("a"))).response().kvs().getFirst();
        assertThat(a.version()).isEqualTo(3);
        assertThat(a.modRevision()).isEqualTo(4);
        assertThat(store.appliedIndex()).isEqualTo(3);
    }

    @Test
    void aTxnComparesAgainstAPutEarlierInTheSameBatch() {
        MvccStore store = open("db");
        TxnRequest ifVersionOne = new TxnRequest(List.of(Compare.version(b("k"), Result.EQUAL, 1)),
                List.of(PutRequest.of(b("won"), b("yes"))), List.of(PutRequest.of(b("lost"), b("yes"))));
        TxnRequest ifValueV = new TxnRequest(List.of(Compare.value(b("k"), Result.EQUAL, b("v"))),
                List.of(RangeRequest.of(b("k"))), List.of());
        List<Outcome<?>> outcomes = store.applyAll(List.of(put("k", "v"), new Mutation.Txn(ifVersionOne, next()),
                new Mutation.Txn(ifValueV, next())));
        assertThat(response(outcomes.get(1), TxnResponse.class).succeeded()).isTrue();
        TxnResponse read = response(outcomes.get(2), TxnResponse.class);
        assertThat(read.succeeded()).isTrue();
        assertThat(((RangeResponse) read.responses().getFirst()).kvs()).extracting(kv -> s(kv.value()))
                .containsExactly("v");
        assertThat(store.range(RangeRequest.of(b("won"))).response().kvs()).hasSize(1);
    }

    @Test
    void aTxnsSingleKeyReadsSeeTheBatchAndTheTxnsOwnWritesWithTheirOptions() {
        MvccStore store = open("db");
        TxnRequest deleteThenRead = new TxnRequest(List.of(), List.of(DeleteRangeRequest.of(b("k")),
                RangeRequest.of(b("k")), RangeRequest.of(b("absent"))), List.of());
        TxnRequest readWithOptions = new TxnRequest(List.of(), List.of(RangeRequest.of(b("j")).withKeysOnly(),
                RangeRequest.of(b("j")).withCountOnly(), RangeRequest.of(b("j")).withModRevisionBetween(0, 2)), List.of());
        List<Outcome<?>> outcomes = store.applyAll(List.of(put("k", "v"), put("j", "1"), put("j", "2"),
                new Mutation.Txn(deleteThenRead, next()), new Mutation.Txn(readWithOptions, next())));
        List<ResponseOp> deleted = response(outcomes.get(3), TxnResponse.class).responses();
        assertThat(((RangeResponse) deleted.get(1)).kvs()).isEmpty();
        assertThat(((RangeResponse) deleted.get(1)).count()).isZero();
        assertThat(((RangeResponse) deleted.get(2)).kvs()).isEmpty();
        List<ResponseOp> read = response(outcomes.get(4), TxnResponse.class).responses();
        KeyValue keyOnly = ((RangeResponse) read.get(0)).kvs().getFirst();
        assertThat(s(keyOnly.key())).isEqualTo("j");
        assertThat(keyOnly.value()).isEmpty();
        assertThat(keyOnly.version()).isEqualTo(2);
        assertThat(keyOnly.modRevision()).isEqualTo(4);
        assertThat(((RangeResponse) read.get(1)).kvs()).isEmpty();
        assertThat(((RangeResponse) read.get(1)).count()).isEqualTo(1);
        // j's newest version (revision 4) is outside [0, 2]: filtered out, still counted
        assertThat(((RangeResponse) read.get(2)).kvs()).isEmpty();
        assertThat(((RangeResponse) read.get(2)).count()).isEqualTo(1);
    }

    @Test
    void aDeleteRemovesKeysPutEarlierInTheSameBatchAndAReputStartsAtVersionOne() {
        MvccStore store = open("db");
        List<Outcome<?>> outcomes = store.applyAll(List.of(put("p/a", "1"), put("p/b", "1"),
                new Mutation.DeleteRange(DeleteRangeRequest.ofPrefix(b("p/")).withPrevKv(), next()), put("p/a", "2")));
        DeleteRangeResponse deleted = response(outcomes.get(2), DeleteRangeResponse.class);
        assertThat(deleted.deleted()).isEqualTo(2);
        assertThat(deleted.prevKvs()).extracting(kv -> s(kv.key()) + "=" + s(kv.value())).containsExactly("p/a=1", "p/b=1");
        KeyValue a = store.range(RangeRequest.of(b("p/a"))).response().kvs().getFirst();
        assertThat(a.version()).isEqualTo(1);
        assertThat(a.createRevision()).isEqualTo(5);
        assertThat(store.range(RangeRequest.of(b("p/b"))).response().kvs()).isEmpty();
    }

    @Test
    void aRefusedEntryInTheMiddleChangesNothingButIsApplied() {
        MvccStore store = open("db", MvccConfig.defaults().withRangeKeysMax(1), org.rocksdb.RocksDB::write);
        // the txn's put is in the batch when its range over three keys is refused: the put must go
        TxnRequest putThenRefused = new TxnRequest(List.of(),
                List.of(PutRequest.of(b("y"), b("never")), RangeRequest.fromKey(b("a"))), List.of());
        TxnRequest putX = new TxnRequest(List.of(), List.of(PutRequest.of(b("x"), b("1"))), List.of());
        List<Outcome<?>> outcomes = store.applyAll(List.of(put("a", "1"), put("b", "1"),
                new Mutation.Put(PutRequest.of(b("a"), b("2")).withLease(7), next()),
                new Mutation.Txn(putThenRefused, next()), put("a", "3"), new Mutation.Txn(putX, next())));
        assertThat(outcomes.get(2)).isEqualTo(Outcome.refused(MvccError.LEASE_NOT_FOUND, "lease 7 not found"));
        assertThat(((Outcome.Refused<?>) outcomes.get(3)).error()).isEqualTo(MvccError.RANGE_TOO_LARGE);
        assertThat(response(outcomes.get(4), PutResponse.class).revision()).isEqualTo(4);
        assertThat(response(outcomes.get(5), TxnResponse.class).revision()).isEqualTo(5);
        assertThat(store.range(RangeRequest.of(b("y"))).response().kvs()).isEmpty();
        assertThat(store.range(RangeRequest.of(b("a"))).response().kvs().getFirst().version()).isEqualTo(2);
        assertThat(store.history(2, 0, 100, false).response().events()).extracting(e -> e.revision() + s(e.kv().key()))
                .containsExactly("2a", "3b", "4a", "5x");
        assertThat(store.appliedIndex()).isEqualTo(6);
        assertThat(store.keyIndexCopy()).isEqualTo(store.keyIndexFromDisk());
    }

    @Test
    void leasesGrantedAttachedAndRevokedWithinOneBatch() {
        MvccStore store = open("db");
        List<Outcome<?>> outcomes = store.applyAll(List.of(new Mutation.LeaseGrant(0, 60, next()),
                new Mutation.Put(PutRequest.of(b("a"), b("1")).withLease(1), next()),
                new Mutation.Put(PutRequest.of(b("b"), b("1")).withLease(1), next()),
                new Mutation.LeaseGrant(0, 30, next()),
                new Mutation.Put(PutRequest.of(b("b"), b("2")).withLease(2), next()),
                new Mutation.LeaseRevoke(1, next()),
                new Mutation.LeaseGrant(1, 60, next())));
        assertThat(response(outcomes.get(0), LeaseGrantResponse.class).id()).isEqualTo(1);
        assertThat(response(outcomes.get(3), LeaseGrantResponse.class).id()).isEqualTo(2);
        assertThat(response(outcomes.get(5), LeaseRevokeResponse.class).deleted()).isEqualTo(1);
        assertThat(outcomes.get(6)).isInstanceOf(Outcome.Done.class); // id 1 is free again
        assertThat(store.range(RangeRequest.of(b("a"))).response().kvs()).isEmpty();
        assertThat(store.range(RangeRequest.of(b("b"))).response().kvs().getFirst().lease()).isEqualTo(2);
        assertThat(store.leaseTimeToLive(2).response().keys()).extracting(MvccStoreTest::s).containsExactly("b");
        assertThat(store.leaseTimeToLive(1).response().keys()).isEmpty();
        assertThat(store.leases()).extracting(Lease::id).containsExactly(1L, 2L);
    }

    @Test
    void aCompactionInABatchBindsTheEntriesAfterIt() {
        MvccStore store = open("db");
        TxnRequest readOld = new TxnRequest(List.of(), List.of(RangeRequest.of(b("a")).atRevision(2)), List.of());
        TxnRequest readAtCompacted = new TxnRequest(List.of(), List.of(RangeRequest.of(b("a")).atRevision(3)), List.of());
        List<Outcome<?>> outcomes = store.applyAll(List.of(put("a", "1"), put("a", "2"), put("a", "3"),
                new Mutation.Compact(3, next()), new Mutation.Txn(readOld, next()),
                new Mutation.Txn(readAtCompacted, next()), new Mutation.Compact(3, next())));
        assertThat(response(outcomes.get(3), CompactResponse.class).compactedRevision()).isEqualTo(3);
        assertThat(((Outcome.Refused<?>) outcomes.get(4)).error()).isEqualTo(MvccError.COMPACTED);
        TxnResponse atCompacted = response(outcomes.get(5), TxnResponse.class);
        assertThat(((RangeResponse) atCompacted.responses().getFirst()).kvs()).extracting(kv -> s(kv.value()))
                .containsExactly("2");
        assertThat(((Outcome.Refused<?>) outcomes.get(6)).error()).isEqualTo(MvccError.COMPACTED);
        assertThat(store.compactedRevision()).isEqualTo(3);
        assertThat(store.history(3, 0, 100, false).response().events()).extracting(Event::revision)
                .containsExactly(3L, 4L);
        assertThat(store.keyIndexCopy()).isEqualTo(store.keyIndexFromDisk());
    }

    @Test
    void entriesAtOrBelowTheAppliedIndexAreSkippedInsideABatch() {
        MvccStore store = open("db");
        store.applyAll(List.of(put("a", "1"), put("a", "2")));
        List<Outcome<?>> outcomes = store.applyAll(List.of(
                new Mutation.Put(PutRequest.of(b("a"), b("old")), new LogPosition(2, 1)), put("b", "1"),
                new Mutation.Put(PutRequest.of(b("b"), b("dup")), new LogPosition(3, 1))));
        assertThat(outcomes.get(0)).isEqualTo(new Outcome.AlreadyApplied<>(new LogPosition(2, 1)));
        assertThat(outcomes.get(1)).isInstanceOf(Outcome.Done.class);
        assertThat(outcomes.get(2)).isEqualTo(new Outcome.AlreadyApplied<>(new LogPosition(3, 1)));
        assertThat(s(store.range(RangeRequest.of(b("b"))).response().kvs().getFirst().value())).isEqualTo("1");
    }

    @Test
    void aLongListIsWrittenInBatchesOfAtMostTheBound() {
        CountingWriter writer = new CountingWriter();
        MvccStore store = open("db", MvccConfig.defaults().withApplyBatchEntriesMax(4), writer);
        List<Mutation> round = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            round.add(put("k" + (i % 3), "v" + i));
        }
        List<Outcome<?>> outcomes = store.applyAll(round);
        assertThat(writer.writes).hasValue(3); // 4 + 4 + 2
        assertThat(outcomes).hasSize(10).allSatisfy(o -> assertThat(o).isInstanceOf(Outcome.Done.class));
        assertThat(store.range(RangeRequest.of(b("k0"))).response().kvs().getFirst().version()).isEqualTo(4);

        CountingWriter bytesWriter = new CountingWriter();
        MvccStore small = open("small", MvccConfig.defaults().withApplyBatchBytesMax(200), bytesWriter);
        small.applyAll(List.of(put("a", "x".repeat(60)), put("b", "x".repeat(60)), put("c", "1")));
        assertThat(bytesWriter.writes).as("the put that crosses 200 bytes ends its batch").hasValue(2);
    }

    @Test
    void aFailedWriteLeavesTheBatchUnappliedOnDiskAndInMemoryAndEarlierBatchesApplied() {
        CountingWriter writer = new CountingWriter();
        MvccStore store = open("db", MvccConfig.defaults().withApplyBatchEntriesMax(3), writer);
        store.applyAll(List.of(put("a", "1"), new Mutation.LeaseGrant(9, 60, next())));
        List<Mutation> round = List.of(put("a", "2"), put("b", "1"), put("c", "1"),
                new Mutation.Put(PutRequest.of(b("a"), b("3")).withLease(9), next()),
                new Mutation.DeleteRange(DeleteRangeRequest.of(b("b")), next()), new Mutation.LeaseRevoke(9, next()),
                put("d", "1"));
        writer.failWrite = writer.writes.get() + 2; // the second of this round's three writes
        assertThatThrownBy(() -> store.applyAll(round)).isInstanceOf(MvccStorageException.class)
                .hasMessageContaining("injected");

        // the first batch (indexes 3..5) is applied; none of the second (6..8) is
        assertThat(store.appliedIndex()).isEqualTo(5);
        assertThat(store.currentRevision()).isEqualTo(5);
        assertThat(store.keyIndexCopy()).isEqualTo(store.keyIndexFromDisk());
        assertThat(store.range(RangeRequest.of(b("a"))).response().kvs().getFirst().lease()).isZero();
        assertThat(store.range(RangeRequest.of(b("b"))).response().kvs()).hasSize(1);
        assertThat(store.leaseTimeToLive(9).response().keys()).isEmpty();

        // the runtime replays from appliedIndex + 1; the result equals a store that never failed
        List<Outcome<?>> replayed = store.applyAll(round.subList(3, round.size()));
        MvccStore reference = open("reference");
        List<Mutation> all = new ArrayList<>(List.of(new Mutation.Put(PutRequest.of(b("a"), b("1")), new LogPosition(1, 1)),
                new Mutation.LeaseGrant(9, 60, new LogPosition(2, 1))));
        all.addAll(round);
        List<Outcome<?>> expected = new ArrayList<>();
        for (Mutation m : all) {
            expected.addAll(reference.applyAll(List.of(m)));
        }
        assertThat(replayed).isEqualTo(expected.subList(5, 9));
        assertThat(store.range(RangeRequest.fromKey(new byte[] {0})).response())
                .isEqualTo(reference.range(RangeRequest.fromKey(new byte[] {0})).response());
        assertThat(store.keyIndexCopy()).isEqualTo(reference.keyIndexCopy());
    }

    @Test
    void anInvariantViolationInsideABatchLeavesTheKeyIndexAsOnDisk() {
        MvccStore store = open("db");
        store.applyAll(List.of(put("a", "1"), new Mutation.MarkApplied(new LogPosition(++index, 2))));
        List<Mutation> badTerms = List.of(new Mutation.Put(PutRequest.of(b("a"), b("2")), new LogPosition(++index, 2)),
                new Mutation.Put(PutRequest.of(b("b"), b("1")), new LogPosition(++index, 2)),
                new Mutation.Put(PutRequest.of(b("c"), b("1")), new LogPosition(++index, 1)));
        assertThatThrownBy(() -> store.applyAll(badTerms)).isInstanceOf(dev.atoll.core.InvariantViolation.class);
        assertThat(store.keyIndexCopy()).isEqualTo(store.keyIndexFromDisk());
        assertThat(store.range(RangeRequest.of(b("a"))).response().kvs().getFirst().version()).isEqualTo(1);
    }

    @Test
    void theKeyIndexRebuiltOnReopenEqualsTheOneBeforeClose() {
        MvccStore store = open("db");
        store.applyAll(List.of(put("a", "1"), put("b", "1"), new Mutation.LeaseGrant(4, 60, next()),
                new Mutation.Put(PutRequest.of(b("a"), b("2")).withLease(4), next()),
                new Mutation.DeleteRange(DeleteRangeRequest.of(b("b")), next()), put("b\0", "1"), put("c", "1"),
                new Mutation.Compact(4, next())));
        var before = store.keyIndexCopy();
        assertThat(before.keySet()).extracting(MvccStoreTest::s).containsExactly("a", "b\0", "c");
        assertThat(before.get(b("a"))).isEqualTo(new KeyIndex.Latest(2, 4, 2, 4));
        store.close();
        opened.remove(store);
        MvccStore reopened = open("db");
        assertThat(reopened.keyIndexCopy()).isEqualTo(before);
    }

    @Test
    void anInstalledCheckpointReplacesTheKeyIndex() {
        MvccStore leader = open("leader");
        leader.applyAll(List.of(put("a", "1"), put("b", "1")));
        leader.checkpoint(tmp.resolve("cp"));
        MvccStore follower = open("follower");
        follower.applyAll(List.of(new Mutation.Put(PutRequest.of(b("stale"), b("x")), new LogPosition(1, 1))));
        follower.installCheckpoint(tmp.resolve("cp"));
        assertThat(follower.keyIndexCopy()).isEqualTo(leader.keyIndexCopy());
        assertThat(follower.keyIndexCopy()).doesNotContainKey(b("stale"));
        assertThat(follower.appliedIndex()).isEqualTo(2);
    }
}
