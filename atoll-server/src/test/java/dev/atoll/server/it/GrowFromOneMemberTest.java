package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.ClusterGrpc;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.Member;
import dev.atoll.proto.etcd.MemberAddRequest;
import dev.atoll.proto.etcd.MemberAddResponse;
import dev.atoll.proto.etcd.MemberListRequest;
import dev.atoll.proto.etcd.MemberRemoveRequest;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.server.AtollServer;
import dev.atoll.server.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A single member grown to two, etcd's way of restoring a cluster (etcd lets a second voter be
 * added to a lone member though it has not started), with etcd's strict checks around it: no
 * further voter while that one is unstarted, no removing the only started member. In process.
 */
class GrowFromOneMemberTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private final List<AtollServer> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void stop() {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(AtollServer::close);
    }

    private AtollServer start(String... args) throws Exception {
        var server = new AtollServer(ServerConfig.fromArgs(args));
        servers.add(server);
        server.start();
        return server;
    }

    private ManagedChannel channel(int clientPort) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", clientPort).usePlaintext().build();
        channels.add(ch);
        return ch;
    }

    private static void assertRefused(Runnable call, Status.Code code, String text) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).isEqualTo(text);
        });
    }

    @Test
    void aLoneMemberTakesASecondVoterAndNothingThatWouldLeaveTooFewStarted() throws Exception {
        int client1 = ServerProcess.freePort();
        int peer1 = ServerProcess.freePort();
        start("--name", "n1", "--data-dir", dir.resolve("n1").toString(), "--listen-client", "127.0.0.1:" + client1,
                "--listen-peer", "127.0.0.1:" + peer1);
        var cluster = ClusterGrpc.newBlockingStub(channel(client1));
        ProcessCluster.await("n1 published itself in the member table", WAIT,
                () -> servers.get(0).memberTable().currentByName("n1").map(m -> m.clientUrls().size() == 1)
                        .orElse(false));

        // an unstarted voter next to the only member: allowed (etcd restores clusters this way)
        int peer2 = ServerProcess.freePort();
        int client2 = ServerProcess.freePort();
        MemberAddResponse added = cluster.withDeadlineAfter(10, TimeUnit.SECONDS).memberAdd(MemberAddRequest
                .newBuilder().addPeerURLs("http://127.0.0.1:" + peer2).build());
        assertThat(added.getMember().getIsLearner()).isFalse();
        assertThat(added.getMembersList()).hasSize(2);
        long n2 = added.getMember().getID();

        List<Member> before = cluster.memberList(MemberListRequest.getDefaultInstance()).getMembersList();
        assertRefused(() -> cluster.memberAdd(MemberAddRequest.newBuilder()
                        .addPeerURLs("http://127.0.0.1:" + ServerProcess.freePort()).build()),
                Status.Code.UNKNOWN, "etcdserver: re-configuration failed due to not enough started members");
        assertRefused(() -> cluster.memberAdd(MemberAddRequest.newBuilder()
                        .addPeerURLs("http://127.0.0.1:" + ServerProcess.freePort()).setIsLearner(true).build()),
                Status.Code.UNAVAILABLE, "etcdserver: unhealthy cluster");
        long n1 = before.stream().filter(m -> m.getName().equals("n1")).findFirst().orElseThrow().getID();
        assertRefused(() -> cluster.memberRemove(MemberRemoveRequest.newBuilder().setID(n1).build()),
                Status.Code.UNKNOWN, "etcdserver: re-configuration failed due to not enough started members");
        assertThat(cluster.memberList(MemberListRequest.getDefaultInstance()).getMembersList()).isEqualTo(before);

        // the second member starts, joins as a voter and takes part in every write
        var kv1 = KVGrpc.newBlockingStub(channel(client1));
        kv1.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("before"))
                .setValue(ByteString.copyFromUtf8("n2")).build());
        start("--name", "n2", "--data-dir", dir.resolve("n2").toString(), "--listen-client", "127.0.0.1:" + client2,
                "--listen-peer", "127.0.0.1:" + peer2, "--initial-cluster",
                "n1=http://127.0.0.1:" + peer1 + ",n2=http://127.0.0.1:" + peer2, "--initial-cluster-state", "existing");
        ProcessCluster.await("n2 started and votes in both groups", WAIT, () -> {
            var status = servers.get(0).runtime().status(AtollServer.DEFAULT_GROUP);
            var meta = servers.get(0).runtime().status(AtollServer.META_GROUP);
            return status.membership().voters().size() == 2 && meta.membership().voters().size() == 2;
        });
        assertThat(cluster.memberList(MemberListRequest.getDefaultInstance()).getMembersList())
                .anySatisfy(m -> {
                    assertThat(m.getID()).isEqualTo(n2);
                    assertThat(m.getName()).isEqualTo("n2");
                    assertThat(m.getClientURLsList()).containsExactly("http://127.0.0.1:" + client2);
                });
        var kv2 = KVGrpc.newBlockingStub(channel(client2)).withDeadlineAfter(10, TimeUnit.SECONDS);
        kv2.put(PutRequest.newBuilder().setKey(ByteString.copyFromUtf8("through"))
                .setValue(ByteString.copyFromUtf8("n2")).build());
        assertThat(kv2.withDeadlineAfter(10, TimeUnit.SECONDS).range(RangeRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("before")).build()).getKvs(0).getValue().toStringUtf8()).isEqualTo("n2");

        // a two-voter group needs both: stopping n2 stops writes, as in etcd
        servers.remove(1).close();
        assertThatThrownBy(() -> kv1.withDeadlineAfter(2, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                .setKey(ByteString.copyFromUtf8("alone")).setValue(ByteString.copyFromUtf8("x")).build()))
                .isInstanceOf(StatusRuntimeException.class);
        // restarted with the same flags, n2 comes back from its data directory (initial-cluster and
        // initial-cluster-state are for the first start only) and the pair writes again
        start("--name", "n2", "--data-dir", dir.resolve("n2").toString(), "--listen-client", "127.0.0.1:" + client2,
                "--listen-peer", "127.0.0.1:" + peer2, "--initial-cluster",
                "n1=http://127.0.0.1:" + peer1 + ",n2=http://127.0.0.1:" + peer2, "--initial-cluster-state", "existing");
        ProcessCluster.await("the pair writes again", WAIT, () -> {
            try {
                kv1.withDeadlineAfter(5, TimeUnit.SECONDS).put(PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("pair")).setValue(ByteString.copyFromUtf8("again")).build());
                return true;
            } catch (StatusRuntimeException notYet) {
                return false;
            }
        });
    }
}
