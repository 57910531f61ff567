package dev.atoll.server.peer;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.proto.peer.ForwardResult;
import dev.atoll.proto.peer.PeerMessage;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Converts Raft messages to and from the wire form of {@code atoll/peer.proto}.
 *
 * <p>Encoding takes what our own core produced: a value the wire cannot carry (a negative
 * number in a uint64 field) is a bug and throws {@link IllegalArgumentException}. Decoding takes
 * what the network delivered: anything that does not make a valid message throws
 * {@link PeerMalformedException} (code {@code PEER_MALFORMED}) and nothing else, so a receiver
 * catches exactly that, counts it and drops the message. Stateless and thread-safe.
 */
public final class RaftWireCodec {
    /** Longest node id accepted from the wire; ids are short names ("n1"). */
    public static final int NODE_ID_CHARS_MAX = 256;
    /** Longest traceparent accepted; version 00 is 55 characters, later versions may append. */
    public static final int TRACEPARENT_CHARS_MAX = 512;
    /** Longest reason accepted in a refused forward; the core's reasons are one short sentence. */
    public static final int DROPPED_REASON_CHARS_MAX = 1024;

    private RaftWireCodec() {
    }

    // ----------------------------------------------------------------------------- encode

    /** The wire form of {@code envelope} for group {@code groupId}; {@code traceparent} may be null. */
    public static PeerMessage encode(long groupId, Envelope<RaftMessage> envelope, String traceparent) {
        if (groupId < 0) {
            throw new IllegalArgumentException("group id is a uint64 on the wire: " + groupId);
        }
        var b = PeerMessage.newBuilder()
                .setGroupId(groupId)
                .setFromNode(envelope.from().value())
                .setToNode(envelope.to().value())
                .setTraceparent(traceparent == null ? "" : traceparent);
        switch (envelope.message()) {
            case RaftMessage.AppendEntries m -> {
                var a = dev.atoll.proto.peer.AppendEntries.newBuilder()
                        .setTerm(u64(m.term()))
                        .setPrevIndex(u64(m.prevIndex()))
                        .setPrevTerm(u64(m.prevTerm()))
                        .setCommitIndex(u64(m.commitIndex()));
                for (Entry e : m.entries()) {
                    a.addEntries(encodeEntry(e));
                }
                b.setAppendEntries(a);
            }
            case RaftMessage.AppendResponse m -> b.setAppendResponse(dev.atoll.proto.peer.AppendResponse.newBuilder()
                    .setTerm(u64(m.term()))
                    .setIndex(u64(m.index()))
                    .setReject(m.reject())
                    .setConflictIndex(u64(m.conflictIndex()))
                    .setConflictTerm(u64(m.conflictTerm())));
            case RaftMessage.RequestVote m -> b.setRequestVote(dev.atoll.proto.peer.RequestVote.newBuilder()
                    .setTerm(u64(m.term()))
                    .setLastIndex(u64(m.lastIndex()))
                    .setLastTerm(u64(m.lastTerm()))
                    .setPreVote(m.preVote())
                    .setLeaderTransfer(m.leaderTransfer()));
            case RaftMessage.VoteResponse m -> b.setVoteResponse(dev.atoll.proto.peer.VoteResponse.newBuilder()
                    .setTerm(u64(m.term()))
                    .setGranted(m.granted())
                    .setPreVote(m.preVote()));
            case RaftMessage.Heartbeat m -> b.setHeartbeat(dev.atoll.proto.peer.Heartbeat.newBuilder()
                    .setTerm(u64(m.term()))
                    .setCommitIndex(u64(m.commitIndex()))
                    .setReadContext(u64(m.readContext())));
            case RaftMessage.HeartbeatResponse m -> b.setHeartbeatResponse(
                    dev.atoll.proto.peer.HeartbeatResponse.newBuilder()
                            .setTerm(u64(m.term()))
                            .setReadContext(u64(m.readContext())));
            case RaftMessage.Quiesce m -> b.setQuiesce(dev.atoll.proto.peer.Quiesce.newBuilder()
                    .setTerm(u64(m.term()))
                    .setCommitIndex(u64(m.commitIndex())));
            case RaftMessage.InstallSnapshot m -> b.setInstallSnapshot(dev.atoll.proto.peer.InstallSnapshot.newBuilder()
                    .setTerm(u64(m.term()))
                    .setSnapshotIndex(u64(m.snapshotIndex()))
                    .setSnapshotTerm(u64(m.snapshotTerm()))
                    .setMembership(encodeMembership(m.membership()))
                    .setSnapshotBytes(u64(m.snapshotBytes()))
                    .setOffset(u64(m.offset()))
                    .setChunk(ByteString.copyFrom(m.chunk()))
                    .setDone(m.done()));
            // The core's SnapshotResponse has no reject flag: a rejected chunk is answered with
            // installed=false and the offset to resume from, which is what reject=false plus
            // next_offset say on the wire too.
            case RaftMessage.SnapshotResponse m -> b.setSnapshotResponse(dev.atoll.proto.peer.SnapshotResponse.newBuilder()
                    .setTerm(u64(m.term()))
                    .setSnapshotIndex(u64(m.snapshotIndex()))
                    .setNextOffset(u64(m.nextOffset()))
                    .setInstalled(m.installed()));
            case RaftMessage.TimeoutNow m -> b.setTimeoutNow(dev.atoll.proto.peer.TimeoutNow.newBuilder()
                    .setTerm(u64(m.term())));
            case RaftMessage.Propose m -> b.setPropose(dev.atoll.proto.peer.Propose.newBuilder()
                    .setTerm(u64(m.term()))
                    .setIncarnation(m.incarnation())
                    .setProposalId(u64(m.proposalId()))
                    .setData(ByteString.copyFrom(m.data())));
            case RaftMessage.ProposeOutcome m -> b.setProposeOutcome(dev.atoll.proto.peer.ProposeOutcome.newBuilder()
                    .setTerm(u64(m.term()))
                    .setIncarnation(m.incarnation())
                    .setProposalId(u64(m.proposalId()))
                    .setResult(encodeForwardResult(m.result())));
            case RaftMessage.ReadIndexRequest m -> b.setReadIndexRequest(
                    dev.atoll.proto.peer.ReadIndexRequest.newBuilder()
                            .setTerm(u64(m.term()))
                            .setIncarnation(m.incarnation())
                            .setReadId(m.readId()));
            case RaftMessage.ReadIndexResponse m -> b.setReadIndexResponse(
                    dev.atoll.proto.peer.ReadIndexResponse.newBuilder()
                            .setTerm(u64(m.term()))
                            .setIncarnation(m.incarnation())
                            .setReadId(m.readId())
                            .setResult(encodeForwardResult(m.result())));
        }
        return b.build();
    }

