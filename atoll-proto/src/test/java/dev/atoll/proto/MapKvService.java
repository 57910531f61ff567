package dev.atoll.proto;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.PutResponse;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.proto.etcd.RangeResponse;
import dev.atoll.proto.etcd.ResponseHeader;
import dev.atoll.proto.etcd.mvcc.KeyValue;
import io.grpc.stub.StreamObserver;

import java.util.Comparator;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Test-only etcd KV service on a sorted map: Range and Put with revisions, enough for real etcd
 * clients to put and get through our generated base class. Synchronized: tests are tiny.
 */
final class MapKvService extends KVGrpc.KVImplBase {
    static final long CLUSTER_ID = 0x41544f4cL;
    static final long MEMBER_ID = 1;

    private static final Comparator<ByteString> KEY_ORDER = ByteString.unsignedLexicographicalComparator();
    private static final ByteString ALL = ByteString.copyFrom(new byte[] {0});

    private final NavigableMap<ByteString, KeyValue> keys = new TreeMap<>(KEY_ORDER);
    private long revision = 1;

    @Override
    public synchronized void put(PutRequest request, StreamObserver<PutResponse> response) {
        revision++;
        KeyValue previous = keys.get(request.getKey());
        KeyValue written = KeyValue.newBuilder()
                .setKey(request.getKey())
                .setValue(request.getValue())
                .setLease(request.getLease())
                .setCreateRevision(previous == null ? revision : previous.getCreateRevision())
                .setModRevision(revision)
                .setVersion(previous == null ? 1 : previous.getVersion() + 1)
                .build();
        keys.put(request.getKey(), written);
        var reply = PutResponse.newBuilder().setHeader(header());
        if (request.getPrevKv() && previous != null) {
            reply.setPrevKv(previous);
        }
        response.onNext(reply.build());
        response.onCompleted();
    }

    @Override
    public synchronized void range(RangeRequest request, StreamObserver<RangeResponse> response) {
        NavigableMap<ByteString, KeyValue> selected = selected(request.getKey(), request.getRangeEnd());
        var reply = RangeResponse.newBuilder().setHeader(header()).setCount(selected.size());
        if (!request.getCountOnly()) {
            long limit = request.getLimit() <= 0 ? Long.MAX_VALUE : request.getLimit();
            selected.values().stream().limit(limit).forEach(kv ->
                    reply.addKvs(request.getKeysOnly() ? kv.toBuilder().clearValue().build() : kv));
            reply.setMore(selected.size() > limit);
        }
        response.onNext(reply.build());
        response.onCompleted();
    }

    /** etcd's range rules: empty end is one key, "\0" is everything from key on. */
    private NavigableMap<ByteString, KeyValue> selected(ByteString key, ByteString rangeEnd) {
        if (rangeEnd.isEmpty()) {
            KeyValue kv = keys.get(key);
            NavigableMap<ByteString, KeyValue> one = new TreeMap<>(KEY_ORDER);
            if (kv != null) {
                one.put(key, kv);
            }
            return one;
        }
        if (rangeEnd.equals(ALL)) {
            return keys.tailMap(key, true);
        }
        return KEY_ORDER.compare(key, rangeEnd) >= 0 ? new TreeMap<>(KEY_ORDER) : keys.subMap(key, true, rangeEnd, false);
    }

    private ResponseHeader header() {
        return ResponseHeader.newBuilder()
                .setClusterId(CLUSTER_ID)
                .setMemberId(MEMBER_ID)
                .setRevision(revision)
                .setRaftTerm(1)
                .build();
    }
}
