package dev.atoll.storage.mvcc;

import java.util.List;

/** etcd's TxnResponse: whether the compares held, and one response per op of the branch taken. */
public record TxnResponse(long revision, boolean succeeded, List<ResponseOp> responses) implements ResponseOp {
}