    /** Accepted, NotLeader or Dropped; a Forwarded result never crosses the wire. */
    public static ForwardResult encodeForwardResult(ProposeResult result) {
        var b = ForwardResult.newBuilder();
        switch (result) {
            case ProposeResult.Accepted a -> b.setAccepted(ForwardResult.Accepted.newBuilder()
                    .setIndex(u64(a.index()))
                    .setTerm(u64(a.term())));
            case ProposeResult.NotLeader n -> b.setNotLeader(ForwardResult.NotLeader.newBuilder()
                    .setLeaderHint(n.leaderHint() == null ? "" : n.leaderHint().value()));
            case ProposeResult.Dropped d -> b.setDropped(ForwardResult.Dropped.newBuilder()
                    .setReason(d.reason() == null ? "" : d.reason()));
            case ProposeResult.Forwarded f -> throw new IllegalArgumentException(
                    "a Forwarded result is local to the proposer: " + f);
        }
        return b.build();
    }

    public static dev.atoll.proto.peer.Entry encodeEntry(Entry entry) {
        return dev.atoll.proto.peer.Entry.newBuilder()
                .setIndex(entry.index())
                .setTerm(entry.term())
                .setKind(switch (entry.kind()) {
                    case COMMAND -> dev.atoll.proto.peer.Entry.Kind.COMMAND;
                    case NOOP -> dev.atoll.proto.peer.Entry.Kind.NOOP;
                    case MEMBERSHIP -> dev.atoll.proto.peer.Entry.Kind.MEMBERSHIP;
                })
                // Not copied: an entry's data is never written once the entry exists (the log,
                // the WAL and the state machine only read it), and a leader encodes each entry
                // once per follower on its loop thread.
                .setData(UnsafeByteOperations.unsafeWrap(entry.data()))
                .build();
    }

