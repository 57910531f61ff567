package dev.atoll.storage.mvcc;

/** The answer to one {@link RequestOp}, in the same position of the transaction's response. */
public sealed interface ResponseOp permits RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse {
    /** The store revision after the request (etcd's response header revision). */
    long revision();
}
