package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.LeaseGrantRequest;
import dev.atoll.proto.etcd.LeaseGrpc;
import dev.atoll.proto.etcd.LeaseTimeToLiveRequest;
import dev.atoll.proto.etcd.PutRequest;
import dev.atoll.proto.etcd.RangeRequest;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A key attached to a 3 s lease, and the leader that granted it killed with SIGKILL before it
 * ran out: the new leader restarts every lease deadline at the full TTL (the old leader's clock
 * died with it), so the key is still deleted, by a logged expiry, no sooner than a TTL after the
 * kill and within TTL + election time.
 */
class LeaseExpiryAcrossLeaderChangeTest {
    private static final long TTL_SECONDS = 3;

    @TempDir
    Path dir;
    private ProcessCluster cluster;

    @AfterEach
    void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private long countThrough(ServerProcess member, boolean serializable) {
        try {
            return cluster.kv(member).range(RangeRequest.newBuilder().setKey(bytes("leased/k"))
                    .setSerializable(serializable).setCountOnly(true).build()).getCount();
        } catch (StatusRuntimeException notNow) {
            return -1; // no answer yet (the election is still going on)
        }
    }

    @Test
    void aLeasedKeyExpiresAfterTheLeaderThatGrantedItIsKilled() throws Exception {
        cluster = ProcessCluster.start(dir);
        ServerProcess leader = cluster.awaitLeader(Duration.ofSeconds(10));
        ServerProcess follower = cluster.followers(leader).get(0);
        var leases = LeaseGrpc.newBlockingStub(cluster.channel(leader)).withDeadlineAfter(10, TimeUnit.SECONDS);
        long lease = leases.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(TTL_SECONDS).build()).getID();
        cluster.kv(leader).put(PutRequest.newBuilder().setKey(bytes("leased/k")).setValue(bytes("v"))
                .setLease(lease).build());
        assertThat(countThrough(follower, false)).as("the leased key, read through a follower").isEqualTo(1);

        leader.kill();
        long killedAt = System.nanoTime();
        ServerProcess newLeader = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(15));
        long electedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        // deadline: the full TTL restarted by the new leader, the election, and an expiry round or two
        ProcessCluster.await("the leased key is deleted after the leader change", Duration.ofSeconds(TTL_SECONDS + 9),
                () -> countThrough(newLeader, false) == 0);
        long goneAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);

        // the new leader's clock started at the full TTL once it was elected, after the kill
        assertThat(goneAfterMillis).as("deleted no sooner than a full TTL after the kill")
                .isGreaterThanOrEqualTo(TimeUnit.SECONDS.toMillis(TTL_SECONDS));
        for (ServerProcess s : cluster.followers(leader)) {
            ProcessCluster.await(s.name + " applied the expiry", Duration.ofSeconds(5), () -> countThrough(s, true) == 0);
            long ttl = LeaseGrpc.newBlockingStub(cluster.channel(s)).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .leaseTimeToLive(LeaseTimeToLiveRequest.newBuilder().setID(lease).build()).getTTL();
            assertThat(ttl).as("the lease is gone, asked through %s", s.name).isEqualTo(-1);
        }
        System.out.printf("lease of %d s across kill -9 of %s: %s elected %d ms after the kill, key deleted %d ms "
                + "after it%n", TTL_SECONDS, leader.name, newLeader.name, electedAfterMillis, goneAfterMillis);
    }
}