    /** Members in sorted order, so equal memberships encode to equal bytes. */
    public static dev.atoll.proto.peer.Membership encodeMembership(Membership membership) {
        var b = dev.atoll.proto.peer.Membership.newBuilder();
        for (NodeId v : new TreeSet<>(membership.voters())) {
            b.addVoters(v.value());
        }
        for (NodeId l : new TreeSet<>(membership.learners())) {
            b.addLearners(l.value());
        }
        return b.build();
    }

    public static dev.atoll.proto.peer.MembershipChange encodeMembershipChange(MembershipChange change) {
        return dev.atoll.proto.peer.MembershipChange.newBuilder()
                .setType(switch (change.type()) {
                    case ADD_VOTER -> dev.atoll.proto.peer.MembershipChange.Type.ADD_VOTER;
                    case ADD_LEARNER -> dev.atoll.proto.peer.MembershipChange.Type.ADD_LEARNER;
                    case REMOVE -> dev.atoll.proto.peer.MembershipChange.Type.REMOVE;
                })
                .setNode(change.node().value())
                .build();
    }

    // ----------------------------------------------------------------------------- decode

    /**
     * The message {@code wire} carries.
     *
     * @throws PeerMalformedException if it is not a valid Raft message (no body, a uint64 beyond
     *         a Java long, an entry at index 0, a node both voter and learner, ...)
     */
    public static InboundMessage decode(PeerMessage wire) {
        long groupId = wire.getGroupId();
        malformedIf(groupId < 0, "group_id above 2^63-1");
        NodeId from = nodeId(wire.getFromNode(), "from_node");
        NodeId to = nodeId(wire.getToNode(), "to_node");
        malformedIf(wire.getTraceparent().length() > TRACEPARENT_CHARS_MAX, "traceparent longer than "
                + TRACEPARENT_CHARS_MAX);
        RaftMessage message = switch (wire.getBodyCase()) {
            case APPEND_ENTRIES -> {
                var m = wire.getAppendEntries();
                var entries = new ArrayList<Entry>(m.getEntriesCount());
                for (var e : m.getEntriesList()) {
                    entries.add(decodeEntry(e));
                }
                yield new RaftMessage.AppendEntries(u64(m.getTerm(), "term"), u64(m.getPrevIndex(), "prev_index"),
                        u64(m.getPrevTerm(), "prev_term"), entries, u64(m.getCommitIndex(), "commit_index"));
            }
            case APPEND_RESPONSE -> {
                var m = wire.getAppendResponse();
                yield new RaftMessage.AppendResponse(u64(m.getTerm(), "term"), u64(m.getIndex(), "index"),
                        m.getReject(), u64(m.getConflictIndex(), "conflict_index"),
                        u64(m.getConflictTerm(), "conflict_term"));
            }
            case REQUEST_VOTE -> {
                var m = wire.getRequestVote();
                yield new RaftMessage.RequestVote(u64(m.getTerm(), "term"), u64(m.getLastIndex(), "last_index"),
                        u64(m.getLastTerm(), "last_term"), m.getPreVote(), m.getLeaderTransfer());
            }
            case VOTE_RESPONSE -> {
                var m = wire.getVoteResponse();
                yield new RaftMessage.VoteResponse(u64(m.getTerm(), "term"), m.getGranted(), m.getPreVote());
            }
            case HEARTBEAT -> {
                var m = wire.getHeartbeat();
                yield new RaftMessage.Heartbeat(u64(m.getTerm(), "term"), u64(m.getCommitIndex(), "commit_index"),
                        u64(m.getReadContext(), "read_context"));
            }
            case HEARTBEAT_RESPONSE -> {
                var m = wire.getHeartbeatResponse();
                yield new RaftMessage.HeartbeatResponse(u64(m.getTerm(), "term"),
                        u64(m.getReadContext(), "read_context"));
            }
            case QUIESCE -> {
                var m = wire.getQuiesce();
                yield new RaftMessage.Quiesce(u64(m.getTerm(), "term"), u64(m.getCommitIndex(), "commit_index"));
            }
            case INSTALL_SNAPSHOT -> {
                var m = wire.getInstallSnapshot();
                malformedIf(!m.hasMembership(), "install_snapshot without membership");
                long snapshotBytes = u64(m.getSnapshotBytes(), "snapshot_bytes");
                long offset = u64(m.getOffset(), "offset");
                // A chunk past the end of the snapshot it claims to belong to cannot be installed.
                malformedIf(m.getChunk().size() > snapshotBytes - offset,
                        "chunk [" + offset + ", +" + m.getChunk().size() + ") beyond snapshot_bytes " + snapshotBytes);
                yield new RaftMessage.InstallSnapshot(u64(m.getTerm(), "term"),
                        u64(m.getSnapshotIndex(), "snapshot_index"), u64(m.getSnapshotTerm(), "snapshot_term"),
                        decodeMembership(m.getMembership()), snapshotBytes, offset, m.getChunk().toByteArray(),
                        m.getDone());
            }
            case SNAPSHOT_RESPONSE -> {
                var m = wire.getSnapshotResponse();
                yield new RaftMessage.SnapshotResponse(u64(m.getTerm(), "term"),
                        u64(m.getSnapshotIndex(), "snapshot_index"), u64(m.getNextOffset(), "next_offset"),
                        m.getInstalled());
            }
            case TIMEOUT_NOW -> new RaftMessage.TimeoutNow(u64(wire.getTimeoutNow().getTerm(), "term"));
            case PROPOSE -> {
                var m = wire.getPropose();
                long proposalId = u64(m.getProposalId(), "proposal_id");
                malformedIf(proposalId == 0, "proposal_id 0");
                yield new RaftMessage.Propose(u64(m.getTerm(), "term"), m.getIncarnation(), proposalId,
                        m.getData().toByteArray());
            }
            case PROPOSE_OUTCOME -> {
                var m = wire.getProposeOutcome();
                malformedIf(!m.hasResult(), "propose_outcome without result");
                yield new RaftMessage.ProposeOutcome(u64(m.getTerm(), "term"), m.getIncarnation(),
                        u64(m.getProposalId(), "proposal_id"), decodeForwardResult(m.getResult()));
            }
            case READ_INDEX_REQUEST -> {
                var m = wire.getReadIndexRequest();
                yield new RaftMessage.ReadIndexRequest(u64(m.getTerm(), "term"), m.getIncarnation(), m.getReadId());
            }
            case READ_INDEX_RESPONSE -> {
                var m = wire.getReadIndexResponse();
                malformedIf(!m.hasResult(), "read_index_response without result");
                yield new RaftMessage.ReadIndexResponse(u64(m.getTerm(), "term"), m.getIncarnation(), m.getReadId(),
                        decodeForwardResult(m.getResult()));
            }
            case BODY_NOT_SET -> throw new PeerMalformedException("message has no body (or one this node does not know)");
        };
        return new InboundMessage(groupId, new Envelope<>(from, to, message), wire.getTraceparent());
    }

