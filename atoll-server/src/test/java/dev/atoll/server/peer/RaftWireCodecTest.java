package dev.atoll.server.peer;

import com.google.protobuf.ByteString;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.proto.peer.ForwardResult;
import dev.atoll.proto.peer.PeerMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RaftWireCodecTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final NodeId N2 = NodeId.of("n2");
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void everyRaftMessageSurvivesTheWire() {
        var membership = new Membership(Set.of(N1, N2, NodeId.of("n3")), Set.of(NodeId.of("n4")));
        List<RaftMessage> all = List.of(
                new RaftMessage.AppendEntries(7, 10, 6, List.of(
                        new Entry(11, 6, Entry.Kind.NOOP, null),
                        new Entry(12, 7, Entry.Kind.COMMAND, new byte[] {1, 2, 3}),
                        new Entry(13, 7, Entry.Kind.MEMBERSHIP,
                                new MembershipChange(MembershipChange.Type.ADD_LEARNER, NodeId.of("n4")).encode())),
                        12),
                new RaftMessage.AppendResponse(7, 13, false, 0, 0),
                new RaftMessage.AppendResponse(7, 10, true, 8, 5),
                new RaftMessage.RequestVote(8, 13, 7, true, false),
                new RaftMessage.RequestVote(8, 13, 7, false, true),
                new RaftMessage.VoteResponse(8, true, true),
                new RaftMessage.VoteResponse(9, false, false),
                new RaftMessage.Heartbeat(9, 13, 42),
                new RaftMessage.HeartbeatResponse(9, 42),
                new RaftMessage.Quiesce(9, 13),
                new RaftMessage.InstallSnapshot(9, 100, 8, membership, 5, 0, new byte[] {9, 8, 7, 6, 5}, true),
                new RaftMessage.SnapshotResponse(9, 100, 5, true),
                new RaftMessage.SnapshotResponse(9, 100, 0, false),
                new RaftMessage.TimeoutNow(9),
                new RaftMessage.Propose(9, -4_242_424_242L, 17, new byte[] {4, 5, 6}),
                new RaftMessage.Propose(9, 1, 1, new byte[0]),
                new RaftMessage.ProposeOutcome(9, -4_242_424_242L, 17, new ProposeResult.Accepted(14, 9)),
                new RaftMessage.ProposeOutcome(10, 5, 18, new ProposeResult.NotLeader(N2)),
                new RaftMessage.ProposeOutcome(10, 5, 19, new ProposeResult.NotLeader(null)),
                new RaftMessage.ProposeOutcome(10, 5, 20, new ProposeResult.Dropped("uncommittedEntriesMax reached: 1")),
                new RaftMessage.ReadIndexRequest(9, Long.MIN_VALUE, -1),
                new RaftMessage.ReadIndexResponse(9, Long.MIN_VALUE, -1, new ProposeResult.Accepted(13, 9)),
                new RaftMessage.ReadIndexResponse(9, 7, 3, new ProposeResult.NotLeader(N1)),
                new RaftMessage.ReadIndexResponse(9, 7, 4, new ProposeResult.Dropped("readsPendingMax reached: 4096")));
        for (RaftMessage m : all) {
            assertThat(roundTrip(3, m, TRACEPARENT)).as("%s", m).usingRecursiveComparison().isEqualTo(new InboundMessage(3,
                    new Envelope<>(N1, N2, m), TRACEPARENT));
        }
    }

    @Test
    void appendWithoutEntriesIsAProbeOnBothSides() {
        var probe = new RaftMessage.AppendEntries(3, 9, 2, List.of(), 9);
        var decoded = (RaftMessage.AppendEntries) roundTrip(1, probe, "").envelope().message();
        assertThat(decoded.entries()).isEmpty();
        assertThat(decoded).isEqualTo(probe);
    }

    @Test
    void appendWithManyLargeEntriesSurvivesTheWire() {
        var random = new SplittableRandom(7);
        var entries = new ArrayList<Entry>();
        for (int i = 1; i <= 2_000; i++) {
            byte[] data = new byte[random.nextInt(2_048)];
            random.nextBytes(data);
            entries.add(new Entry(i, 1 + i / 500, Entry.Kind.COMMAND, data));
        }
        var append = new RaftMessage.AppendEntries(5, 0, 0, entries, 1_999);
        assertThat(roundTrip(Long.MAX_VALUE, append, "").envelope().message()).isEqualTo(append);
    }

    @Test
    void snapshotChunksKeepTheirBytesAndOffsets() {
        var membership = Membership.ofVoters(Set.of(N1, N2));
        byte[] snapshot = new byte[200_000];
        new SplittableRandom(3).nextBytes(snapshot);
        int chunkBytes = 65_536;
        for (int offset = 0; offset < snapshot.length; offset += chunkBytes) {
            byte[] chunk = java.util.Arrays.copyOfRange(snapshot, offset, Math.min(snapshot.length, offset + chunkBytes));
            var m = new RaftMessage.InstallSnapshot(4, 900, 3, membership, snapshot.length, offset, chunk,
                    offset + chunk.length == snapshot.length);
            var decoded = (RaftMessage.InstallSnapshot) roundTrip(2, m, "").envelope().message();
            assertThat(decoded.chunk()).isEqualTo(chunk);
            assertThat(decoded.offset()).isEqualTo(offset);
            assertThat(decoded.done()).isEqualTo(m.done());
            assertThat(decoded.membership()).isEqualTo(membership);
        }
        // The bootstrap snapshot: nothing to send but the membership.
        var empty = new RaftMessage.InstallSnapshot(1, 0, 0, membership, 0, 0, null, true);
        var decoded = (RaftMessage.InstallSnapshot) roundTrip(2, empty, "").envelope().message();
        assertThat(decoded.chunk()).isEmpty();
        assertThat(decoded.snapshotBytes()).isZero();
    }

    @Test
    void randomMessagesSurviveTheWire() {
        var random = new SplittableRandom(20261124);
        for (int i = 0; i < 2_000; i++) {
            RaftMessage m = randomMessage(random);
            assertThat(roundTrip(random.nextLong(0, Long.MAX_VALUE), m, "").envelope().message())
                    .as("seed 20261124, message %d", i).usingRecursiveComparison().isEqualTo(m);
        }
    }

    @Test
    void membershipAndMembershipChangeSurviveTheWire() {
        var m = new Membership(Set.of(N1, N2), Set.of(NodeId.of("n3")));
        assertThat(RaftWireCodec.decodeMembership(RaftWireCodec.encodeMembership(m))).isEqualTo(m);
        for (var type : MembershipChange.Type.values()) {
            var change = new MembershipChange(type, N2);
            assertThat(RaftWireCodec.decodeMembershipChange(RaftWireCodec.encodeMembershipChange(change)))
                    .isEqualTo(change);
        }
    }

    @Test
    void equalMembershipsEncodeToEqualBytes() {
        var a = new Membership(Set.of(NodeId.of("n3"), N1, N2), Set.of());
        var b = new Membership(Set.of(N2, NodeId.of("n3"), N1), Set.of());
        assertThat(RaftWireCodec.encodeMembership(a).toByteString())
                .isEqualTo(RaftWireCodec.encodeMembership(b).toByteString());
    }

    @Test
    void malformedMessagesAreRejectedWithTheStableCode() {
        PeerMessage valid = RaftWireCodec.encode(1, new Envelope<>(N1, N2, new RaftMessage.AppendEntries(2, 1, 1,
                List.of(new Entry(2, 2, Entry.Kind.COMMAND, new byte[] {1})), 1)), "");
        PeerMessage snapshot = RaftWireCodec.encode(1, new Envelope<>(N1, N2, new RaftMessage.InstallSnapshot(2, 5, 1,
                Membership.ofVoters(Set.of(N1)), 10, 0, new byte[4], false)), "");
        List<UnaryOperator<PeerMessage>> corruptions = List.of(
                m -> m.toBuilder().clearBody().build(),
                m -> m.toBuilder().setFromNode("").build(),
                m -> m.toBuilder().setToNode("x".repeat(RaftWireCodec.NODE_ID_CHARS_MAX + 1)).build(),
                m -> m.toBuilder().setGroupId(-1).build(),
                m -> m.toBuilder().setTraceparent("0".repeat(RaftWireCodec.TRACEPARENT_CHARS_MAX + 1)).build(),
                m -> m.toBuilder().setAppendEntries(m.getAppendEntries().toBuilder().setTerm(-1)).build(),
                m -> m.toBuilder().setAppendEntries(m.getAppendEntries().toBuilder()
                        .setEntries(0, m.getAppendEntries().getEntries(0).toBuilder().setIndex(0))).build(),
                m -> m.toBuilder().setAppendEntries(m.getAppendEntries().toBuilder()
                        .setEntries(0, m.getAppendEntries().getEntries(0).toBuilder().setTerm(0))).build(),
                m -> m.toBuilder().setAppendEntries(m.getAppendEntries().toBuilder()
                        .setEntries(0, m.getAppendEntries().getEntries(0).toBuilder()
                                .setKind(dev.atoll.proto.peer.Entry.Kind.KIND_UNSPECIFIED))).build(),
                m -> m.toBuilder().setAppendEntries(m.getAppendEntries().toBuilder()
                        .setEntries(0, m.getAppendEntries().getEntries(0).toBuilder().setKindValue(99))).build(),
                // forwarded proposals and reads
                m -> m.toBuilder().setPropose(dev.atoll.proto.peer.Propose.newBuilder().setTerm(1).setProposalId(0))
                        .build(),
                m -> m.toBuilder().setPropose(dev.atoll.proto.peer.Propose.newBuilder().setTerm(-1).setProposalId(1))
                        .build(),
                m -> m.toBuilder().setProposeOutcome(dev.atoll.proto.peer.ProposeOutcome.newBuilder().setTerm(1)
                        .setProposalId(1)).build(),
                m -> m.toBuilder().setProposeOutcome(dev.atoll.proto.peer.ProposeOutcome.newBuilder().setTerm(1)
                        .setProposalId(1).setResult(ForwardResult.getDefaultInstance())).build(),
                m -> m.toBuilder().setProposeOutcome(dev.atoll.proto.peer.ProposeOutcome.newBuilder().setTerm(1)
                        .setProposalId(1).setResult(ForwardResult.newBuilder().setAccepted(
                                ForwardResult.Accepted.newBuilder().setIndex(-1).setTerm(1)))).build(),
                m -> m.toBuilder().setReadIndexResponse(dev.atoll.proto.peer.ReadIndexResponse.newBuilder().setTerm(1)
                        .setReadId(1)).build(),
                m -> m.toBuilder().setReadIndexResponse(dev.atoll.proto.peer.ReadIndexResponse.newBuilder().setTerm(1)
                        .setResult(ForwardResult.newBuilder().setNotLeader(ForwardResult.NotLeader.newBuilder()
                                .setLeaderHint("x".repeat(RaftWireCodec.NODE_ID_CHARS_MAX + 1))))).build(),
                m -> m.toBuilder().setReadIndexResponse(dev.atoll.proto.peer.ReadIndexResponse.newBuilder().setTerm(1)
                        .setResult(ForwardResult.newBuilder().setDropped(ForwardResult.Dropped.newBuilder()
                                .setReason("x".repeat(RaftWireCodec.DROPPED_REASON_CHARS_MAX + 1))))).build(),
                m -> m.toBuilder().setReadIndexRequest(dev.atoll.proto.peer.ReadIndexRequest.newBuilder().setTerm(-3))
                        .build());
        List<UnaryOperator<PeerMessage>> snapshotCorruptions = List.of(
                m -> m.toBuilder().setInstallSnapshot(m.getInstallSnapshot().toBuilder().clearMembership()).build(),
                m -> m.toBuilder().setInstallSnapshot(m.getInstallSnapshot().toBuilder()
                        .setMembership(dev.atoll.proto.peer.Membership.newBuilder().addVoters("n1").addLearners("n1")))
                        .build(),
                m -> m.toBuilder().setInstallSnapshot(m.getInstallSnapshot().toBuilder()
                        .setMembership(dev.atoll.proto.peer.Membership.newBuilder().addVoters(""))).build(),
                m -> m.toBuilder().setInstallSnapshot(m.getInstallSnapshot().toBuilder().setOffset(8)).build(),
                m -> m.toBuilder().setInstallSnapshot(m.getInstallSnapshot().toBuilder().setOffset(11)
                        .setChunk(ByteString.EMPTY)).build());
        for (var corrupt : corruptions) {
            assertMalformed(corrupt.apply(valid));
        }
        for (var corrupt : snapshotCorruptions) {
            assertMalformed(corrupt.apply(snapshot));
        }
    }

    @Test
    void aMalformedMessageNamesTheFieldAndTheValue() {
        PeerMessage valid = RaftWireCodec.encode(1, new Envelope<>(N1, N2, new RaftMessage.AppendEntries(2, 1, 1,
                List.of(new Entry(7, 2, Entry.Kind.COMMAND, new byte[] {1})), 1)), "");
        var entry = valid.getAppendEntries().getEntries(0);
        assertReason(valid.toBuilder().setAppendEntries(valid.getAppendEntries().toBuilder()
                .setEntries(0, entry.toBuilder().setTerm(0))).build(), "entry term 0 at index 7");
        assertReason(valid.toBuilder().setAppendEntries(valid.getAppendEntries().toBuilder()
                .setEntries(0, entry.toBuilder().setIndex(-1))).build(), "entry index above 2^63-1");
        assertReason(valid.toBuilder().setAppendEntries(valid.getAppendEntries().toBuilder().setCommitIndex(-1))
                .build(), "commit_index above 2^63-1");
        assertReason(valid.toBuilder().setFromNode("").build(), "from_node is empty");
        assertReason(valid.toBuilder().setToNode("x".repeat(RaftWireCodec.NODE_ID_CHARS_MAX + 1)).build(),
                "to_node longer than " + RaftWireCodec.NODE_ID_CHARS_MAX + " chars");
    }

    @Test
    void aBodyFromANewerProtocolIsMalformedNotACrash() throws Exception {
        // Field 24 (tag 0xc2 0x01: field 24, length-delimited) is kept for a future Raft message:
        // this node parses it as an unknown field and sees no body.
        byte[] withUnknownBody = PeerMessage.newBuilder().setGroupId(1).setFromNode("n1").setToNode("n2").build()
                .toByteString().concat(ByteString.copyFrom(new byte[] {(byte) 0xc2, 0x01, 0})).toByteArray();
        assertMalformed(PeerMessage.parseFrom(withUnknownBody));
    }

    @Test
    void encodingANegativeNumberIsABugNotAWireValue() {
        assertThatThrownBy(() -> RaftWireCodec.encode(1, new Envelope<>(N1, N2, new RaftMessage.Heartbeat(-1, 0, 0)), ""))
                .isInstanceOf(IllegalArgumentException.class)
                .isNotInstanceOf(PeerMalformedException.class);
        assertThatThrownBy(() -> RaftWireCodec.encode(-5, new Envelope<>(N1, N2, new RaftMessage.TimeoutNow(1)), ""))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RaftWireCodec.encode(1, new Envelope<>(N1, N2,
                new RaftMessage.Propose(1, 1, -2, new byte[0])), ""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aForwardedResultStaysWithTheProposer() {
        assertThatThrownBy(() -> RaftWireCodec.encodeForwardResult(new ProposeResult.Forwarded(1, N1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RaftMessage.ProposeOutcome(1, 1, 1, new ProposeResult.Forwarded(1, N1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertMalformed(PeerMessage wire) {
        assertThatThrownBy(() -> RaftWireCodec.decode(wire))
                .as("%s", wire)
                .isInstanceOfSatisfying(PeerMalformedException.class, e -> {
                    assertThat(e.code()).isEqualTo("PEER_MALFORMED");
                    assertThat(e.getMessage()).startsWith("PEER_MALFORMED: ");
                });
    }

    private static void assertReason(PeerMessage wire, String reason) {
        assertThatThrownBy(() -> RaftWireCodec.decode(wire))
                .isInstanceOfSatisfying(PeerMalformedException.class, e -> assertThat(e.reason()).isEqualTo(reason));
    }

    /** Through bytes, as on the network, not just through the builder. */
    private static InboundMessage roundTrip(long group, RaftMessage m, String traceparent) {
        PeerMessage wire = RaftWireCodec.encode(group, new Envelope<>(N1, N2, m), traceparent);
        try {
            return RaftWireCodec.decode(PeerMessage.parseFrom(wire.toByteArray()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static RaftMessage randomMessage(SplittableRandom r) {
        long term = r.nextLong(0, Long.MAX_VALUE);
        return switch (r.nextInt(14)) {
            case 0 -> {
                var entries = new ArrayList<Entry>();
                long index = r.nextLong(1, 1L << 40);
                for (int i = r.nextInt(4); i > 0; i--) {
                    byte[] data = new byte[r.nextInt(64)];
                    r.nextBytes(data);
                    entries.add(new Entry(index++, r.nextLong(1, Long.MAX_VALUE),
                            Entry.Kind.values()[r.nextInt(3)], data));
                }
                yield new RaftMessage.AppendEntries(term, r.nextLong(0, Long.MAX_VALUE), r.nextLong(0, Long.MAX_VALUE),
                        entries, r.nextLong(0, Long.MAX_VALUE));
            }
            case 1 -> new RaftMessage.AppendResponse(term, r.nextLong(0, Long.MAX_VALUE), r.nextBoolean(),
                    r.nextLong(0, Long.MAX_VALUE), r.nextLong(0, Long.MAX_VALUE));
            case 2 -> new RaftMessage.RequestVote(term, r.nextLong(0, Long.MAX_VALUE), r.nextLong(0, Long.MAX_VALUE),
                    r.nextBoolean(), r.nextBoolean());
            case 3 -> new RaftMessage.VoteResponse(term, r.nextBoolean(), r.nextBoolean());
            case 4 -> new RaftMessage.Heartbeat(term, r.nextLong(0, Long.MAX_VALUE), r.nextLong(0, Long.MAX_VALUE));
            case 5 -> new RaftMessage.HeartbeatResponse(term, r.nextLong(0, Long.MAX_VALUE));
            case 6 -> {
                byte[] chunk = new byte[r.nextInt(128)];
                r.nextBytes(chunk);
                long offset = r.nextLong(0, 1L << 40);
                yield new RaftMessage.InstallSnapshot(term, r.nextLong(0, Long.MAX_VALUE), r.nextLong(0, Long.MAX_VALUE),
                        new Membership(Set.of(N1, N2), Set.of(NodeId.of("n" + (3 + r.nextInt(5))))),
                        offset + chunk.length + r.nextLong(0, 1L << 20), offset, chunk, r.nextBoolean());
            }
            case 7 -> new RaftMessage.SnapshotResponse(term, r.nextLong(0, Long.MAX_VALUE),
                    r.nextLong(0, Long.MAX_VALUE), r.nextBoolean());
            case 8 -> new RaftMessage.TimeoutNow(term);
            case 9 -> {
                byte[] data = new byte[r.nextInt(256)];
                r.nextBytes(data);
                yield new RaftMessage.Propose(term, r.nextLong(), r.nextLong(1, Long.MAX_VALUE), data);
            }
            case 10 -> new RaftMessage.ProposeOutcome(term, r.nextLong(), r.nextLong(1, Long.MAX_VALUE), randomResult(r));
            case 11 -> new RaftMessage.ReadIndexRequest(term, r.nextLong(), r.nextLong());
            case 12 -> new RaftMessage.Quiesce(term, r.nextLong(0, Long.MAX_VALUE));
            default -> new RaftMessage.ReadIndexResponse(term, r.nextLong(), r.nextLong(), randomResult(r));
        };
    }

    private static ProposeResult randomResult(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> new ProposeResult.Accepted(r.nextLong(0, Long.MAX_VALUE), r.nextLong(0, Long.MAX_VALUE));
            case 1 -> new ProposeResult.NotLeader(NodeId.of("n" + r.nextInt(100)));
            case 2 -> new ProposeResult.NotLeader(null);
            default -> new ProposeResult.Dropped("reason " + r.nextInt());
        };
    }
}
