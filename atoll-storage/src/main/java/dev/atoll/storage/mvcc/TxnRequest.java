package dev.atoll.storage.mvcc;

import java.util.List;

/**
 * etcd's TxnRequest: if every compare holds, the success ops run, else the failure ops; all
 * of it atomically at one revision. Compares of nested txns see the state before the txn.
 */
public record TxnRequest(List<Compare> compares, List<RequestOp> success, List<RequestOp> failure) implements RequestOp {
    public TxnRequest {
        compares = List.copyOf(compares);
        success = List.copyOf(success);
        failure = List.copyOf(failure);
    }
}