    /** @throws PeerMalformedException when no result is set, or on a bad node id or uint64 */
    public static ProposeResult decodeForwardResult(ForwardResult wire) {
        return switch (wire.getResultCase()) {
            case ACCEPTED -> new ProposeResult.Accepted(u64(wire.getAccepted().getIndex(), "accepted index"),
                    u64(wire.getAccepted().getTerm(), "accepted term"));
            case NOT_LEADER -> new ProposeResult.NotLeader(wire.getNotLeader().getLeaderHint().isEmpty()
                    ? null : nodeId(wire.getNotLeader().getLeaderHint(), "leader_hint"));
            case DROPPED -> {
                String reason = wire.getDropped().getReason();
                malformedIf(reason.length() > DROPPED_REASON_CHARS_MAX, "dropped reason longer than "
                        + DROPPED_REASON_CHARS_MAX + " chars");
                yield new ProposeResult.Dropped(reason);
            }
            case RESULT_NOT_SET -> throw new PeerMalformedException("forward result has no result");
        };
    }

    /** @throws PeerMalformedException on index or term 0, an unknown kind, or a uint64 beyond a long */
    public static Entry decodeEntry(dev.atoll.proto.peer.Entry wire) {
        long index = u64(wire.getIndex(), "entry index");
        long term = u64(wire.getTerm(), "entry term");
        malformedIf(index == 0, "entry index 0");
        if (term == 0) {
            throw new PeerMalformedException("entry term 0 at index " + index);
        }
        Entry.Kind kind = switch (wire.getKind()) {
            case COMMAND -> Entry.Kind.COMMAND;
            case NOOP -> Entry.Kind.NOOP;
            case MEMBERSHIP -> Entry.Kind.MEMBERSHIP;
            case KIND_UNSPECIFIED, UNRECOGNIZED -> throw new PeerMalformedException(
                    "entry kind " + wire.getKindValue() + " at index " + index);
        };
        return new Entry(index, term, kind, wire.getData().toByteArray());
    }

