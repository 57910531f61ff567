package dev.atoll.storage.mvcc;

/**
 * Why the MVCC store refused a request. The {@link #code()} is stable (it is what logs,
 * metrics and clients match on); {@link #etcdMessage()} and {@link #grpcStatus()} are what
 * etcd v3.5 answers for the same case, so the API edge can map a refusal unchanged.
 * A refused request changes no data (the Raft applied index still moves past it).
 */
public enum MvccError {
    COMPACTED("mvcc: required revision has been compacted", "OUT_OF_RANGE"),
    FUTURE_REVISION("mvcc: required revision is a future revision", "OUT_OF_RANGE"),
    EMPTY_KEY("etcdserver: key is not provided", "INVALID_ARGUMENT"),
    KEY_TOO_LARGE("etcdserver: request is too large", "INVALID_ARGUMENT"),
    VALUE_TOO_LARGE("etcdserver: request is too large", "INVALID_ARGUMENT"),
    TOO_MANY_OPS("etcdserver: too many operations in txn request", "INVALID_ARGUMENT"),
    TXN_TOO_DEEP("etcdserver: too many operations in txn request", "INVALID_ARGUMENT"),
    DUPLICATE_KEY("etcdserver: duplicate key given in txn request", "INVALID_ARGUMENT"),
    KEY_NOT_FOUND("etcdserver: key not found", "INVALID_ARGUMENT"),
    VALUE_PROVIDED("etcdserver: value is provided", "INVALID_ARGUMENT"),
    LEASE_PROVIDED("etcdserver: lease is provided", "INVALID_ARGUMENT"),
    RANGE_TOO_LARGE("etcdserver: range result exceeds the store's bound", "RESOURCE_EXHAUSTED"),
    LEASE_NOT_FOUND("etcdserver: requested lease not found", "NOT_FOUND"),
    LEASE_EXISTS("etcdserver: lease already exists", "FAILED_PRECONDITION"),
    LEASE_ID_INVALID("etcdserver: lease id must not be negative", "INVALID_ARGUMENT"),
    LEASE_TTL_TOO_LARGE("etcdserver: too large lease TTL", "OUT_OF_RANGE"),
    LEASE_TTL_NEGATIVE("etcdserver: lease TTL must not be negative", "INVALID_ARGUMENT"),
    LEASE_COUNT_EXCEEDED("etcdserver: too many leases", "RESOURCE_EXHAUSTED");

    private final String etcdMessage;
    private final String grpcStatus;

    MvccError(String etcdMessage, String grpcStatus) {
        this.etcdMessage = etcdMessage;
        this.grpcStatus = grpcStatus;
    }

    /** Stable code, equal to the constant's name. */
    public String code() {
        return name();
    }

    public String etcdMessage() {
        return etcdMessage;
    }

    /** Name of the gRPC status code etcd uses for this error. */
    public String grpcStatus() {
        return grpcStatus;
    }
}
