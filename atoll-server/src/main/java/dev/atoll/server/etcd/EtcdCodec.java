package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.ResponseHeader;
import dev.atoll.proto.etcd.ResponseOp;
import dev.atoll.storage.mvcc.Compare;
import dev.atoll.storage.mvcc.DeleteRangeRequest;
import dev.atoll.storage.mvcc.DeleteRangeResponse;
import dev.atoll.storage.mvcc.Event;
import dev.atoll.storage.mvcc.KeyValue;
import dev.atoll.storage.mvcc.MvccError;
import dev.atoll.storage.mvcc.PutRequest;
import dev.atoll.storage.mvcc.PutResponse;
import dev.atoll.storage.mvcc.RangeRequest;
import dev.atoll.storage.mvcc.RangeResponse;
import dev.atoll.storage.mvcc.RequestOp;
import dev.atoll.storage.mvcc.TxnRequest;
import dev.atoll.storage.mvcc.TxnResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Converts between etcd's wire messages (etcdserverpb, mvccpb) and the MVCC store's records,
 * and maps store refusals and runtime failures to the gRPC status etcd answers with (same
 * code, same message text, so etcdctl and client libraries recognise them). Stateless.
 */
public final class EtcdCodec {
    private EtcdCodec() {
    }

    /** A wire message that cannot be turned into a store request (an enum value we do not know). */
    public static final class MalformedRequestException extends RuntimeException {
        public MalformedRequestException(String message) {
            super(message, null, false, false);
        }
    }

    // ------------------------------------------------------------------ errors (etcd api/v3rpc/rpctypes)

    public static final String NO_LEADER = "etcdserver: no leader";
    public static final String LEADER_CHANGED = "etcdserver: leader changed";
    public static final String REQUEST_TIMED_OUT = "etcdserver: request timed out";
    public static final String REQUEST_TOO_LARGE = "etcdserver: request is too large";
    public static final String TOO_MANY_REQUESTS = "etcdserver: too many requests";
    public static final String SERVER_STOPPED = "etcdserver: server stopped";

    public static StatusRuntimeException noLeader() {
        return Status.UNAVAILABLE.withDescription(NO_LEADER).asRuntimeException();
    }

    public static StatusRuntimeException leaderChanged() {
        return Status.UNAVAILABLE.withDescription(LEADER_CHANGED).asRuntimeException();
    }

    public static StatusRuntimeException requestTimedOut() {
        return Status.UNAVAILABLE.withDescription(REQUEST_TIMED_OUT).asRuntimeException();
    }

    public static StatusRuntimeException requestTooLarge() {
        return Status.INVALID_ARGUMENT.withDescription(REQUEST_TOO_LARGE).asRuntimeException();
    }

    public static StatusRuntimeException tooManyRequests() {
        return Status.RESOURCE_EXHAUSTED.withDescription(TOO_MANY_REQUESTS).asRuntimeException();
    }

    public static StatusRuntimeException serverStopped() {
        return Status.UNAVAILABLE.withDescription(SERVER_STOPPED).asRuntimeException();
    }

    public static StatusRuntimeException malformed(String detail) {
        return Status.INVALID_ARGUMENT.withDescription("etcdserver: malformed request: " + detail).asRuntimeException();
    }