    /** @throws PeerMalformedException on an invalid node id or a node both voter and learner */
    public static Membership decodeMembership(dev.atoll.proto.peer.Membership wire) {
        Set<NodeId> voters = new HashSet<>();
        for (String v : wire.getVotersList()) {
            voters.add(nodeId(v, "voter"));
        }
        Set<NodeId> learners = new HashSet<>();
        for (String l : wire.getLearnersList()) {
            NodeId id = nodeId(l, "learner");
            malformedIf(voters.contains(id), "node " + id + " is both voter and learner");
            learners.add(id);
        }
        return new Membership(voters, learners);
    }

    /** @throws PeerMalformedException on an unknown type or an invalid node id */
    public static MembershipChange decodeMembershipChange(dev.atoll.proto.peer.MembershipChange wire) {
        MembershipChange.Type type = switch (wire.getType()) {
            case ADD_VOTER -> MembershipChange.Type.ADD_VOTER;
            case ADD_LEARNER -> MembershipChange.Type.ADD_LEARNER;
            case REMOVE -> MembershipChange.Type.REMOVE;
            case TYPE_UNSPECIFIED, UNRECOGNIZED -> throw new PeerMalformedException(
                    "membership change type " + wire.getTypeValue());
        };
        return new MembershipChange(type, nodeId(wire.getNode(), "membership change node"));
    }

    /** @throws PeerMalformedException when {@code value} is empty or too long to be a node id */
    static NodeId nodeId(String value, String field) {
        if (value.isEmpty()) {
            throw new PeerMalformedException(field + " is empty");
        }
        if (value.length() > NODE_ID_CHARS_MAX) {
            throw new PeerMalformedException(field + " longer than " + NODE_ID_CHARS_MAX + " chars");
        }
        return NodeId.of(value);
    }

    // ----------------------------------------------------------------------------- helpers

    private static long u64(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("negative value in a uint64 field: " + value);
        }
        return value;
    }

    /** A uint64 read into a Java long is negative when it is above 2^63-1: no index or term gets there. */
    private static long u64(long value, String field) {
        if (value < 0) {
            throw new PeerMalformedException(field + " above 2^63-1");
        }
        return value;
    }

    /**
     * For a constant {@code reason} only: an argument is built before the call, on every message
     * decoded, so a reason that names a value is built inside an explicit {@code if} instead.
     */
    private static void malformedIf(boolean condition, String reason) {
        if (condition) {
            throw new PeerMalformedException(reason);
        }
    }
}
