package dev.atoll.storage.mvcc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import dev.atoll.core.InvariantViolation;
import dev.atoll.storage.mvcc.Compare.Result;
import dev.atoll.storage.mvcc.RangeRequest.SortOrder;
import dev.atoll.storage.mvcc.RangeRequest.SortTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** etcd v3 behaviours of the MVCC store, one per test. */
class MvccStoreTest {
    @TempDir
    Path tmp;
    MvccStore store;
    long index;

    @BeforeEach
    void open() {
        store = MvccStore.open(tmp.resolve("db"));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    LogPosition next() {
        return new LogPosition(++index, 1);
    }

    PutResponse put(String k, String v) {
        return store.put(PutRequest.of(b(k), b(v)), next()).response();
    }

    RangeResponse get(RangeRequest r) {
        return store.range(r).response();
    }

    KeyValue one(String k) {
        List<KeyValue> kvs = get(RangeRequest.of(b(k))).kvs();
        assertThat(kvs).hasSize(1);
        return kvs.getFirst();
    }

    List<String> keys(RangeResponse r) {
        return r.kvs().stream().map(kv -> s(kv.key())).toList();
    }

    static MvccError error(Outcome<?> o) {
        assertThat(o).isInstanceOf(Outcome.Refused.class);
        return ((Outcome.Refused<?>) o).error();
    }

    @Test
    void revisionsAndVersionsAcrossPutDeleteRecreate() {
        assertThat(store.currentRevision()).isEqualTo(1);
        assertThat(put("a", "1").revision()).isEqualTo(2);
        assertThat(put("a", "2").revision()).isEqualTo(3);
        KeyValue a = one("a");
        assertThat(a.createRevision()).isEqualTo(2);
        assertThat(a.modRevision()).isEqualTo(3);
        assertThat(a.version()).isEqualTo(2);
        assertThat(s(a.value())).isEqualTo("2");

        DeleteRangeResponse d = store.deleteRange(DeleteRangeRequest.of(b("a")), next()).response();
        assertThat(d.deleted()).isEqualTo(1);
        assertThat(d.revision()).isEqualTo(4);
        assertThat(get(RangeRequest.of(b("a"))).kvs()).isEmpty();

        // Deleting nothing does not move the revision.
        assertThat(store.deleteRange(DeleteRangeRequest.of(b("a")), next()).response().revision()).isEqualTo(4);

        put("a", "3");
        KeyValue recreated = one("a");
        assertThat(recreated.createRevision()).isEqualTo(5);
        assertThat(recreated.version()).isEqualTo(1);
        assertThat(store.currentRevision()).isEqualTo(5);
    }

    @Test
    void rangeAtPastRevisionSeesThatRevision() {
        put("a", "1");
        put("b", "1");
        put("a", "2");
        store.deleteRange(DeleteRangeRequest.of(b("b")), next());
        assertThat(keys(get(RangeRequest.fromKey(b("a")).atRevision(3)))).containsExactly("a", "b");
        assertThat(s(get(RangeRequest.of(b("a")).atRevision(3)).kvs().getFirst().value())).isEqualTo("1");
        assertThat(keys(get(RangeRequest.fromKey(b("a"))))).containsExactly("a");
        assertThat(get(RangeRequest.of(b("a")).atRevision(1)).kvs()).isEmpty();
        // The header revision is the current one, not the one read at.
        assertThat(get(RangeRequest.of(b("a")).atRevision(2)).revision()).isEqualTo(5);
    }

    @Test
    void rangeEndFormsSinglePrefixAndFromKey() {
        for (String k : List.of("a", "ab", "abc", "abd", "b", "c")) {
            put(k, k);
        }
        assertThat(keys(get(RangeRequest.of(b("ab"))))).containsExactly("ab");
        assertThat(keys(get(RangeRequest.ofPrefix(b("ab"))))).containsExactly("ab", "abc", "abd");
        assertThat(keys(get(RangeRequest.fromKey(b("abd"))))).containsExactly("abd", "b", "c");
        assertThat(keys(get(RangeRequest.ofRange(b("ab"), b("b"))))).containsExactly("ab", "abc", "abd");
        assertThat(keys(get(RangeRequest.ofRange(b("\0"), RangeRequest.FROM_KEY)))).hasSize(6);
        assertThat(get(RangeRequest.ofRange(b("c"), b("a"))).kvs()).isEmpty();
    }

    @Test
    void keysWithZeroBytesAndHighBytesKeepByteOrder() {
        byte[][] keys = {{0}, {0, 0}, {1}, {'a'}, {'a', 0}, {'a', 0, 0}, {'a', 0, 1}, {'a', 1}, {(byte) 0xFF},
                {(byte) 0xFF, 0}, {(byte) 0xFF, (byte) 0xFF}};
        for (int i = keys.length - 1; i >= 0; i--) {
            store.put(PutRequest.of(keys[i], new byte[] {(byte) i}), next());
        }
        List<KeyValue> all = get(RangeRequest.ofRange(new byte[] {0}, RangeRequest.FROM_KEY)).kvs();
        assertThat(all).extracting(KeyValue::key).containsExactly(keys);
        assertThat(get(RangeRequest.ofPrefix(new byte[] {'a', 0})).kvs()).extracting(KeyValue::key)
                .containsExactly(keys[4], keys[5], keys[6]);
        assertThat(get(RangeRequest.ofPrefix(new byte[] {(byte) 0xFF})).kvs()).hasSize(3);
    }

    @Test
    void limitMoreAndCount() {
        for (String k : List.of("k1", "k2", "k3", "k4", "k5")) {
            put(k, "v");
        }
        RangeResponse r = get(RangeRequest.ofPrefix(b("k")).withLimit(2));
        assertThat(keys(r)).containsExactly("k1", "k2");
        assertThat(r.more()).isTrue();
        assertThat(r.count()).isEqualTo(5);
        RangeResponse all = get(RangeRequest.ofPrefix(b("k")).withLimit(5));
        assertThat(all.more()).isFalse();
        assertThat(all.kvs()).hasSize(5);
    }

    @Test
    void sortByTargetsAndOrders() {
        put("a", "3");
        put("b", "1");
        put("c", "2");
        put("b", "4");
        RangeRequest all = RangeRequest.fromKey(b("a"));
        assertThat(keys(get(all.sortedBy(SortTarget.KEY, SortOrder.DESCEND)))).containsExactly("c", "b", "a");
        assertThat(keys(get(all.sortedBy(SortTarget.VALUE, SortOrder.ASCEND)))).containsExactly("c", "a", "b");
        assertThat(keys(get(all.sortedBy(SortTarget.MOD, SortOrder.DESCEND)))).containsExactly("b", "c", "a");
        assertThat(keys(get(all.sortedBy(SortTarget.CREATE, SortOrder.NONE)))).containsExactly("a", "b", "c");
        assertThat(keys(get(all.sortedBy(SortTarget.VERSION, SortOrder.DESCEND)))).containsExactly("b", "a", "c");
        RangeResponse limited = get(all.sortedBy(SortTarget.MOD, SortOrder.DESCEND).withLimit(1));
        assertThat(keys(limited)).containsExactly("b");
        assertThat(limited.more()).isTrue();
    }

    @Test
    void keysOnlyCountOnlyAndRevisionFilters() {
        put("a", "1");
        put("b", "2");
        put("c", "3");
        RangeResponse keysOnly = get(RangeRequest.fromKey(b("a")).withKeysOnly());
        assertThat(keysOnly.kvs()).allSatisfy(kv -> assertThat(kv.value()).isEmpty());
        assertThat(keysOnly.kvs().getFirst().version()).isEqualTo(1);
        RangeResponse countOnly = get(RangeRequest.fromKey(b("a")).withCountOnly());
        assertThat(countOnly.kvs()).isEmpty();
        assertThat(countOnly.count()).isEqualTo(3);
        RangeResponse filtered = get(RangeRequest.fromKey(b("a")).withModRevisionBetween(3, 0));
        assertThat(keys(filtered)).containsExactly("b", "c");
        assertThat(filtered.count()).isEqualTo(3);
        assertThat(keys(get(RangeRequest.fromKey(b("a")).withCreateRevisionBetween(0, 2)))).containsExactly("a");
    }

    @Test
    void prevKvOnPutAndDelete() {
        put("a", "1");
        PutResponse p = store.put(PutRequest.of(b("a"), b("2")).withPrevKv(), next()).response();
        assertThat(p.prevKv()).map(kv -> s(kv.value())).contains("1");
        assertThat(store.put(PutRequest.of(b("n"), b("x")).withPrevKv(), next()).response().prevKv()).isEmpty();
        DeleteRangeResponse d = store.deleteRange(DeleteRangeRequest.of(b("a")).withPrevKv(), next()).response();
        assertThat(d.prevKvs()).extracting(kv -> s(kv.value())).containsExactly("2");
        assertThat(d.prevKvs().getFirst().version()).isEqualTo(2);
    }

    @Test
    void ignoreValueAndIgnoreLeaseKeepTheCurrentOnes() {
        long lease = store.leaseGrant(0, 60, next()).response().id();
        store.put(PutRequest.of(b("a"), b("v1")).withLease(lease), next());
        store.put(PutRequest.of(b("a"), null).withIgnoreValue().withLease(lease), next()).response();
        assertThat(s(one("a").value())).isEqualTo("v1");
        store.put(PutRequest.of(b("a"), b("v2")).withIgnoreLease(), next());
        assertThat(one("a").lease()).isEqualTo(lease);
        assertThat(error(store.put(PutRequest.of(b("zz"), null).withIgnoreValue(), next())))
                .isEqualTo(MvccError.KEY_NOT_FOUND);
        assertThat(error(store.put(new PutRequest(b("a"), b("x"), 0, false, true, false), next())))
                .isEqualTo(MvccError.VALUE_PROVIDED);
    }

    @Test
    void txnComparesPickTheBranch() {
        put("a", "1");
        TxnRequest t = new TxnRequest(List.of(Compare.value(b("a"), Result.EQUAL, b("1"))),
                List.of(PutRequest.of(b("a"), b("2")), RangeRequest.of(b("a"))),
                List.of(RangeRequest.of(b("a"))));
        TxnResponse ok = store.txn(t, next()).response();
        assertThat(ok.succeeded()).isTrue();
        assertThat(ok.revision()).isEqualTo(3);
        // The range after the put in the same txn sees the put.
        RangeResponse inTxn = (RangeResponse) ok.responses().get(1);
        assertThat(s(inTxn.kvs().getFirst().value())).isEqualTo("2");
        assertThat(inTxn.revision()).isEqualTo(3);

        TxnResponse failed = store.txn(t, next()).response();
        assertThat(failed.succeeded()).isFalse();
        assertThat(failed.revision()).isEqualTo(3); // a read-only branch does not move the revision
        assertThat(s(((RangeResponse) failed.responses().getFirst()).kvs().getFirst().value())).isEqualTo("2");
    }

    @Test
    void txnCompareTargetsAndMissingKeys() {
        put("a", "1");
        put("a", "2");
        assertThat(holds(Compare.version(b("a"), Result.EQUAL, 2))).isTrue();
        assertThat(holds(Compare.createRevision(b("a"), Result.EQUAL, 2))).isTrue();
        assertThat(holds(Compare.modRevision(b("a"), Result.GREATER, 2))).isTrue();
        assertThat(holds(Compare.modRevision(b("a"), Result.LESS, 3))).isFalse();
        assertThat(holds(Compare.lease(b("a"), Result.EQUAL, 0))).isTrue();
        assertThat(holds(Compare.value(b("a"), Result.NOT_EQUAL, b("1")))).isTrue();
        // etcd: a missing key has version 0 and fails every value compare.
        assertThat(holds(Compare.version(b("missing"), Result.EQUAL, 0))).isTrue();
        assertThat(holds(Compare.value(b("missing"), Result.NOT_EQUAL, b("x")))).isFalse();
        // Over a range: every key must satisfy it.
        put("b", "1");
        assertThat(holds(Compare.version(b("a"), Result.GREATER, 0).overRange(b("c")))).isTrue();
        assertThat(holds(Compare.version(b("a"), Result.GREATER, 1).overRange(b("c")))).isFalse();
    }

    boolean holds(Compare c) {
        return store.txn(new TxnRequest(List.of(c), List.of(), List.of()), next()).response().succeeded();
    }

    @Test
    void nestedTxnComparesSeeTheStateBeforeTheTxn() {
        put("a", "1");
        TxnRequest nested = new TxnRequest(List.of(Compare.value(b("a"), Result.EQUAL, b("1"))),
                List.of(PutRequest.of(b("inner"), b("then"))), List.of(PutRequest.of(b("inner"), b("else"))));
        TxnRequest outer = new TxnRequest(List.of(), List.of(PutRequest.of(b("a"), b("2")), nested), List.of());
        TxnResponse r = store.txn(outer, next()).response();
        assertThat(((TxnResponse) r.responses().get(1)).succeeded()).isTrue();
        assertThat(s(one("inner").value())).isEqualTo("then");
        assertThat(one("inner").modRevision()).isEqualTo(one("a").modRevision()).isEqualTo(3);
        List<Event> events = store.history(3, 0, 10, false).response().events();
        assertThat(events).extracting(Event::subRevision).containsExactly(0L, 1L);
    }

    @Test
    void txnRefusalsChangeNothing() {
        put("a", "1");
        long before = store.currentRevision();
        TxnRequest dup = new TxnRequest(List.of(), List.of(PutRequest.of(b("x"), b("1")), PutRequest.of(b("x"), b("2"))),
                List.of());
        assertThat(error(store.txn(dup, next()))).isEqualTo(MvccError.DUPLICATE_KEY);
        TxnRequest putAndDelete = new TxnRequest(List.of(),
                List.of(DeleteRangeRequest.ofPrefix(b("x")), PutRequest.of(b("xy"), b("2"))), List.of());
        assertThat(error(store.txn(putAndDelete, next()))).isEqualTo(MvccError.DUPLICATE_KEY);
        // Success and failure of one nested txn may put the same key: only one runs.
        TxnRequest branches = new TxnRequest(List.of(), List.of(new TxnRequest(List.of(),
                List.of(PutRequest.of(b("y"), b("1"))), List.of(PutRequest.of(b("y"), b("2"))))), List.of());
        assertThat(store.txn(branches, next())).isInstanceOf(Outcome.Done.class);
        before = store.currentRevision();
        TxnRequest unknownLease = new TxnRequest(List.of(),
                List.of(PutRequest.of(b("z"), b("1")), PutRequest.of(b("w"), b("1")).withLease(99)), List.of());
        assertThat(error(store.txn(unknownLease, next()))).isEqualTo(MvccError.LEASE_NOT_FOUND);
        assertThat(get(RangeRequest.of(b("z"))).kvs()).isEmpty();
        assertThat(store.currentRevision()).isEqualTo(before);
        assertThat(store.appliedIndex()).isEqualTo(index); // refused entries are applied all the same
    }

    @Test
    void tooManyOpsEmptyKeyAndOversizedRequestsAreRefused() {
        List<RequestOp> ops = new java.util.ArrayList<>();
        for (int i = 0; i <= MvccConfig.TXN_OPS_MAX_DEFAULT; i++) {
            ops.add(PutRequest.of(b("k" + i), b("v")));
        }
        assertThat(error(store.txn(new TxnRequest(List.of(), ops, List.of()), next()))).isEqualTo(MvccError.TOO_MANY_OPS);
        assertThat(error(store.put(PutRequest.of(new byte[0], b("v")), next()))).isEqualTo(MvccError.EMPTY_KEY);
        assertThat(error(store.range(RangeRequest.of(new byte[0])))).isEqualTo(MvccError.EMPTY_KEY);
        assertThat(error(store.put(PutRequest.of(new byte[MvccConfig.KEY_BYTES_MAX_DEFAULT + 1], b("v")), next())))
                .isEqualTo(MvccError.KEY_TOO_LARGE);
        assertThat(error(store.put(PutRequest.of(b("k"), new byte[MvccConfig.VALUE_BYTES_MAX_DEFAULT + 1]), next())))
                .isEqualTo(MvccError.VALUE_TOO_LARGE);
        assertThat(store.currentRevision()).isEqualTo(1);
    }

    @Test
    void rangeOverItsBoundIsRefusedNotTruncated(@TempDir Path other) {
        try (MvccStore small = MvccStore.open(other, MvccConfig.defaults().withRangeKeysMax(3))) {
            for (int i = 0; i < 6; i++) {
                small.put(PutRequest.of(b("k" + i), b("v")), new LogPosition(i + 1, 1));
            }
            assertThat(error(small.range(RangeRequest.ofPrefix(b("k"))))).isEqualTo(MvccError.RANGE_TOO_LARGE);
            assertThat(small.range(RangeRequest.ofPrefix(b("k")).withLimit(3)).response().more()).isTrue();
            assertThat(small.range(RangeRequest.ofPrefix(b("k")).withCountOnly()).response().count()).isEqualTo(6);
        }
    }

    @Test
    void compactionThenCompactedAndFutureRevisionErrors() {
        put("a", "1"); // 2
        put("a", "2"); // 3
        put("b", "1"); // 4
        store.deleteRange(DeleteRangeRequest.of(b("b")), next()); // 5
        put("a", "3"); // 6
        assertThat(store.compact(4, next()).response().compactedRevision()).isEqualTo(4);
        assertThat(error(store.range(RangeRequest.of(b("a")).atRevision(3)))).isEqualTo(MvccError.COMPACTED);
        assertThat(error(store.range(RangeRequest.of(b("a")).atRevision(7)))).isEqualTo(MvccError.FUTURE_REVISION);
        assertThat(s(get(RangeRequest.of(b("a")).atRevision(4)).kvs().getFirst().value())).isEqualTo("2");
        assertThat(keys(get(RangeRequest.fromKey(b("a")).atRevision(4)))).containsExactly("a", "b");
        assertThat(keys(get(RangeRequest.fromKey(b("a")).atRevision(5)))).containsExactly("a");
        assertThat(error(store.compact(4, next()))).isEqualTo(MvccError.COMPACTED);
        assertThat(error(store.compact(9, next()))).isEqualTo(MvccError.FUTURE_REVISION);
        assertThat(error(store.history(3, 0, 10, false))).isEqualTo(MvccError.COMPACTED);
        assertThat(store.history(4, 0, 10, false).response().events()).extracting(Event::revision)
                .containsExactly(4L, 5L, 6L);
        // Compacting past the delete drops the key entirely.
        store.compact(6, next());
        assertThat(keys(get(RangeRequest.fromKey(b("a"))))).containsExactly("a");
        assertThat(one("a").version()).isEqualTo(3);
    }

    @Test
    void compactionInManySmallBatchesKeepsTheNewestVersions(@TempDir Path other) {
        try (MvccStore s = MvccStore.open(other, MvccConfig.defaults().withCompactionBatchKeysMax(2))) {
            long i = 0;
            for (int round = 0; round < 5; round++) {
                for (String k : List.of("a", "b", "c")) {
                    s.put(PutRequest.of(b(k), b(k + round)), new LogPosition(++i, 1));
                }
            }
            long rev = s.currentRevision();
            s.compact(rev - 1, new LogPosition(++i, 1));
            List<KeyValue> kvs = s.range(RangeRequest.fromKey(b("a"))).response().kvs();
            assertThat(kvs).extracting(kv -> s(kv.value())).containsExactly("a4", "b4", "c4");
            assertThat(s.range(RangeRequest.fromKey(b("a")).atRevision(rev - 1)).response().kvs())
                    .extracting(kv -> s(kv.value())).containsExactly("a4", "b4", "c3");
        }
    }

    @Test
    void leasesAttachAndRevokeDeletesKeysAtOneRevision() {
        LeaseGrantResponse g = store.leaseGrant(0, 30, next()).response();
        assertThat(g.id()).isEqualTo(1);
        assertThat(store.leaseGrant(0, 30, next()).response().id()).isEqualTo(2);
        assertThat(error(store.leaseGrant(1, 30, next()))).isEqualTo(MvccError.LEASE_EXISTS);
        assertThat(store.leaseGrant(7, 10, next()).response().id()).isEqualTo(7);
        store.put(PutRequest.of(b("a"), b("1")).withLease(1), next());
        store.put(PutRequest.of(b("b"), b("1")).withLease(1), next());
        store.put(PutRequest.of(b("c"), b("1")).withLease(1), next());
        store.put(PutRequest.of(b("c"), b("2")).withLease(2), next()); // moves c to lease 2
        store.put(PutRequest.of(b("d"), b("1")), next());
        assertThat(error(store.put(PutRequest.of(b("e"), b("1")).withLease(42), next())))
                .isEqualTo(MvccError.LEASE_NOT_FOUND);

        LeaseTimeToLive ttl = store.leaseTimeToLive(1).response();
        assertThat(ttl.lease().grantedTtlSeconds()).isEqualTo(30);
        assertThat(ttl.keys()).extracting(MvccStoreTest::s).containsExactly("a", "b");
        assertThat(store.leases()).extracting(Lease::id).containsExactly(1L, 2L, 7L);

        long before = store.currentRevision();
        LeaseRevokeResponse r = store.leaseRevoke(1, next()).response();
        assertThat(r.deleted()).isEqualTo(2);
        assertThat(r.revision()).isEqualTo(before + 1);
        assertThat(keys(get(RangeRequest.fromKey(b("a"))))).containsExactly("c", "d");
        assertThat(store.history(before + 1, 0, 10, true).response().events())
                .extracting(e -> e.type() + ":" + s(e.kv().key()) + ":" + e.prevKv().isPresent())
                .containsExactly("DELETE:a:true", "DELETE:b:true");
        assertThat(error(store.leaseRevoke(1, next()))).isEqualTo(MvccError.LEASE_NOT_FOUND);
        assertThat(error(store.leaseTimeToLive(1))).isEqualTo(MvccError.LEASE_NOT_FOUND);

        Lease checkpointed = store.leaseCheckpoint(2, 12, next()).response();
        assertThat(checkpointed.remainingTtlSeconds()).isEqualTo(12);
        assertThat(store.leaseTimeToLive(2).response().lease().remainingTtlSeconds()).isEqualTo(12);
        // Deleting a key detaches it from its lease.
        store.deleteRange(DeleteRangeRequest.of(b("c")), next());
        assertThat(store.leaseTimeToLive(2).response().keys()).isEmpty();
        assertThat(store.leaseRevoke(2, next()).response().deleted()).isZero();
    }

    @Test
    void reapplyingAnAppliedIndexIsANoOp() {
        store.put(PutRequest.of(b("a"), b("1")), new LogPosition(5, 2));
        Outcome<PutResponse> again = store.put(PutRequest.of(b("a"), b("other")), new LogPosition(5, 2));
        assertThat(again).isEqualTo(new Outcome.AlreadyApplied<PutResponse>(new LogPosition(5, 2)));
        assertThat(store.put(PutRequest.of(b("a"), b("old")), new LogPosition(3, 1)))
                .isInstanceOf(Outcome.AlreadyApplied.class);
        assertThat(store.txn(new TxnRequest(List.of(), List.of(), List.of()), new LogPosition(4, 1)))
                .isInstanceOf(Outcome.AlreadyApplied.class);
        assertThat(s(one("a").value())).isEqualTo("1");
        assertThat(one("a").version()).isEqualTo(1);
        assertThat(store.markApplied(new LogPosition(6, 2))).isTrue();
        assertThat(store.markApplied(new LogPosition(6, 2))).isFalse();
        assertThatThrownBy(() -> store.markApplied(new LogPosition(7, 1))).isInstanceOf(InvariantViolation.class);
    }

    @Test
    void closeAndReopenKeepsEverything() {
        put("a", "1");
        put("b", "2");
        store.leaseGrant(5, 60, next());
        store.put(PutRequest.of(b("c"), b("3")).withLease(5), next());
        store.compact(3, next());
        long revision = store.currentRevision();
        store.close();
        store = MvccStore.open(tmp.resolve("db"));
        assertThat(store.appliedIndex()).isEqualTo(index);
        assertThat(store.currentRevision()).isEqualTo(revision);
        assertThat(store.compactedRevision()).isEqualTo(3);
        assertThat(keys(get(RangeRequest.fromKey(b("a"))))).containsExactly("a", "b", "c");
        assertThat(store.leaseTimeToLive(5).response().keys()).hasSize(1);
        assertThat(store.put(PutRequest.of(b("x"), b("y")), new LogPosition(index, 1)))
                .isInstanceOf(Outcome.AlreadyApplied.class);
        assertThat(store.leaseGrant(0, 1, next()).response().id()).isEqualTo(6);
    }

    @Test
    void memtablesFlushBesideWritesAndTheNextCheckpointHoldsEveryWrite() throws Exception {
        // as the runtime does: a snapshot thread flushes while the loop thread goes on applying
        Thread flusher = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 5; i++) {
                store.flushMemtables();
            }
        });
        for (int i = 0; i < 2_000; i++) {
            put("k" + i, "v" + i);
        }
        flusher.join();
        store.flushMemtables();
        put("after", "flush");
        CheckpointInfo info = store.checkpoint(tmp.resolve("cp"));
        assertThat(info.applied().index()).isEqualTo(index);
        try (MvccStore f = MvccStore.open(tmp.resolve("follower"))) {
            Path received = tmp.resolve("follower.receiving");
            copyDir(tmp.resolve("cp"), received);
            f.installCheckpoint(received);
            assertThat(f.range(RangeRequest.fromKey(new byte[] {0})).response().kvs()).hasSize(2_001);
            assertThat(s(f.range(RangeRequest.of(b("k1999"))).response().kvs().getFirst().value())).isEqualTo("v1999");
        }
    }

    @Test
    void checkpointInstalledIntoAFreshStoreHasEveryKey() {
        for (int i = 0; i < 50; i++) {
            put("k" + (i % 20), "v" + i);
        }
        store.leaseGrant(3, 60, next());
        store.put(PutRequest.of(b("leased"), b("x")).withLease(3), next());
        CheckpointInfo info = store.checkpoint(tmp.resolve("cp"));
        assertThat(info.applied().index()).isEqualTo(index);
        assertThat(info.files()).isNotEmpty().anySatisfy(f -> assertThat(f.name()).startsWith("MANIFEST"));
        assertThat(info.files().stream().mapToLong(CheckpointFile::sizeBytes).sum()).isPositive();
        assertThat(MvccStore.appliedPositionOf(tmp.resolve("cp"))).isEqualTo(info.applied());
        put("after", "checkpoint"); // not in the checkpoint

        // A follower receives the files into a new directory next to its store, then installs.
        Path follower = tmp.resolve("follower");
        try (MvccStore f = MvccStore.open(follower)) {
            f.put(PutRequest.of(b("stale"), b("x")), new LogPosition(1, 1));
            Path received = tmp.resolve("follower.receiving");
            copyDir(tmp.resolve("cp"), received);
            f.installCheckpoint(received);
            assertThat(f.appliedPosition()).isEqualTo(info.applied());
            assertThat(f.currentRevision()).isEqualTo(info.revision());
            RangeResponse all = f.range(RangeRequest.fromKey(new byte[] {0})).response();
            assertThat(all.kvs()).isEqualTo(
                    store.range(RangeRequest.fromKey(new byte[] {0}).atRevision(info.revision())).response().kvs());
            assertThat(f.leaseTimeToLive(3).response().keys()).hasSize(1);
            assertThat(f.history(2, 0, 1000, false).response().events()).hasSize((int) info.revision() - 1);
        }
        assertThat(tmp.resolve("follower.replaced")).doesNotExist();
    }

    @Test
    void interruptedInstallLeavesTheOldStore() throws Exception {
        put("a", "1");
        store.close();
        Path db = tmp.resolve("db");
        java.nio.file.Files.move(db, tmp.resolve("db.replaced")); // crash between the two renames
        store = MvccStore.open(db);
        assertThat(keys(get(RangeRequest.of(b("a"))))).containsExactly("a");
    }

    static void copyDir(Path from, Path to) {
        try {
            java.nio.file.Files.createDirectories(to);
            for (CheckpointFile f : MvccStore.checkpointFiles(from)) {
                java.nio.file.Files.copy(from.resolve(f.name()), to.resolve(f.name()));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void historyIsInRevisionOrderWithPrevValuesAndPages() {
        put("a", "1"); // 2
        put("b", "1"); // 3
        put("a", "2"); // 4
        store.txn(new TxnRequest(List.of(), List.of(DeleteRangeRequest.of(b("a")), PutRequest.of(b("c"), b("1"))),
                List.of()), next()); // 5
        List<Event> events = store.history(2, 0, 100, true).response().events();
        assertThat(events).extracting(e -> e.revision() + "." + e.subRevision() + " " + e.type() + " " + s(e.kv().key()))
                .containsExactly("2.0 PUT a", "3.0 PUT b", "4.0 PUT a", "5.0 DELETE a", "5.1 PUT c");
        assertThat(events.get(2).prevKv()).map(kv -> s(kv.value())).contains("1");
        assertThat(events.get(3).prevKv()).map(kv -> s(kv.value())).contains("2");
        assertThat(events.get(0).prevKv()).isEmpty();
        assertThat(events.get(2).kv().version()).isEqualTo(2);

        HistoryPage first = store.history(2, 0, 3, false).response();
        assertThat(first.more()).isTrue();
        Event last = first.events().getLast();
        HistoryPage rest = store.history(last.revision(), last.subRevision() + 1, 3, false).response();
        assertThat(rest.events()).extracting(e -> e.revision() + "." + e.subRevision()).containsExactly("5.0", "5.1");
        assertThat(rest.more()).isFalse();
    }

    @Test
    void errorsCarryStableCodesAndEtcdMessages() {
        assertThat(MvccError.COMPACTED.code()).isEqualTo("COMPACTED");
        assertThat(MvccError.COMPACTED.etcdMessage()).isEqualTo("mvcc: required revision has been compacted");
        assertThat(MvccError.FUTURE_REVISION.grpcStatus()).isEqualTo("OUT_OF_RANGE");
        assertThat(RangeRequest.prefixEnd(new byte[] {'a', (byte) 0xFF})).containsExactly('b');
        assertThat(RangeRequest.prefixEnd(new byte[] {(byte) 0xFF})).containsExactly(0);
        assertThat(Optional.empty()).isEmpty();
    }
}
