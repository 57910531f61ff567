package dev.atoll.server.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The KV service through the real etcd Java client against a one-member cluster. */
class EtcdKvTest {
    private static final long CALL_SECONDS = 10;

    @TempDir
    static Path dir;
    private static SingleNodeEtcd node;
    private static Client client;
    private static KV kv;
    private static ManagedChannel raw;

    @BeforeAll
    static void start() throws InterruptedException {
        node = SingleNodeEtcd.start(dir, EtcdOptions.defaults());
        client = Client.builder().endpoints(node.endpoint()).build();
        kv = client.getKVClient();
        raw = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext()
                .maxInboundMessageSize(8 << 20).build();
    }

    @AfterAll
    static void stop() {
        if (raw != null) {
            raw.shutdownNow();
        }
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
        return f.get(CALL_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void putThenGetSeesTheValueWithEtcdFields() throws Exception {
        long revision = await(kv.put(bytes("kv/a"), bytes("1"))).getHeader().getRevision();
        GetResponse get = await(kv.get(bytes("kv/a")));
        assertThat(get.getKvs()).hasSize(1);
        KeyValue a = get.getKvs().getFirst();
        assertThat(text(a.getValue())).isEqualTo("1");
        assertThat(a.getVersion()).isEqualTo(1);
        assertThat(a.getCreateRevision()).isEqualTo(revision);
        assertThat(a.getModRevision()).isEqualTo(revision);
        assertThat(get.getHeader().getClusterId()).isEqualTo(node.members.clusterId());
        assertThat(get.getHeader().getMemberId()).isEqualTo(node.members.memberId(SingleNodeEtcd.SELF));
        assertThat(get.getHeader().getRaftTerm()).isPositive();
        assertThat(get.getHeader().getRevision()).isGreaterThanOrEqualTo(revision);
    }

    @Test
    void prefixGetDeleteAndPrevKv() throws Exception {
        await(kv.put(bytes("pfx/1"), bytes("one")));
        await(kv.put(bytes("pfx/2"), bytes("two")));
        await(kv.put(bytes("pfx0"), bytes("outside")));
        var prefix = GetOption.builder().isPrefix(true).build();
        assertThat(await(kv.get(bytes("pfx/"), prefix)).getKvs()).extracting(k -> text(k.getKey()))
                .containsExactly("pfx/1", "pfx/2");
        assertThat(await(kv.get(bytes("pfx/"), GetOption.builder().isPrefix(true).withCountOnly(true).build()))
                .getCount()).isEqualTo(2);

        var put = await(kv.put(bytes("pfx/1"), bytes("uno"), PutOption.builder().withPrevKV().build()));
        assertThat(put.hasPrevKv()).isTrue();
        assertThat(text(put.getPrevKv().getValue())).isEqualTo("one");

        var deleted = await(kv.delete(bytes("pfx/"), DeleteOption.builder().isPrefix(true).withPrevKV(true).build()));
        assertThat(deleted.getDeleted()).isEqualTo(2);
        assertThat(deleted.getPrevKvs()).extracting(k -> text(k.getValue())).containsExactly("uno", "two");
        assertThat(await(kv.get(bytes("pfx/"), prefix)).getKvs()).isEmpty();
        assertThat(await(kv.get(bytes("pfx0"))).getKvs()).hasSize(1);
    }

    @Test
    void serializableGetIsServedLocally() throws Exception {
        await(kv.put(bytes("ser/a"), bytes("x")));
        var get = await(kv.get(bytes("ser/a"), GetOption.builder().withSerializable(true).build()));
        assertThat(get.getKvs()).extracting(k -> text(k.getValue())).containsExactly("x");
    }

    @Test
    void txnCompareAndSwapTakesBothBranches() throws Exception {
        await(kv.put(bytes("cas/k"), bytes("v1")));
        TxnResponse swapped = await(kv.txn()
                .If(new Cmp(bytes("cas/k"), Cmp.Op.EQUAL, CmpTarget.value(bytes("v1"))))
                .Then(Op.put(bytes("cas/k"), bytes("v2"), PutOption.DEFAULT))
                .Else(Op.get(bytes("cas/k"), GetOption.DEFAULT))
                .commit());
        assertThat(swapped.isSucceeded()).isTrue();
        assertThat(swapped.getPutResponses()).hasSize(1);

        TxnResponse lost = await(kv.txn()
                .If(new Cmp(bytes("cas/k"), Cmp.Op.EQUAL, CmpTarget.value(bytes("v1"))))
                .Then(Op.put(bytes("cas/k"), bytes("v3"), PutOption.DEFAULT))
                .Else(Op.get(bytes("cas/k"), GetOption.DEFAULT))
                .commit());
        assertThat(lost.isSucceeded()).isFalse();
        assertThat(lost.getGetResponses()).hasSize(1);
        assertThat(text(lost.getGetResponses().getFirst().getKvs().getFirst().getValue())).isEqualTo("v2");
        assertThat(text(await(kv.get(bytes("cas/k"))).getKvs().getFirst().getValue())).isEqualTo("v2");
    }

    @Test
    void readAtACompactedRevisionFailsWithEtcdsError() throws Exception {
        long first = await(kv.put(bytes("cmp/k"), bytes("old"))).getHeader().getRevision();
        long second = await(kv.put(bytes("cmp/k"), bytes("new"))).getHeader().getRevision();
        assertThat(text(await(kv.get(bytes("cmp/k"), GetOption.builder().withRevision(first).build()))
                .getKvs().getFirst().getValue())).isEqualTo("old");

        await(kv.compact(second));

        assertEtcdError(() -> await(kv.get(bytes("cmp/k"), GetOption.builder().withRevision(first).build())),
                Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
        assertEtcdError(() -> await(kv.compact(first)), Status.Code.OUT_OF_RANGE,
                "etcdserver: mvcc: required revision has been compacted");
        assertEtcdError(() -> await(kv.get(bytes("cmp/k"), GetOption.builder().withRevision(second + 1_000).build())),
                Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
        assertThat(text(await(kv.get(bytes("cmp/k"))).getKvs().getFirst().getValue())).isEqualTo("new");
    }

    @Test
    void badRequestsAreRefusedWithEtcdsErrorsAndChangeNothing() throws Exception {
        await(kv.put(bytes("bad/k"), bytes("kept")));
        long revision = await(kv.get(bytes("bad/k"))).getHeader().getRevision();
        var stub = dev.atoll.proto.etcd.KVGrpc.newBlockingStub(raw).withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);

        assertStatus(() -> stub.put(dev.atoll.proto.etcd.PutRequest.newBuilder()
                        .setValue(com.google.protobuf.ByteString.copyFromUtf8("v")).build()),
                Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided");
        assertStatus(() -> stub.put(dev.atoll.proto.etcd.PutRequest.newBuilder()
                        .setKey(com.google.protobuf.ByteString.copyFromUtf8("bad/k"))
                        .setValue(com.google.protobuf.ByteString.copyFrom(new byte[1600 * 1024])).build()),
                Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large");
        var tooMany = dev.atoll.proto.etcd.TxnRequest.newBuilder();
        for (int i = 0; i < 129; i++) {
            tooMany.addSuccess(dev.atoll.proto.etcd.RequestOp.newBuilder().setRequestPut(
                    dev.atoll.proto.etcd.PutRequest.newBuilder()
                            .setKey(com.google.protobuf.ByteString.copyFromUtf8("bad/t" + i))));
        }
        assertStatus(() -> stub.txn(tooMany.build()), Status.Code.INVALID_ARGUMENT,
                "etcdserver: too many operations in txn request");
        var duplicate = dev.atoll.proto.etcd.TxnRequest.newBuilder();
        for (int i = 0; i < 2; i++) {
            duplicate.addSuccess(dev.atoll.proto.etcd.RequestOp.newBuilder().setRequestPut(
                    dev.atoll.proto.etcd.PutRequest.newBuilder()
                            .setKey(com.google.protobuf.ByteString.copyFromUtf8("bad/k"))));
        }
        assertStatus(() -> stub.txn(duplicate.build()), Status.Code.INVALID_ARGUMENT,
                "etcdserver: duplicate key given in txn request");
        assertEtcdError(() -> await(kv.put(bytes("bad/k"), bytes("leased"), PutOption.builder().withLeaseId(424242).build())),
                Status.Code.NOT_FOUND, "etcdserver: requested lease not found");

        GetResponse after = await(kv.get(bytes("bad/"), GetOption.builder().isPrefix(true).build()));
        assertThat(after.getKvs()).extracting(k -> text(k.getKey()) + "=" + text(k.getValue()))
                .containsExactly("bad/k=kept");
        assertThat(after.getHeader().getRevision()).isEqualTo(revision);
    }

    static void assertEtcdError(ThrowingRunnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOf(ExecutionException.class).satisfies(e -> {
            Status s = Status.fromThrowable(e.getCause());
            assertThat(s.getCode()).isEqualTo(code);
            assertThat(s.getDescription()).isEqualTo(message);
        });
    }

    static void assertStatus(ThrowingRunnable call, Status.Code code, String message) {
        assertThatThrownBy(call::run).isInstanceOf(StatusRuntimeException.class).satisfies(e -> {
            Status s = Status.fromThrowable(e);
            assertThat(s.getCode()).isEqualTo(code);
            assertThat(s.getDescription()).isEqualTo(message);
        });
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