    /**
     * The status etcd answers for a store refusal. The errors etcd has are answered with its
     * exact code and text; Atoll's own bounds (negative lease id or TTL, range or lease count
     * over the store's bound) keep the store's text with the code the store names.
     */
    public static StatusRuntimeException toStatus(MvccError error) {
        return switch (error) {
            case COMPACTED -> status(Status.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
            case FUTURE_REVISION -> status(Status.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
            case EMPTY_KEY -> status(Status.INVALID_ARGUMENT, "etcdserver: key is not provided");
            case KEY_TOO_LARGE, VALUE_TOO_LARGE -> status(Status.INVALID_ARGUMENT, REQUEST_TOO_LARGE);
            case TOO_MANY_OPS, TXN_TOO_DEEP -> status(Status.INVALID_ARGUMENT,
                    "etcdserver: too many operations in txn request");
            case DUPLICATE_KEY -> status(Status.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
            case KEY_NOT_FOUND -> status(Status.INVALID_ARGUMENT, "etcdserver: key not found");
            case VALUE_PROVIDED -> status(Status.INVALID_ARGUMENT, "etcdserver: value is provided");
            case LEASE_PROVIDED -> status(Status.INVALID_ARGUMENT, "etcdserver: lease is provided");
            case LEASE_NOT_FOUND -> status(Status.NOT_FOUND, "etcdserver: requested lease not found");
            case LEASE_EXISTS -> status(Status.FAILED_PRECONDITION, "etcdserver: lease already exists");
            case LEASE_TTL_TOO_LARGE -> status(Status.OUT_OF_RANGE, "etcdserver: too large lease TTL");
            case RANGE_TOO_LARGE, LEASE_ID_INVALID, LEASE_TTL_NEGATIVE, LEASE_COUNT_EXCEEDED ->
                    status(Status.fromCode(Status.Code.valueOf(error.grpcStatus())), error.etcdMessage());
        };
    }

    /** The status etcd answers for a refused membership request: its exact code and text. */
    public static StatusRuntimeException toStatus(dev.atoll.server.cluster.MemberError error) {
        return status(Status.fromCode(Status.Code.valueOf(error.grpcStatus())), error.etcdMessage());
    }

    private static StatusRuntimeException status(Status status, String message) {
        return status.withDescription(message).asRuntimeException();
    }

    // ------------------------------------------------------------------ requests: wire -> store

    public static PutRequest toStore(dev.atoll.proto.etcd.PutRequest r) {
        return new PutRequest(r.getKey().toByteArray(), r.getValue().toByteArray(), r.getLease(), r.getPrevKv(),
                r.getIgnoreValue(), r.getIgnoreLease());
    }

    public static RangeRequest toStore(dev.atoll.proto.etcd.RangeRequest r) {
        RangeRequest.SortOrder order = switch (r.getSortOrder()) {
            case NONE -> RangeRequest.SortOrder.NONE;
            case ASCEND -> RangeRequest.SortOrder.ASCEND;
            case DESCEND -> RangeRequest.SortOrder.DESCEND;
            case UNRECOGNIZED -> throw new MalformedRequestException("unknown sort_order " + r.getSortOrderValue());
        };
        RangeRequest.SortTarget target = switch (r.getSortTarget()) {
            case KEY -> RangeRequest.SortTarget.KEY;
            case VERSION -> RangeRequest.SortTarget.VERSION;
            case CREATE -> RangeRequest.SortTarget.CREATE;
            case MOD -> RangeRequest.SortTarget.MOD;
            case VALUE -> RangeRequest.SortTarget.VALUE;
            case UNRECOGNIZED -> throw new MalformedRequestException("unknown sort_target " + r.getSortTargetValue());
        };
        return new RangeRequest(r.getKey().toByteArray(), r.getRangeEnd().toByteArray(), r.getRevision(), r.getLimit(),
                order, target, r.getKeysOnly(), r.getCountOnly(), r.getMinModRevision(), r.getMaxModRevision(),
                r.getMinCreateRevision(), r.getMaxCreateRevision());
    }

    public static DeleteRangeRequest toStore(dev.atoll.proto.etcd.DeleteRangeRequest r) {
        return new DeleteRangeRequest(r.getKey().toByteArray(), r.getRangeEnd().toByteArray(), r.getPrevKv());
    }

    public static TxnRequest toStore(dev.atoll.proto.etcd.TxnRequest r) {
        List<Compare> compares = new ArrayList<>(r.getCompareCount());
        for (dev.atoll.proto.etcd.Compare c : r.getCompareList()) {
            compares.add(toStore(c));
        }
        return new TxnRequest(compares, toStore(r.getSuccessList()), toStore(r.getFailureList()));
    }

    private static List<RequestOp> toStore(List<dev.atoll.proto.etcd.RequestOp> ops) {
        List<RequestOp> out = new ArrayList<>(ops.size());
        for (dev.atoll.proto.etcd.RequestOp op : ops) {
            out.add(switch (op.getRequestCase()) {
                case REQUEST_RANGE -> toStore(op.getRequestRange());
                case REQUEST_PUT -> toStore(op.getRequestPut());
                case REQUEST_DELETE_RANGE -> toStore(op.getRequestDeleteRange());
                case REQUEST_TXN -> toStore(op.getRequestTxn());
                case REQUEST_NOT_SET -> throw new MalformedRequestException("txn op without a request");
            });
        }
        return out;
    }

    static Compare toStore(dev.atoll.proto.etcd.Compare c) {
        Compare.Result result = switch (c.getResult()) {
            case EQUAL -> Compare.Result.EQUAL;
            case NOT_EQUAL -> Compare.Result.NOT_EQUAL;
            case GREATER -> Compare.Result.GREATER;
            case LESS -> Compare.Result.LESS;
            case UNRECOGNIZED -> throw new MalformedRequestException("unknown compare result " + c.getResultValue());
        };
        // etcd reads the union member named by the target; an unset union compares against 0 / empty
        return switch (c.getTarget()) {
            case VERSION -> new Compare(c.getKey().toByteArray(), c.getRangeEnd().toByteArray(),
                    Compare.Target.VERSION, result, c.getVersion(), null);
            case CREATE -> new Compare(c.getKey().toByteArray(), c.getRangeEnd().toByteArray(),
                    Compare.Target.CREATE_REVISION, result, c.getCreateRevision(), null);
            case MOD -> new Compare(c.getKey().toByteArray(), c.getRangeEnd().toByteArray(),
                    Compare.Target.MOD_REVISION, result, c.getModRevision(), null);
            case LEASE -> new Compare(c.getKey().toByteArray(), c.getRangeEnd().toByteArray(),
                    Compare.Target.LEASE, result, c.getLease(), null);
            case VALUE -> new Compare(c.getKey().toByteArray(), c.getRangeEnd().toByteArray(),
                    Compare.Target.VALUE, result, 0, c.getValue().toByteArray());
            case UNRECOGNIZED -> throw new MalformedRequestException("unknown compare target " + c.getTargetValue());
        };
    }

    // ------------------------------------------------------------------ responses: store -> wire

    public static dev.atoll.proto.etcd.mvcc.KeyValue toProto(KeyValue kv) {
        return dev.atoll.proto.etcd.mvcc.KeyValue.newBuilder()
                .setKey(ByteString.copyFrom(kv.key()))
                .setCreateRevision(kv.createRevision())
                .setModRevision(kv.modRevision())
                .setVersion(kv.version())
                .setValue(ByteString.copyFrom(kv.value()))
                .setLease(kv.lease())
                .build();
    }

    public static dev.atoll.proto.etcd.mvcc.Event toProto(Event e) {
        var b = dev.atoll.proto.etcd.mvcc.Event.newBuilder()
                .setType(e.type() == Event.Type.PUT ? dev.atoll.proto.etcd.mvcc.Event.EventType.PUT
                        : dev.atoll.proto.etcd.mvcc.Event.EventType.DELETE)
                .setKv(toProto(e.kv()));
        e.prevKv().ifPresent(prev -> b.setPrevKv(toProto(prev)));
        return b.build();
    }

    /** {@code headerAt} builds the response header for a store revision (cluster, member, term filled in). */
    public static dev.atoll.proto.etcd.RangeResponse toProto(RangeResponse r, LongFunction<ResponseHeader> headerAt) {
        var b = dev.atoll.proto.etcd.RangeResponse.newBuilder()
                .setHeader(headerAt.apply(r.revision()))
                .setMore(r.more())
                .setCount(r.count());
        for (KeyValue kv : r.kvs()) {
            b.addKvs(toProto(kv));
        }
        return b.build();
    }

    public static dev.atoll.proto.etcd.PutResponse toProto(PutResponse r, LongFunction<ResponseHeader> headerAt) {
        var b = dev.atoll.proto.etcd.PutResponse.newBuilder().setHeader(headerAt.apply(r.revision()));
        r.prevKv().ifPresent(prev -> b.setPrevKv(toProto(prev)));
        return b.build();
    }

    public static dev.atoll.proto.etcd.DeleteRangeResponse toProto(DeleteRangeResponse r,
                                                                   LongFunction<ResponseHeader> headerAt) {
        var b = dev.atoll.proto.etcd.DeleteRangeResponse.newBuilder()
                .setHeader(headerAt.apply(r.revision()))
                .setDeleted(r.deleted());
        for (KeyValue kv : r.prevKvs()) {
            b.addPrevKvs(toProto(kv));
        }
        return b.build();
    }

    public static dev.atoll.proto.etcd.TxnResponse toProto(TxnResponse r, LongFunction<ResponseHeader> headerAt) {
        var b = dev.atoll.proto.etcd.TxnResponse.newBuilder()
                .setHeader(headerAt.apply(r.revision()))
                .setSucceeded(r.succeeded());
        for (dev.atoll.storage.mvcc.ResponseOp op : r.responses()) {
            b.addResponses(switch (op) {
                case RangeResponse x -> ResponseOp.newBuilder().setResponseRange(toProto(x, headerAt)).build();
                case PutResponse x -> ResponseOp.newBuilder().setResponsePut(toProto(x, headerAt)).build();
                case DeleteRangeResponse x -> ResponseOp.newBuilder()
                        .setResponseDeleteRange(toProto(x, headerAt)).build();
                case TxnResponse x -> ResponseOp.newBuilder().setResponseTxn(toProto(x, headerAt)).build();
            });
        }
        return b.build();
    }
}
