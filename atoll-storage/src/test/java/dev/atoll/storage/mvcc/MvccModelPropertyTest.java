package dev.atoll.storage.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random puts, deletes, txns, compactions and restarts against a plain in-memory model of
 * etcd's semantics; after every step every readable revision must read the same, and the
 * history must list the same changes.
 */
class MvccModelPropertyTest {
    private static final byte[][] KEYS = {{0}, {0, 0}, {'a'}, {'a', 0}, {'a', 'b'}, {(byte) 0xFF}, {(byte) 0xFF, 0}};
    private static final byte[][] PREFIXES = {{0}, {'a'}, {(byte) 0xFF}};

    sealed interface Op permits Put, Delete, Txn, Compact, Reopen {
    }

    record Put(int key, int value) implements Op {
    }

    /** kind 0 = single key, 1 = prefix, 2 = from key. */
    record Delete(int key, int kind) implements Op {
    }

    record Txn(int compareKey, int version, List<Op> success, List<Op> failure) implements Op {
    }

    record Compact(int back) implements Op {
    }

    record Reopen() implements Op {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> put = Combinators.combine(Arbitraries.integers().between(0, KEYS.length - 1),
                Arbitraries.integers().between(0, 3)).as(Put::new);
        Arbitrary<Op> delete = Combinators.combine(Arbitraries.integers().between(0, KEYS.length - 1),
                Arbitraries.integers().between(0, 2)).as(Delete::new);
        Arbitrary<Op> single = Combinators.combine(Arbitraries.integers().between(0, KEYS.length - 1),
                Arbitraries.integers().between(0, 3)).as((k, v) -> v == 3 ? new Delete(k, 0) : new Put(k, v));
        Arbitrary<List<Op>> branch = single.list().ofMaxSize(3);
        Arbitrary<Op> txn = Combinators.combine(Arbitraries.integers().between(0, KEYS.length - 1),
                Arbitraries.integers().between(0, 2), branch, branch).as(Txn::new);
        Arbitrary<Op> compact = Arbitraries.integers().between(0, 6).map(Compact::new);
        Arbitrary<Op> reopen = Arbitraries.just(new Reopen());
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, put), net.jqwik.api.Tuple.of(2, delete), net.jqwik.api.Tuple.of(3, txn),
                net.jqwik.api.Tuple.of(1, compact), net.jqwik.api.Tuple.of(1, reopen)).list().ofMinSize(5).ofMaxSize(40);
    }

    @Property(tries = 30)
    void storeMatchesModel(@ForAll("ops") List<Op> ops) throws IOException {
        Path dir = Files.createTempDirectory("mvcc-model");
        Model model = new Model();
        long index = 0;
        MvccStore store = MvccStore.open(dir.resolve("db"));
        try {
            for (Op op : ops) {
                LogPosition at = new LogPosition(++index, 1);
                switch (op) {
                    case Reopen r -> {
                        store.close();
                        store = MvccStore.open(dir.resolve("db"));
                        assertThat(store.appliedIndex()).isEqualTo(index - 1);
                        store.markApplied(at);
                    }
                    case Compact c -> {
                        long rev = model.revision - c.back();
                        MvccError expected = rev <= model.compacted ? MvccError.COMPACTED : null;
                        if (expected == null) {
                            model.compacted = rev;
                        }
                        Outcome<CompactResponse> o = store.compact(rev, at);
                        assertThat(errorOf(o)).isEqualTo(expected);
                    }
                    case Txn t -> {
                        Outcome<TxnResponse> o = store.txn(toRequest(t), at);
                        Boolean succeeded = model.txn(t);
                        if (succeeded == null) {
                            assertThat(errorOf(o)).isEqualTo(MvccError.DUPLICATE_KEY);
                        } else {
                            assertThat(o.response().succeeded()).isEqualTo(succeeded);
                            assertThat(o.response().revision()).isEqualTo(model.revision);
                        }
                    }
                    case Put p -> {
                        store.put(PutRequest.of(KEYS[p.key()], value(p.value())), at).response();
                        model.put(KEYS[p.key()], value(p.value()));
                        model.commit();
                    }
                    case Delete d -> {
                        DeleteRangeResponse r = store.deleteRange(deleteRequest(d), at).response();
                        assertThat(r.deleted()).isEqualTo(model.delete(deleteRequest(d)));
                        model.commit();
                    }
                }
                assertThat(store.currentRevision()).isEqualTo(model.revision);
                for (long rev = model.compacted; rev <= model.revision; rev++) {
                    RangeResponse r = store.range(RangeRequest.fromKey(new byte[] {0}).atRevision(Math.max(rev, 1)))
                            .response();
                    assertThat(r.kvs()).as("at revision %d", rev).isEqualTo(model.range(Math.max(rev, 1)));
                }
                if (model.compacted > 1) {
                    assertThat(errorOf(store.range(RangeRequest.of(KEYS[0]).atRevision(model.compacted - 1))))
                            .isEqualTo(MvccError.COMPACTED);
                }
            }
            List<String> history = store.history(model.compacted, 0, 10_000, false).response().events().stream()
                    .map(e -> e.revision() + "." + e.subRevision() + e.type() + Arrays.toString(e.kv().key()))
                    .toList();
            assertThat(history).isEqualTo(model.events.stream().filter(e -> e.revision >= model.compacted)
                    .map(ModelEvent::toString).toList());
        } finally {
            store.close();
            deleteTree(dir);
        }
    }

    static byte[] value(int v) {
        return new byte[] {(byte) v, 0, (byte) 0xFF};
    }

    static DeleteRangeRequest deleteRequest(Delete d) {
        return switch (d.kind()) {
            case 0 -> DeleteRangeRequest.of(KEYS[d.key()]);
            case 1 -> DeleteRangeRequest.ofPrefix(PREFIXES[d.key() % PREFIXES.length]);
            default -> DeleteRangeRequest.ofRange(KEYS[d.key()], RangeRequest.FROM_KEY);
        };
    }

    static TxnRequest toRequest(Txn t) {
        return new TxnRequest(List.of(Compare.version(KEYS[t.compareKey()], Compare.Result.EQUAL, t.version())),
                t.success().stream().map(MvccModelPropertyTest::toOp).toList(),
                t.failure().stream().map(MvccModelPropertyTest::toOp).toList());
    }

    static RequestOp toOp(Op op) {
        return switch (op) {
            case Put p -> PutRequest.of(KEYS[p.key()], value(p.value()));
            case Delete d -> deleteRequest(d);
            default -> throw new IllegalArgumentException(op.toString());
        };
    }

    static MvccError errorOf(Outcome<?> o) {
        return o instanceof Outcome.Refused<?> r ? r.error() : null;
    }

    record Version(long modRevision, long createRevision, long version, byte[] value) {
        boolean tombstone() {
            return value == null;
        }
    }

    record ModelEvent(long revision, long sub, String type, byte[] key) {
        @Override
        public String toString() {
            return revision + "." + sub + type + Arrays.toString(key);
        }
    }

    /** etcd's semantics, the obvious way: every version of every key in a sorted map. */
    static final class Model {
        final TreeMap<byte[], List<Version>> versions = new TreeMap<>(Arrays::compareUnsigned);
        final List<ModelEvent> events = new ArrayList<>();
        long revision = 1;
        long compacted = 0;
        long sub = 0;

        Version latest(byte[] key, long rev) {
            Version found = null;
            for (Version v : versions.getOrDefault(key, List.of())) {
                if (v.modRevision() <= rev) {
                    found = v;
                }
            }
            return found == null || found.tombstone() ? null : found;
        }

        void put(byte[] key, byte[] value) {
            long rev = revision + 1;
            Version cur = latest(key, rev);
            versions.computeIfAbsent(key, k -> new ArrayList<>()).add(new Version(rev,
                    cur == null ? rev : cur.createRevision(), cur == null ? 1 : cur.version() + 1, value));
            events.add(new ModelEvent(rev, sub++, "PUT", key));
        }

        long delete(DeleteRangeRequest d) {
            long rev = revision + 1;
            long deleted = 0;
            for (Map.Entry<byte[], List<Version>> e : versions.entrySet()) {
                if (RangeScan.contains(d.key(), d.rangeEnd(), e.getKey()) && latest(e.getKey(), rev) != null) {
                    e.getValue().add(new Version(rev, 0, 0, null));
                    events.add(new ModelEvent(rev, sub++, "DELETE", e.getKey()));
                    deleted++;
                }
            }
            return deleted;
        }

        void commit() {
            if (sub > 0) {
                revision++;
            }
            sub = 0;
        }

        /** null = refused as a duplicate key. */
        Boolean txn(Txn t) {
            for (List<Op> branch : List.of(t.success(), t.failure())) {
                Set<String> puts = new HashSet<>();
                for (Op op : branch) {
                    if (op instanceof Put p && !puts.add(Arrays.toString(KEYS[p.key()]))) {
                        return null;
                    }
                }
                for (Op op : branch) {
                    if (op instanceof Delete d) {
                        for (String k : puts) {
                            for (byte[] key : KEYS) {
                                if (Arrays.toString(key).equals(k)
                                        && RangeScan.contains(deleteRequest(d).key(), deleteRequest(d).rangeEnd(), key)) {
                                    return null;
                                }
                            }
                        }
                    }
                }
            }
            Version v = latest(KEYS[t.compareKey()], revision);
            boolean succeeded = (v == null ? 0 : v.version()) == t.version();
            // etcd runs deletes and puts in op order; here the ops of one branch touch distinct keys.
            for (Op op : succeeded ? t.success() : t.failure()) {
                switch (op) {
                    case Put p -> put(KEYS[p.key()], value(p.value()));
                    case Delete d -> delete(deleteRequest(d));
                    default -> throw new IllegalStateException();
                }
            }
            commit();
            return succeeded;
        }

        List<KeyValue> range(long rev) {
            List<KeyValue> out = new ArrayList<>();
            for (byte[] key : versions.keySet()) {
                Version v = latest(key, rev);
                if (v != null) {
                    out.add(new KeyValue(key, v.createRevision(), v.modRevision(), v.version(), v.value(), 0));
                }
            }
            return out;
        }
    }

    static void deleteTree(Path d) throws IOException {
        try (Stream<Path> paths = Files.walk(d)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
