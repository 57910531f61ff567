package dev.atoll.server.etcd;

import dev.atoll.proto.etcd.CompactionRequest;
import dev.atoll.proto.etcd.CompactionResponse;
import dev.atoll.proto.etcd.DeleteRangeRequest;
import dev.atoll.proto.etcd.DeleteRangeResponse;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.PutResponse;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.proto.etcd.RangeResponse;
import dev.atoll.proto.etcd.TxnRequest;
import dev.atoll.proto.etcd.TxnResponse;
import dev.atoll.proto.log.Command;
import dev.atoll.storage.mvcc.CompactResponse;
import dev.atoll.storage.mvcc.Outcome;
import io.grpc.stub.StreamObserver;

/**
 * etcd's KV service. Writes (Put, DeleteRange, Txn, Compact) go through the Raft log; Range is
 * linearizable (a read barrier, then the local store) unless the request says serializable.
 * A refused request changes nothing and is answered with etcd's status.
 */
public final class KvService extends KVGrpc.KVImplBase {
    private final EtcdGroup group;

    public KvService(EtcdGroup group) {
        this.group = group;
    }

    @Override
    public void range(RangeRequest request, StreamObserver<RangeResponse> out) {
        dev.atoll.storage.mvcc.RangeRequest storeRequest;
        try {
            storeRequest = EtcdCodec.toStore(request);
        } catch (EtcdCodec.MalformedRequestException e) {
            out.onError(EtcdCodec.malformed(e.getMessage()));
            return;
        }
        group.read(KVGrpc.getRangeMethod(), request, request.getSerializable(), () -> {
            return switch (group.stateMachine().range(storeRequest)) {
                case Outcome.Done<dev.atoll.storage.mvcc.RangeResponse> done ->
                        EtcdCodec.toProto(done.response(), group::header);
                case Outcome.Refused<dev.atoll.storage.mvcc.RangeResponse> refused ->
                        throw EtcdCodec.toStatus(refused.error());
                case Outcome.AlreadyApplied<dev.atoll.storage.mvcc.RangeResponse> a ->
                        throw new IllegalStateException("a read is never already applied");
            };
        }, out);
    }

    @Override
    public void put(PutRequest request, StreamObserver<PutResponse> out) {
        group.write(KVGrpc.getPutMethod(), request, Command.newBuilder().setPut(request),
                r -> EtcdCodec.toProto((dev.atoll.storage.mvcc.PutResponse) r, group::header), out);
    }

    @Override
    public void deleteRange(DeleteRangeRequest request, StreamObserver<DeleteRangeResponse> out) {
        group.write(KVGrpc.getDeleteRangeMethod(), request, Command.newBuilder().setDeleteRange(request),
                r -> EtcdCodec.toProto((dev.atoll.storage.mvcc.DeleteRangeResponse) r, group::header), out);
    }

    @Override
    public void txn(TxnRequest request, StreamObserver<TxnResponse> out) {
        try {
            EtcdCodec.toStore(request); // refuse what cannot be decoded before it reaches the log
        } catch (EtcdCodec.MalformedRequestException e) {
            out.onError(EtcdCodec.malformed(e.getMessage()));
            return;
        }
        group.write(KVGrpc.getTxnMethod(), request, Command.newBuilder().setTxn(request),
                r -> EtcdCodec.toProto((dev.atoll.storage.mvcc.TxnResponse) r, group::header), out);
    }

    @Override
    public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
        group.write(KVGrpc.getCompactMethod(), request, Command.newBuilder().setCompaction(request),
                r -> CompactionResponse.newBuilder()
                        .setHeader(group.header(((CompactResponse) r).revision())).build(), out);
    }
}
