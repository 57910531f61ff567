package dev.atoll.storage.mvcc;

import java.util.Objects;

/**
 * One committed log entry's change to the store, for {@link MvccStore#applyAll}: the same
 * requests as the store's single-entry methods, each with the log position it applies. Its
 * outcome is what the single-entry method of the same name returns.
 */
public sealed interface Mutation {
    /** The log entry this mutation comes from. */
    LogPosition at();

    /** {@link MvccStore#put}; outcome {@code Outcome<PutResponse>}. */
    record Put(PutRequest request, LogPosition at) implements Mutation {
        public Put {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(at, "at");
        }
    }

    /** {@link MvccStore#deleteRange}; outcome {@code Outcome<DeleteRangeResponse>}. */
    record DeleteRange(DeleteRangeRequest request, LogPosition at) implements Mutation {
        public DeleteRange {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(at, "at");
        }
    }

    /** {@link MvccStore#txn}; outcome {@code Outcome<TxnResponse>}. */
    record Txn(TxnRequest request, LogPosition at) implements Mutation {
        public Txn {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(at, "at");
        }
    }

    /** {@link MvccStore#compact}; outcome {@code Outcome<CompactResponse>}. */
    record Compact(long revision, LogPosition at) implements Mutation {
        public Compact {
            Objects.requireNonNull(at, "at");
        }
    }

    /** {@link MvccStore#leaseGrant}; outcome {@code Outcome<LeaseGrantResponse>}. */
    record LeaseGrant(long id, long ttlSeconds, LogPosition at) implements Mutation {
        public LeaseGrant {
            Objects.requireNonNull(at, "at");
        }
    }

    /** {@link MvccStore#leaseRevoke}; outcome {@code Outcome<LeaseRevokeResponse>}. */
    record LeaseRevoke(long id, LogPosition at) implements Mutation {
        public LeaseRevoke {
            Objects.requireNonNull(at, "at");
        }
    }

    /** {@link MvccStore#leaseCheckpoint}; outcome {@code Outcome<Lease>}. */
    record LeaseCheckpoint(long id, long remainingTtlSeconds, LogPosition at) implements Mutation {
        public LeaseCheckpoint {
            Objects.requireNonNull(at, "at");
        }
    }

    /**
     * {@link MvccStore#markApplied}: an entry that holds no store command (Raft no-op,
     * configuration change, a command every replica refuses to decode); outcome
     * {@code Outcome<Boolean>}, done with {@code true}, or already applied.
     */
    record MarkApplied(LogPosition at) implements Mutation {
        public MarkApplied {
            Objects.requireNonNull(at, "at");
        }
    }
}
