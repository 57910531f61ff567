package dev.atoll.server.cluster;

/**
 * Why a membership request was refused. The constant's name is the stable code (logs,
 * metrics); {@link #etcdMessage()} and {@link #grpcStatus()} are what etcd 3.4 answers for the
 * same case (its api/v3rpc/rpctypes), so the API edge maps a refusal unchanged. A refused
 * request changes nothing: neither the member table nor any Raft membership.
 */
public enum MemberError {
    /** etcd's ErrGRPCMemberExist: the new member's id is taken (etcd derives it from the URLs and the second). */
    MEMBER_EXISTS("etcdserver: member ID already exist", "FAILED_PRECONDITION"),
    /** etcd's ErrGRPCPeerURLExist: another member already has one of these peer URLs. */
    PEER_URL_EXISTS("etcdserver: Peer URLs already exists", "FAILED_PRECONDITION"),
    /** etcd's ErrGRPCMemberNotFound: no such member, or it was removed. */
    MEMBER_NOT_FOUND("etcdserver: member not found", "NOT_FOUND"),
    /** etcd's ErrGRPCMemberNotLearner: promote asked of a voter. */
    MEMBER_NOT_LEARNER("etcdserver: can only promote a learner member", "FAILED_PRECONDITION"),
    /** etcd's ErrGRPCLearnerNotReady: the learner's log is behind the leader's (or it never started). */
    LEARNER_NOT_READY("etcdserver: can only promote a learner member which is in sync with leader",
            "FAILED_PRECONDITION"),
    /** etcd's ErrGRPCTooManyLearners: etcd 3.4 allows one learner at a time. */
    TOO_MANY_LEARNERS("etcdserver: too many learner members in cluster", "FAILED_PRECONDITION"),
    /**
     * etcd's ErrMemberNotEnoughStarted: the change would leave fewer started voters than a
     * quorum. etcd maps it to its client-side error, not a gRPC status, so gRPC answers it with
     * code Unknown (etcd 3.4 and 3.5 alike); Atoll answers what etcd answers.
     */
    NOT_ENOUGH_STARTED("etcdserver: re-configuration failed due to not enough started members", "UNKNOWN"),
    /** etcd's ErrGRPCUnhealthy: the leader is not connected to enough voters for the change to be safe. */
    UNHEALTHY("etcdserver: unhealthy cluster", "UNAVAILABLE"),
    /** etcd's ErrGRPCMemberBadURLs. */
    BAD_URLS("etcdserver: given member URLs are invalid", "INVALID_ARGUMENT"),
    /** etcd's ErrGRPCBadLeaderTransferee: MoveLeader to a member that is not a started voter. */
    BAD_LEADER_TRANSFEREE("etcdserver: bad leader transferee", "FAILED_PRECONDITION"),
    /** etcd's ErrGRPCNotLeader: MoveLeader reached a member that is not the leader. */
    NOT_LEADER("etcdserver: not leader", "FAILED_PRECONDITION"),
    /** etcd's ErrTimeoutLeaderTransfer, which etcd's API passes on with code Unknown. */
    LEADER_TRANSFER_TIMED_OUT("etcdserver: request timed out, leader transfer took too long", "UNKNOWN"),
    /** A removed member tried to publish itself again (etcd stops such a member). */
    MEMBER_REMOVED("etcdserver: the member has been permanently removed from the cluster", "FAILED_PRECONDITION"),
    /** A starting member's name belongs to another member with other peer URLs. */
    NAME_TAKEN("atoll: the name is taken by a member with other peer URLs", "FAILED_PRECONDITION"),
    /** The first leader has not yet written the founding members into the table; retry. */
    NOT_SEEDED("atoll: the member table is not yet seeded", "UNAVAILABLE");

    private final String etcdMessage;
    private final String grpcStatus;

    MemberError(String etcdMessage, String grpcStatus) {
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
