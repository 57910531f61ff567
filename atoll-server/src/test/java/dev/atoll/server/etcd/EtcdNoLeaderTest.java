package dev.atoll.server.etcd;

import com.google.protobuf.ByteString;
import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Membership;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RangeRequest;
import dev.atoll.server.runtime.NodeRuntime;
import dev.atoll.server.runtime.PeerSender;
import dev.atoll.storage.mvcc.MvccConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.atoll.server.etcd.EtcdKvTest.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A member of a two-voter group whose peer never answers: it can never elect a leader, so
 * writes and linearizable reads answer etcd's "no leader" while serializable reads still work.
 */
class EtcdNoLeaderTest {
    @TempDir
    Path dir;

    @Test
    void withoutALeaderWritesAndLinearizableReadsAnswerNoLeader() throws Exception {
        NodeId self = NodeId.of("n1");
        var executor = EtcdApi.newExecutor(2, 1_000);
        var runtime = new NodeRuntime(self, dir.resolve("node"), NodeRuntime.Options.defaults().withTickMillis(10),
                new SimpleMeterRegistry());
        var stateMachine = new EtcdStateMachine(dir.resolve("mvcc"), MvccConfig.defaults(), EtcdOptions.defaults(),
                executor, new LeaseDeadlines(System::nanoTime));
        runtime.addGroup(1, RaftConfig.defaults(), Membership.ofVoters(Set.of(self, NodeId.of("n2"))), stateMachine);
        runtime.start(new PeerSender() {
            @Override
            public void send(long groupId, dev.atoll.core.protocol.Envelope<dev.atoll.consensus.raft.RaftMessage> e) {
            }

            @Override
            public void flush() {
            }
        });
        var members = new EtcdMembers("atoll-test", Map.of());
        var api = new EtcdApi(runtime, 1, stateMachine, EtcdOptions.defaults(), members, node -> null, executor);
        var builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
        api.services().forEach(builder::addService);
        Server server = builder.build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            api.start();
            var kv = KVGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
            var key = ByteString.copyFromUtf8("k");
            assertStatus(() -> kv.put(PutRequest.newBuilder().setKey(key).build()), Status.Code.UNAVAILABLE,
                    "etcdserver: no leader");
            assertStatus(() -> kv.range(RangeRequest.newBuilder().setKey(key).build()), Status.Code.UNAVAILABLE,
                    "etcdserver: no leader");
            assertThat(kv.range(RangeRequest.newBuilder().setKey(key).setSerializable(true).build()).getCount())
                    .isZero();
        } finally {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            api.close();
            runtime.close();
            executor.shutdownNow();
        }
    }
}
