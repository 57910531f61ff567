package dev.atoll.server.shard;

import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.shard.ShardDescriptor;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The stable error codes of the admin and shard KV APIs. A refusal is a gRPC status whose
 * description starts with {@code "atoll: <CODE>: "}, with the code also in the trailer
 * {@link #CODE_TRAILER}; "shard moved" carries the shard now holding the key in
 * {@link #SHARD_TRAILER}. Clients match on the code, never on the words after it.
 */
public enum ShardError {
    INVALID_KEYSPACE(Status.Code.INVALID_ARGUMENT),
    INVALID_REQUEST(Status.Code.INVALID_ARGUMENT),
    KEYSPACE_NOT_FOUND(Status.Code.NOT_FOUND),
    KEYSPACE_EXISTS(Status.Code.ALREADY_EXISTS),
    SHARD_NOT_FOUND(Status.Code.NOT_FOUND),
    NODE_NOT_FOUND(Status.Code.NOT_FOUND),
    UNPLACEABLE(Status.Code.FAILED_PRECONDITION),
    MOVE_REFUSED(Status.Code.FAILED_PRECONDITION),
    /** Two range shards of a merge do not touch (or the shard named alone has no neighbour on that side). */
    MERGE_NOT_ADJACENT(Status.Code.FAILED_PRECONDITION),
    MERGE_KEYSPACE_MISMATCH(Status.Code.FAILED_PRECONDITION),
    /**
     * Directory shards do not merge (their table is edited instead); range, geo and hash shards
     * do. The name is kept from when only range shards merged: clients match on it.
     */
    MERGE_NOT_RANGE(Status.Code.FAILED_PRECONDITION),
    /** The shards' replicas are not on the same nodes (the rebalancer has to co-locate them first). */
    MERGE_NOT_COLOCATED(Status.Code.FAILED_PRECONDITION),
    /** A move, split or merge of one of the shards is not finished: try again once it is. */
    MERGE_IN_PROGRESS(Status.Code.FAILED_PRECONDITION),
    /** The source holds too much data for its rows to travel in one log entry. */
    MERGE_TOO_LARGE(Status.Code.FAILED_PRECONDITION),
    /** A directory edit names a keyspace that is not a directory keyspace. */
    NOT_DIRECTORY(Status.Code.FAILED_PRECONDITION),
    /** A directory entry names a shard that is not one of its keyspace's. */
    DIRECTORY_SHARD_MISMATCH(Status.Code.FAILED_PRECONDITION),
    DIRECTORY_ENTRY_NOT_FOUND(Status.Code.NOT_FOUND),
    /** An earlier directory edit's data still moves: edit again once it is done. */
    DIRECTORY_MOVE_IN_PROGRESS(Status.Code.FAILED_PRECONDITION),
    /**
     * Keys of the shards named are moving (slots or directory entries): a slot move, split or merge
     * waits until that data move is done.
     */
    DATA_MOVE_IN_PROGRESS(Status.Code.FAILED_PRECONDITION),
    REJECTED(Status.Code.FAILED_PRECONDITION),
    STALE_EPOCH(Status.Code.ABORTED),
    SHARD_MOVED(Status.Code.FAILED_PRECONDITION),
    NOT_HOSTED(Status.Code.UNAVAILABLE),
    NO_LEADER(Status.Code.UNAVAILABLE),
    OUTCOME_UNKNOWN(Status.Code.UNAVAILABLE),
    OVERLOADED(Status.Code.RESOURCE_EXHAUSTED),
    TIMEOUT(Status.Code.DEADLINE_EXCEEDED),
    STOPPING(Status.Code.UNAVAILABLE),
    /** The cluster is starting: the meta group has not applied its member table yet. Retry. */
    STARTING(Status.Code.UNAVAILABLE);

    public static final Metadata.Key<String> CODE_TRAILER = Metadata.Key.of("atoll-error",
            Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<byte[]> SHARD_TRAILER = Metadata.Key.of("atoll-shard-bin",
            Metadata.BINARY_BYTE_MARSHALLER);

    private final Status.Code grpcCode;

    ShardError(Status.Code grpcCode) {
        this.grpcCode = grpcCode;
    }

    public Status.Code grpcCode() {
        return grpcCode;
    }

    /** The status answering this error, {@code detail} saying what in words. */
    public StatusRuntimeException toStatus(String detail) {
        var trailers = new Metadata();
        trailers.put(CODE_TRAILER, name());
        return Status.fromCode(grpcCode).withDescription("atoll: " + name() + ": " + detail)
                .asRuntimeException(trailers);
    }

    /** "Shard moved": the key is in {@code owner} now. */
    public static StatusRuntimeException shardMoved(ShardDescriptor owner) {
        var trailers = new Metadata();
        trailers.put(CODE_TRAILER, SHARD_MOVED.name());
        trailers.put(SHARD_TRAILER, ShardCodec.encode(owner).toByteArray());
        return Status.fromCode(SHARD_MOVED.grpcCode).withDescription("atoll: SHARD_MOVED: the key is in " + owner.id()
                + " at " + owner.epoch()).asRuntimeException(trailers);
    }

    /** The code of a status this API answered, if it is one of ours. */
    public static java.util.Optional<ShardError> of(Throwable t) {
        Metadata trailers = Status.trailersFromThrowable(t);
        String code = trailers == null ? null : trailers.get(CODE_TRAILER);
        if (code == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(valueOf(code));
        } catch (IllegalArgumentException unknown) {
            return java.util.Optional.empty();
        }
    }

    /** The shard a "shard moved" answer names. */
    public static java.util.Optional<ShardDescriptor> movedTo(Throwable t) {
        Metadata trailers = Status.trailersFromThrowable(t);
        byte[] bytes = trailers == null ? null : trailers.get(SHARD_TRAILER);
        if (bytes == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(ShardCodec.decode(ShardRecord.parseFrom(bytes)));
        } catch (com.google.protobuf.InvalidProtocolBufferException | ShardCodec.MalformedShardRecord bad) {
            return java.util.Optional.empty();
        }
    }
}
