package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.log.Command;
import dev.atoll.proto.log.LeaseExpire;
import dev.atoll.storage.mvcc.MvccConfig;
import dev.atoll.storage.mvcc.RangeRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

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
