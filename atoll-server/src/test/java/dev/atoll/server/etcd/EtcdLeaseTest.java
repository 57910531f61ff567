package dev.atoll.server.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.atoll.server.etcd.EtcdKvTest.assertEtcdError;
import static dev.atoll.server.etcd.EtcdKvTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Lease service through jetcd: grant, attach, revoke, keep-alive, expiry through the log. */
class EtcdLeaseTest {
    @TempDir
    static Path dir;
    private static SingleNodeEtcd node;
    private static Client client;
    private static KV kv;
    private static Lease lease;

    @BeforeAll
    static void start() throws InterruptedException {
        node = SingleNodeEtcd.start(dir, EtcdOptions.defaults().withLeaseTtlSecondsMin(1));
        client = Client.builder().endpoints(node.endpoint()).build();
        kv = client.getKVClient();
        lease = client.getLeaseClient();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    private static int keyCount(String key) throws Exception {
        return kv.get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs().size();
    }

    @Test
    void revokingALeaseDeletesItsKeys() throws Exception {
        long id = lease.grant(60).get(10, TimeUnit.SECONDS).getID();
        kv.put(bytes("l/revoked"), bytes("v"), PutOption.builder().withLeaseId(id).build()).get(10, TimeUnit.SECONDS);
        assertThat(kv.get(bytes("l/revoked")).get(10, TimeUnit.SECONDS).getKvs().getFirst().getLease()).isEqualTo(id);
        LeaseTimeToLiveResponse ttl = lease.timeToLive(id, LeaseOption.builder().withAttachedKeys().build())
                .get(10, TimeUnit.SECONDS);
        assertThat(ttl.getGrantedTTL()).isEqualTo(60);
        assertThat(ttl.getTTL()).isBetween(55L, 60L);
        assertThat(ttl.getKeys()).extracting(EtcdKvTest::text).containsExactly("l/revoked");
        // jetcd 0.8.7 has no LeaseLeases: ask with our own stub
        var channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", node.port())
                .usePlaintext().build();
        try {
            var leases = dev.atoll.proto.etcd.LeaseGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .leaseLeases(dev.atoll.proto.etcd.LeaseLeasesRequest.getDefaultInstance());
            assertThat(leases.getLeasesList()).anyMatch(l -> l.getID() == id);
        } finally {
            channel.shutdownNow();
        }

        lease.revoke(id).get(10, TimeUnit.SECONDS);

        assertThat(keyCount("l/revoked")).isZero();
        assertThat(lease.timeToLive(id, LeaseOption.DEFAULT).get(10, TimeUnit.SECONDS).getTTL()).isEqualTo(-1);
        assertEtcdError(() -> lease.revoke(id).get(10, TimeUnit.SECONDS), Status.Code.NOT_FOUND,
                "etcdserver: requested lease not found");
    }

    @Test
    void keepAliveExtendsTheTtlAndExpiryDeletesTheKeyThroughTheLog() throws Exception {
        long kept = lease.grant(2).get(10, TimeUnit.SECONDS).getID();
        long dropped = lease.grant(1).get(10, TimeUnit.SECONDS).getID();
        kv.put(bytes("l/kept"), bytes("v"), PutOption.builder().withLeaseId(kept).build()).get(10, TimeUnit.SECONDS);
        kv.put(bytes("l/dropped"), bytes("v"), PutOption.builder().withLeaseId(dropped).build())
                .get(10, TimeUnit.SECONDS);
        long revisionBefore = kv.get(bytes("l/kept")).get(10, TimeUnit.SECONDS).getHeader().getRevision();

        for (int i = 0; i < 6; i++) { // 3 s: past both TTLs
            assertThat(lease.keepAliveOnce(kept).get(10, TimeUnit.SECONDS).getTTL()).isEqualTo(2);
            Thread.sleep(500);
        }

        assertThat(keyCount("l/kept")).isEqualTo(1);
        assertThat(keyCount("l/dropped")).isZero();
        var dropRevision = kv.get(bytes("l/kept")).get(10, TimeUnit.SECONDS).getHeader().getRevision();
        assertThat(dropRevision).as("the expiry was a logged write").isEqualTo(revisionBefore + 1);
        // the server answers TTL 0 for a lease it does not know, which jetcd reports as etcd's error
        assertThatThrownBy(() -> lease.keepAliveOnce(dropped).get(10, TimeUnit.SECONDS))
                .hasMessageContaining("etcdserver: requested lease not found");
        lease.revoke(kept).get(10, TimeUnit.SECONDS);
    }
}
