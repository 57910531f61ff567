package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.etcd.CompactionRequest;
import dev.atoll.proto.etcd.DeleteRangeRequest;
import dev.atoll.proto.etcd.LeaseGrantRequest;
import dev.atoll.proto.etcd.LeaseRevokeRequest;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RequestOp;
import dev.atoll.proto.etcd.TxnRequest;
import dev.atoll.proto.etcd.WatchResponse;
import dev.atoll.proto.log.Command;
import dev.atoll.proto.log.LeaseExpire;
import dev.atoll.server.runtime.SnapshotCapture;
import dev.atoll.storage.mvcc.MvccConfig;
import dev.atoll.storage.mvcc.RangeRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The default group's state machine driven directly with log entries, no runtime. */
class EtcdStateMachineTest {
    private static final Membership ONE = Membership.ofVoters(Set.of(NodeId.of("n1")));

    @TempDir
    Path dir;
    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    private EtcdStateMachine open(String name) {
        return new EtcdStateMachine(dir.resolve(name), MvccConfig.defaults(), EtcdOptions.defaults(), executor,
                new LeaseDeadlines(System::nanoTime));
    }

    private static Entry put(long index, String key, String value) {
        return new Entry(index, 1, Entry.Kind.COMMAND, Command.newBuilder().setRequestId(index)
                .setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                        .setValue(ByteString.copyFromUtf8(value))).build().toByteArray());
    }

    private static Entry command(long index, Command.Builder command) {
        return new Entry(index, 1, Entry.Kind.COMMAND, command.setRequestId(index).build().toByteArray());
    }

    private static Entry putWithLease(long index, String key, long lease) {
        return command(index, Command.newBuilder().setPut(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key))
                .setValue(ByteString.copyFromUtf8("leased")).setLease(lease)));
    }

    private static Entry txnPuts(long index, String... keys) {
        TxnRequest.Builder txn = TxnRequest.newBuilder();
        for (String k : keys) {
            txn.addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8(k)).setValue(ByteString.copyFromUtf8("t")).setPrevKv(true)));
        }
        return command(index, Command.newBuilder().setTxn(txn));
    }

    private static Entry compaction(long index, long revision) {
        return command(index, Command.newBuilder().setCompaction(CompactionRequest.newBuilder().setRevision(revision)));
    }

    /** A round with every kind of entry, refusals and a compaction in the middle. */
    private static List<Entry> mixedRound() {
        return List.of(new Entry(1, 1, Entry.Kind.NOOP, null), put(2, "a", "1"), put(3, "a", "2"),
                command(4, Command.newBuilder().setLeaseGrant(LeaseGrantRequest.newBuilder().setID(7).setTTL(60))),
                putWithLease(5, "l", 7), putWithLease(6, "m", 99), txnPuts(7, "b", "a"), put(8, "", "empty key"),
                new Entry(9, 1, Entry.Kind.COMMAND, new byte[] {(byte) 0xFF, 0x01}), compaction(10, 3),
                compaction(11, 2), put(12, "c", "1"),
                command(13, Command.newBuilder().setDeleteRange(DeleteRangeRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("a")).setRangeEnd(ByteString.copyFromUtf8("c")).setPrevKv(true))),
                command(14, Command.newBuilder().setLeaseExpire(LeaseExpire.newBuilder().addLeaseIds(7))),
                command(15, Command.newBuilder().setLeaseRevoke(LeaseRevokeRequest.newBuilder().setID(7))),
                new Entry(16, 1, Entry.Kind.MEMBERSHIP, null));
    }

    @Test
    void aRoundAppliedAtOnceAnswersAsEntryByEntry() {
        try (EtcdStateMachine batched = open("batched"); EtcdStateMachine oneByOne = open("one-by-one")) {
            List<Entry> round = mixedRound();
            List<Object> results = batched.applyAll(round);
            List<Object> expected = new ArrayList<>();
            for (Entry e : round) {
                expected.add(oneByOne.apply(e));
            }
            assertThat(results).isEqualTo(expected);
            assertThat(results.get(0)).isNull();
            assertThat(results.get(5)).isInstanceOf(EtcdStateMachine.Refused.class); // lease 99 does not exist
            assertThat(results.get(8)).isInstanceOf(EtcdStateMachine.Malformed.class);
            assertThat(results.get(10)).isInstanceOf(EtcdStateMachine.Refused.class); // compacted already
            assertThat(results.get(14)).isInstanceOf(EtcdStateMachine.Refused.class); // expired before
            assertThat(batched.appliedIndex()).isEqualTo(16);
            assertThat(batched.currentRevision()).isEqualTo(oneByOne.currentRevision());
            assertThat(batched.range(RangeRequest.fromKey(new byte[] {0})).response())
                    .isEqualTo(oneByOne.range(RangeRequest.fromKey(new byte[] {0})).response());
            assertThat(batched.leaseDeadlines().remainingSeconds(7)).as("expired lease forgotten").isEqualTo(-1);
            List<Object> replayed = batched.applyAll(round);
            for (int i = 0; i < round.size(); i++) {
                if (round.get(i).kind() == Entry.Kind.COMMAND) {
                    assertThat(replayed.get(i)).as("replayed entry %d", i).isInstanceOf(EtcdStateMachine.Replayed.class);
                } else {
                    assertThat(replayed.get(i)).isNull();
                }
            }
            assertThat(batched.currentRevision()).isEqualTo(oneByOne.currentRevision());
        }
    }

    /** Records what the watch hub sends a watcher. */
    private static final class RecordingSink implements WatchHub.Sink {
        final List<WatchResponse> responses = new ArrayList<>();

        @Override
        public synchronized boolean offerEvents(WatchHub.Watcher watcher, WatchResponse response, int eventCount) {
            responses.add(response);
            return true;
        }

        @Override
        public synchronized void offerControl(WatchResponse response) {
            responses.add(response);
        }

        @Override
        public synchronized int queuedEvents(WatchHub.Watcher watcher) {
            return 0;
        }
    }

    @Test
    void watchersGetABatchOneResponsePerRevisionInOrderAcrossACompaction() {
        try (EtcdStateMachine sm = open("sm")) {
            RecordingSink sink = new RecordingSink();
            sm.watchHub().register(new WatchHub.Watcher(1, new byte[] {0}, new byte[] {0}, 0, true, false, false, false,
                    sink));
            // revisions 2, 3, 4 (two puts), then a compaction at 3 in the same round, then revision 5
            sm.applyAll(List.of(put(1, "a", "1"), put(2, "b", "1"), txnPuts(3, "c", "d"), compaction(4, 3),
                    put(5, "a", "2")));
            assertThat(sink.responses).extracting(r -> r.getHeader().getRevision()).containsExactly(2L, 3L, 4L, 5L);
            assertThat(sink.responses).extracting(r -> r.getEventsList().stream()
                    .map(e -> e.getKv().getKey().toStringUtf8()).toList())
                    .containsExactly(List.of("a"), List.of("b"), List.of("c", "d"), List.of("a"));
            assertThat(sink.responses.getLast().getEvents(0).getPrevKv().getValue().toStringUtf8()).isEqualTo("1");
        }
    }

    private static String value(EtcdStateMachine sm, String key) {
        var kvs = sm.range(RangeRequest.of(key.getBytes(StandardCharsets.UTF_8))).response().kvs();
        return kvs.isEmpty() ? null : new String(kvs.getFirst().value(), StandardCharsets.UTF_8);
    }

    @Test
    void aSnapshotInstalledOnAFreshReplicaHoldsTheSameState() {
        try (EtcdStateMachine leader = open("leader"); EtcdStateMachine follower = open("follower")) {
            leader.apply(new Entry(1, 1, Entry.Kind.NOOP, null));
            assertThat(leader.apply(put(2, "a", "1"))).isInstanceOf(EtcdStateMachine.Applied.class);
            leader.apply(put(3, "b", "2"));
            leader.apply(put(4, "a", "3"));

            byte[] data = leader.snapshotData();
            follower.install(new Snapshot(4, 1, ONE, data));

            assertThat(follower.appliedIndex()).isEqualTo(4);
            assertThat(follower.currentRevision()).isEqualTo(leader.currentRevision());
            assertThat(value(follower, "a")).isEqualTo("3");
            assertThat(value(follower, "b")).isEqualTo("2");
            // the replica continues from the snapshot
            follower.apply(put(5, "c", "4"));
            assertThat(value(follower, "c")).isEqualTo("4");
        }
    }

    @Test
    void aCaptureHoldsTheStateAtItsIndexWhileLaterEntriesApply() throws Exception {
        try (EtcdStateMachine leader = open("leader"); EtcdStateMachine follower = open("follower")) {
            leader.apply(put(1, "a", "1"));
            leader.apply(put(2, "b", "2"));
            byte[] data;
            try (SnapshotCapture capture = leader.captureSnapshot()) {
                assertThat(capture.index()).isEqualTo(2);
                // as on the runtime: later entries apply before the capture is packed
                leader.apply(put(3, "a", "changed"));
                leader.apply(put(4, "c", "3"));
                data = capture.materialize();
            }
            try (Stream<Path> scratch = Files.list(dir.resolve("leader.scratch"))) {
                assertThat(scratch).as("closing the capture deletes its checkpoint").isEmpty();
            }
            follower.install(new Snapshot(2, 1, ONE, data));

            assertThat(follower.appliedIndex()).isEqualTo(2);
            assertThat(value(follower, "a")).isEqualTo("1");
            assertThat(value(follower, "b")).isEqualTo("2");
            assertThat(value(follower, "c")).isNull();
            assertThat(value(leader, "a")).isEqualTo("changed");
        }
    }

    @Test
    void aMalformedCommandIsRefusedTheSameWayEverywhereAndStillApplied() {
        try (EtcdStateMachine a = open("a"); EtcdStateMachine b = open("b")) {
            byte[] garbage = {(byte) 0xFF, 0x01, 0x02};
            Entry bad = new Entry(1, 1, Entry.Kind.COMMAND, garbage);
            Object ra = a.apply(bad);
            Object rb = b.apply(bad);
            assertThat(ra).isInstanceOf(EtcdStateMachine.Malformed.class).isEqualTo(rb);
            assertThat(a.appliedIndex()).isEqualTo(1);
            assertThat(a.currentRevision()).isEqualTo(1);
            assertThat(a.apply(bad)).as("replayed after a restart").isInstanceOf(EtcdStateMachine.Replayed.class);

            Entry twoLeases = new Entry(2, 1, Entry.Kind.COMMAND, Command.newBuilder()
                    .setLeaseExpire(LeaseExpire.newBuilder().addLeaseIds(1).addLeaseIds(2)).build().toByteArray());
            assertThat(a.apply(twoLeases)).isInstanceOf(EtcdStateMachine.Malformed.class);
            Entry empty = new Entry(3, 1, Entry.Kind.COMMAND, Command.newBuilder().build().toByteArray());
            assertThat(a.apply(empty)).isInstanceOf(EtcdStateMachine.Malformed.class);
            assertThat(a.appliedIndex()).isEqualTo(3);
        }
    }

    @Test
    void aRefusedCommandChangesNothing() {
        try (EtcdStateMachine sm = open("sm")) {
            sm.apply(put(1, "k", "v"));
            Object refused = sm.apply(put(2, "", "v"));
            assertThat(refused).isInstanceOf(EtcdStateMachine.Refused.class);
            assertThat(((EtcdStateMachine.Refused) refused).error().code()).isEqualTo("EMPTY_KEY");
            assertThat(sm.currentRevision()).isEqualTo(2);
            assertThat(sm.appliedIndex()).isEqualTo(2);
        }
    }

    @Test
    void aDamagedArchiveIsRefusedWhole(@TempDir Path scratch) {
        try (EtcdStateMachine sm = open("sm")) {
            sm.apply(put(1, "k", "v"));
            byte[] data = sm.snapshotData();
            data[data.length / 2] ^= 0x40;
            assertThatThrownBy(() -> CheckpointArchive.unpack(data, scratch.resolve("x")))
                    .isInstanceOf(CheckpointArchive.CorruptArchiveException.class).hasMessageContaining("CRC");
            assertThatThrownBy(() -> CheckpointArchive.unpack(new byte[3], scratch.resolve("y")))
                    .isInstanceOf(CheckpointArchive.CorruptArchiveException.class);
            assertThat(scratch.resolve("x")).doesNotExist();
        }
    }
}
