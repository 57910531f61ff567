package dev.atoll.storage.mvcc;

/** One operation of a transaction, as etcd's RequestOp: a range, put, delete range or nested txn. */
public sealed interface RequestOp permits RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest {
}
