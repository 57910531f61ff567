package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.NodeId;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Role;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Groups hosted and removed while the runtime runs: a group hosted again continues from its own state. */
class NodeRuntimeHostedGroupsTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final long SHARD_GROUP = 7;

    @TempDir
    Path dir;
    private NodeRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    private void startRuntime() {
        runtime = new NodeRuntime(N1, dir, NodeRuntime.Options.defaults().withTickMillis(10), new SimpleMeterRegistry());
        runtime.start(new PeerSender() {
            @Override
            public void send(long groupId, Envelope<RaftMessage> envelope) {
            }

            @Override
            public void flush() {
            }
        });
    }

    private void host(MetaStateMachine sm) throws Exception {
        runtime.hostGroup(SHARD_GROUP, RaftConfig.defaults(), Membership.ofVoters(Set.of(N1)), sm, 1_000)
                .get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            LogStatus s = runtime.status(SHARD_GROUP);
            if (s != null && s.role() == Role.LEADER) {
                return;
            }
            assertThat(System.nanoTime()).as("the lone voter leads within 20 s").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    private void put(String key, String value) throws Exception {
        runtime.propose(SHARD_GROUP, (key + "=" + value).getBytes(StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aGroupRemovedAndHostedAgainContinuesFromItsOwnState() throws Exception {
        startRuntime();
        host(new MetaStateMachine());
        put("a", "1");
        put("b", "2");

        runtime.removeGroup(SHARD_GROUP, true).get(5, TimeUnit.SECONDS);
        assertThat(runtime.status(SHARD_GROUP)).isNull();
        assertThatThrownBy(() -> runtime.propose(SHARD_GROUP, "c=3".getBytes(StandardCharsets.UTF_8))
                .get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalArgumentException.class);

        var again = new MetaStateMachine(); // its data was deleted with the replica
        host(again);
        assertThat(again.get("a")).isEqualTo("1");
        put("c", "3");
        assertThat(again.contents()).containsEntry("b", "2").containsEntry("c", "3");
    }

    @Test
    void aGroupHostedWhileRunningRestartsFromTheWal() throws Exception {
        startRuntime();
        host(new MetaStateMachine());
        put("a", "1");
        runtime.close();

        startRuntime();
        var restarted = new MetaStateMachine();
        host(restarted);

        assertThat(restarted.get("a")).isEqualTo("1");
    }

    @Test
    void hostingAGroupTwiceIsRefused() throws Exception {
        startRuntime();
        host(new MetaStateMachine());

        assertThatThrownBy(() -> runtime.hostGroup(SHARD_GROUP, RaftConfig.defaults(), Membership.ofVoters(Set.of(N1)),
                new MetaStateMachine(), 1_000).get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    }
}
