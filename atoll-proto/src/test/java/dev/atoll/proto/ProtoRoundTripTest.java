package dev.atoll.proto;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.atoll.proto.etcd.Compare;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RequestOp;
import dev.atoll.proto.etcd.TxnRequest;
import dev.atoll.proto.log.Command;
import dev.atoll.proto.log.LeaseExpire;
import dev.atoll.proto.peer.AppendEntries;
import dev.atoll.proto.peer.Entry;
import dev.atoll.proto.peer.InstallSnapshot;
import dev.atoll.proto.peer.Membership;
import dev.atoll.proto.peer.PeerBatch;
import dev.atoll.proto.peer.PeerMessage;
import dev.atoll.proto.peer.RequestVote;
import dev.atoll.proto.peer.StreamOpen;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProtoRoundTripTest {
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void peerBatchWithRaftMessagesSurvivesEncoding() throws InvalidProtocolBufferException {
        var command = Command.newBuilder().setRequestId(7)
                .setPut(PutRequest.newBuilder().setKey(utf8("k")).setValue(utf8("v")))
                .build();
        PeerBatch batch = PeerBatch.newBuilder()
                .setBatchSeq(1)
                .setOpen(StreamOpen.newBuilder().setClusterId("c1").setFromNode("n1").setToNode("n2").setProtocolVersion(1))
                .addMessages(message(1).setAppendEntries(AppendEntries.newBuilder()
                        .setTerm(3).setPrevIndex(10).setPrevTerm(2).setCommitIndex(9)
                        .addEntries(Entry.newBuilder().setIndex(11).setTerm(3).setKind(Entry.Kind.COMMAND)
                                .setData(command.toByteString()))
                        .addEntries(Entry.newBuilder().setIndex(12).setTerm(3).setKind(Entry.Kind.NOOP))))
                .addMessages(message(2).setRequestVote(RequestVote.newBuilder()
                        .setTerm(4).setLastIndex(12).setLastTerm(3).setPreVote(true)))
                .addMessages(message(3).setInstallSnapshot(InstallSnapshot.newBuilder()
                        .setTerm(3).setSnapshotIndex(100).setSnapshotTerm(2).setSnapshotBytes(4).setOffset(0)
                        .setChunk(ByteString.copyFrom(new byte[] {1, 2, 3, 4})).setDone(true)
                        .setMembership(Membership.newBuilder().addVoters("n1").addVoters("n2").addLearners("n3"))))
                .build();

        PeerBatch decoded = PeerBatch.parseFrom(batch.toByteArray());

        assertThat(decoded).isEqualTo(batch);
        assertThat(decoded.getMessagesList()).extracting(PeerMessage::getBodyCase).containsExactly(
                PeerMessage.BodyCase.APPEND_ENTRIES, PeerMessage.BodyCase.REQUEST_VOTE, PeerMessage.BodyCase.INSTALL_SNAPSHOT);
        Entry first = decoded.getMessages(0).getAppendEntries().getEntries(0);
        assertThat(Command.parseFrom(first.getData()).getPut().getValue().toStringUtf8()).isEqualTo("v");
        assertThat(decoded.getMessages(0).getTraceparent()).isEqualTo(TRACEPARENT);
    }

    @Test
    void logCommandCarriesEtcdTxnAndLeaseExpiry() throws InvalidProtocolBufferException {
        Command txn = Command.newBuilder().setRequestId(42).setTxn(TxnRequest.newBuilder()
                        .addCompare(Compare.newBuilder().setKey(utf8("k")).setTarget(Compare.CompareTarget.MOD)
                                .setResult(Compare.CompareResult.EQUAL).setModRevision(5))
                        .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(utf8("k")).setValue(utf8("2")))))
                .build();
        Command expire = Command.newBuilder().setRequestId(43)
                .setLeaseExpire(LeaseExpire.newBuilder().addLeaseIds(0x1234).addLeaseIds(0x5678)).build();

        assertThat(Command.parseFrom(txn.toByteArray())).isEqualTo(txn);
        assertThat(Command.parseFrom(expire.toByteArray()).getLeaseExpire().getLeaseIdsList()).containsExactly(0x1234L, 0x5678L);
        assertThat(Command.parseFrom(txn.toByteArray()).getOpCase()).isEqualTo(Command.OpCase.TXN);
    }

    @Test
    void unsetEntryKindDecodesAsUnspecifiedSoItCannotPassForACommand() throws InvalidProtocolBufferException {
        Entry entry = Entry.newBuilder().setIndex(1).setTerm(1).build();
        assertThat(Entry.parseFrom(entry.toByteArray()).getKind()).isEqualTo(Entry.Kind.KIND_UNSPECIFIED);
    }

    private static PeerMessage.Builder message(long group) {
        return PeerMessage.newBuilder().setGroupId(group).setFromNode("n1").setToNode("n2").setTraceparent(TRACEPARENT);
    }

    private static ByteString utf8(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
