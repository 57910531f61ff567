package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.CompactionRequest;
import dev.atoll.proto.etcd.LeaseGrpc;
import dev.atoll.proto.etcd.LeaseRevokeRequest;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.proto.etcd.RangeResponse;
import dev.atoll.proto.etcd.RequestOp;
import dev.atoll.proto.etcd.TxnRequest;
import dev.atoll.proto.etcd.WatchCreateRequest;
import dev.atoll.proto.etcd.WatchGrpc;
import dev.atoll.proto.etcd.WatchRequest;
import dev.atoll.proto.etcd.WatchResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Requests etcd refuses, sent to the leader and to a follower (which forwards) of a
 * three-process cluster: each is answered with etcd's status code and text, and the keyspace is
 * unchanged afterwards (the same key-values and the same revision, read through the leader).
 */
class ClusterBadInputTest {
    private static final int REQUEST_BYTES_MAX = 3 * 512 * 1024; // etcd's --max-request-bytes default, 1.5 MiB
    private static final int TXN_OPS_MAX = 128;                    // etcd's --max-txn-ops default

    @TempDir
    static Path dir;
    private static ProcessCluster cluster;
    private static ServerProcess leader;
    private static ServerProcess follower;
    private static long compactedRevision;

    @BeforeAll
    static void start() throws Exception {
        cluster = ProcessCluster.start(dir);
        leader = cluster.awaitLeader(Duration.ofSeconds(10));
        follower = cluster.followers(leader).get(0);
        var kv = cluster.kv(leader);
        kv.put(put("bad/k", "first"));
        compactedRevision = kv.put(put("bad/k", "second")).getHeader().getRevision();
        kv.put(put("bad/other", "kept"));
        kv.compact(CompactionRequest.newBuilder().setRevision(compactedRevision).setPhysical(true).build());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Where the bad request is sent. */
    enum Via {
        LEADER, FOLLOWER;

        ServerProcess member() {
            return this == LEADER ? leader : follower;
        }
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static PutRequest put(String key, String value) {
        return PutRequest.newBuilder().setKey(bytes(key)).setValue(bytes(value)).build();
    }

    /** Every key-value and the revision, read linearizably through the leader. */
    private static RangeResponse everything() {
        return cluster.kv(leader).range(RangeRequest.newBuilder().setKey(bytes("\0")).setRangeEnd(bytes("\0")).build());
    }

    private static void assertRefusedAndNothingChanged(Runnable call, Status.Code code, String message) {
        RangeResponse before = everything();
        assertThatThrownBy(call::run).satisfies(e -> {
            Status s = Status.fromThrowable(e);
            assertThat(s.getCode()).as(s.toString()).isEqualTo(code);
            assertThat(s.getDescription()).isEqualTo(message);
        });
        RangeResponse after = everything();
        assertThat(after.getHeader().getRevision()).as("revision").isEqualTo(before.getHeader().getRevision());
        assertThat(after.getKvsList()).as("key-values").isEqualTo(before.getKvsList());
    }

    @ParameterizedTest(name = "through the {0}")
    @EnumSource(Via.class)
    void anEmptyKeyIsNotProvided(Via via) {
        assertRefusedAndNothingChanged(() -> cluster.kv(via.member()).put(put("", "v")),
                Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided");
    }

    @ParameterizedTest(name = "through the {0}")
    @EnumSource(Via.class)
    void aValueOverTheRequestLimitIsTooLarge(Via via) {
        var value = ByteString.copyFrom(new byte[REQUEST_BYTES_MAX + 64 * 1024]);
        assertRefusedAndNothingChanged(
                () -> cluster.kv(via.member()).put(PutRequest.newBuilder().setKey(bytes("bad/k")).setValue(value).build()),
                Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large");
    }

    @ParameterizedTest(name = "through the {0}")
    @EnumSource(Via.class)
    void aTxnOverTheOpsLimitHasTooManyOperations(Via via) {
        var txn = TxnRequest.newBuilder();
        for (int i = 0; i <= TXN_OPS_MAX; i++) {
            txn.addSuccess(RequestOp.newBuilder().setRequestPut(put("bad/t" + i, "v")));
        }
        assertRefusedAndNothingChanged(() -> cluster.kv(via.member()).txn(txn.build()),
                Status.Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
    }

    @ParameterizedTest(name = "through the {0}")
    @EnumSource(Via.class)
    void anUnknownLeaseIsNotFound(Via via) {
        long unknown = 0xabcdefL;
        assertRefusedAndNothingChanged(
                () -> cluster.kv(via.member()).put(put("bad/k", "leased").toBuilder().setLease(unknown).build()),
                Status.Code.NOT_FOUND, "etcdserver: requested lease not found");
        assertRefusedAndNothingChanged(
                () -> LeaseGrpc.newBlockingStub(cluster.channel(via.member())).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .leaseRevoke(LeaseRevokeRequest.newBuilder().setID(unknown).build()),
                Status.Code.NOT_FOUND, "etcdserver: requested lease not found");
    }

    @ParameterizedTest(name = "through the {0}")
    @EnumSource(Via.class)
    void aCompactedRevisionIsRefusedToReadsAndWatches(Via via) throws InterruptedException {
        assertRefusedAndNothingChanged(
                () -> cluster.kv(via.member()).range(RangeRequest.newBuilder().setKey(bytes("bad/k"))
                        .setRevision(compactedRevision - 1).build()),
                Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");

        // a watch from before the compaction is created, then cancelled with the compacted revision
        RangeResponse before = everything();
        var responses = new LinkedBlockingQueue<WatchResponse>();
        StreamObserver<WatchRequest> requests = WatchGrpc.newStub(cluster.channel(via.member()))
                .watch(new StreamObserver<>() {
                    @Override
                    public void onNext(WatchResponse r) {
                        responses.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        try {
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder()
                    .setKey(bytes("bad/k")).setStartRevision(compactedRevision - 1)).build());
            WatchResponse cancelled = null;
            for (WatchResponse r; cancelled == null && (r = responses.poll(10, TimeUnit.SECONDS)) != null; ) {
                assertThat(r.getEventsList()).as("no event from a compacted revision").isEmpty();
                if (r.getCanceled()) {
                    cancelled = r;
                }
            }
            assertThat(cancelled).as("a cancelled watch response within 10 s").isNotNull();
            assertThat(cancelled.getCompactRevision()).isEqualTo(compactedRevision);
            assertThat(cancelled.getCancelReason()).isEqualTo("etcdserver: mvcc: required revision has been compacted");
        } finally {
            requests.onCompleted();
        }
        RangeResponse after = everything();
        assertThat(after.getHeader().getRevision()).isEqualTo(before.getHeader().getRevision());
        assertThat(after.getKvsList()).isEqualTo(before.getKvsList());
    }
}
