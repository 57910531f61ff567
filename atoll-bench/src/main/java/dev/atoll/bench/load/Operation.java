package dev.atoll.bench.load;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.Compare;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.PutResponse;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.proto.etcd.RangeResponse;
import dev.atoll.proto.etcd.RequestOp;
import dev.atoll.proto.etcd.TxnRequest;
import dev.atoll.proto.etcd.TxnResponse;
import io.grpc.stub.StreamObserver;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One kind of etcd v3 request the load generator sends. {@link #issue} starts one request on
 * the caller's stub and reports its end to {@code done} exactly once, on a gRPC thread.
 * Implementations are shared by every client and thread-safe; per-client state (the random
 * source) comes in as an argument.
 */
sealed interface Operation permits Operation.Put, Operation.Range, Operation.CompareAndSwap, Operation.Mixed {

    /** How a request ended: succeeded, or failed with the error gRPC gave. */
    interface Done {
        void succeeded();

        void failed(Throwable error);
    }

    void issue(KVGrpc.KVStub stub, SplittableRandom random, Done done);

    static Operation of(LoadOptions options, KeySpace keys) {
        ByteString value = ByteString.copyFrom(filler(options.valueBytes()));
        var range = new Range(keys, options.consistency() == LoadOptions.Consistency.SERIALIZABLE);
        return switch (options.workload()) {
            case PUT -> new Put(keys, value, false);
            case WATCH -> new Put(keys, value.substring(WatchLoad.STAMP_BYTES), true);
            case RANGE, GET -> range;
            case TXN -> new CompareAndSwap(keys, options.txnCompare(), options.valueBytes());
            case MIXED -> new Mixed(range, new Put(keys, value, false), options.readRatio());
        };
    }

    /** The value every put writes: printable, so a human can read it back with etcdctl. */
    static byte[] filler(int bytes) {
        byte[] v = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            v[i] = (byte) ('a' + i % 26);
        }
        return v;
    }

    /** An observer that reports only the end of a unary call. */
    static <T> StreamObserver<T> ending(Done done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
            }

            @Override
            public void onError(Throwable t) {
                done.failed(t);
            }

            @Override
            public void onCompleted() {
                done.succeeded();
            }
        };
    }

    /**
     * KV.Put of a drawn key. When {@code stamped}, the value starts with the send time
     * ({@link System#nanoTime}, big-endian) followed by {@code tail}, for the watch workload
     * to measure delivery latency in the same process.
     */
    record Put(KeySpace keys, ByteString tail, boolean stamped) implements Operation {
        @Override
        public void issue(KVGrpc.KVStub stub, SplittableRandom random, Done done) {
            ByteString value = stamped ? WatchLoad.stamp(System.nanoTime()).concat(tail) : tail;
            stub.put(PutRequest.newBuilder().setKey(keys.key(keys.nextIndex(random))).setValue(value).build(),
                    Operation.<PutResponse>ending(done));
        }
    }

    /** KV.Range of one drawn key. */
    record Range(KeySpace keys, boolean serializable) implements Operation {
        @Override
        public void issue(KVGrpc.KVStub stub, SplittableRandom random, Done done) {
            stub.range(RangeRequest.newBuilder().setKey(keys.key(keys.nextIndex(random)))
                    .setSerializable(serializable).build(), Operation.<RangeResponse>ending(done));
        }
    }

    /** A range with probability {@code readRatio}, else a put. */
    record Mixed(Range range, Put put, double readRatio) implements Operation {
        @Override
        public void issue(KVGrpc.KVStub stub, SplittableRandom random, Done done) {
            if (random.nextDouble() < readRatio) {
                range.issue(stub, random, done);
            } else {
                put.issue(stub, random, done);
            }
        }
    }

    /**
     * KV.Txn compare-and-swap: if the key's mod revision (or value) is still what this process
     * last saw, put a new value, else read the key. Either branch is a completed request; the
     * outcome counts go to {@link #swapped()} and {@link #conflicted()}. What was last seen is
     * shared by all clients, so concurrent clients on a hot key conflict as real ones would.
     * An absent key is compared as create revision 0 (etcd's test for "does not exist").
     */
    final class CompareAndSwap implements Operation {
        private final KeySpace keys;
        private final LoadOptions.TxnCompare compare;
        private final ByteString tail;
        private final AtomicLongArray modRevisions;
        private final AtomicReferenceArray<ByteString> values;
        private final LongAdder swapped = new LongAdder();
        private final LongAdder conflicted = new LongAdder();

        CompareAndSwap(KeySpace keys, LoadOptions.TxnCompare compare, int valueBytes) {
            this.keys = keys;
            this.compare = compare;
            // values differ by an 8-byte random head, so a value compare can tell them apart
            this.tail = ByteString.copyFrom(filler(Math.max(0, valueBytes - Long.BYTES)));
            this.modRevisions = new AtomicLongArray(keys.keyCount());
            this.values = new AtomicReferenceArray<>(keys.keyCount());
        }

        long swapped() {
            return swapped.sum();
        }

        long conflicted() {
            return conflicted.sum();
        }

        @Override
        public void issue(KVGrpc.KVStub stub, SplittableRandom random, Done done) {
            int index = keys.nextIndex(random);
            ByteString key = keys.key(index);
            Compare.Builder guard = Compare.newBuilder().setKey(key).setResult(Compare.CompareResult.EQUAL);
            ByteString seenValue = values.get(index);
            long seenRevision = modRevisions.get(index);
            if (compare == LoadOptions.TxnCompare.MOD) {
                guard.setTarget(Compare.CompareTarget.MOD).setModRevision(seenRevision);
            } else if (seenValue == null) {
                guard.setTarget(Compare.CompareTarget.CREATE).setCreateRevision(0);
            } else {
                guard.setTarget(Compare.CompareTarget.VALUE).setValue(seenValue);
            }
            ByteString newValue = ByteString.copyFrom(ByteBuffer.allocate(Long.BYTES).putLong(0, random.nextLong()))
                    .concat(tail);
            var request = TxnRequest.newBuilder().addCompare(guard)
                    .addSuccess(RequestOp.newBuilder().setRequestPut(
                            PutRequest.newBuilder().setKey(key).setValue(newValue)))
                    .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
                    .build();
            stub.txn(request, new StreamObserver<>() {
                @Override
                public void onNext(TxnResponse response) {
                    if (response.getSucceeded()) {
                        swapped.increment();
                        modRevisions.set(index, response.getHeader().getRevision());
                        values.set(index, newValue);
                    } else {
                        conflicted.increment();
                        RangeResponse current = response.getResponses(0).getResponseRange();
                        boolean absent = current.getKvsCount() == 0;
                        modRevisions.set(index, absent ? 0 : current.getKvs(0).getModRevision());
                        values.set(index, absent ? null : current.getKvs(0).getValue());
                    }
                }

                @Override
                public void onError(Throwable t) {
                    done.failed(t);
                }

                @Override
                public void onCompleted() {
                    done.succeeded();
                }
            });
        }
    }
}
