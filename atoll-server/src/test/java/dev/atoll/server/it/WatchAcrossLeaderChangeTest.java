package dev.atoll.server.it;

import com.google.protobuf.ByteString;
import dev.atoll.proto.etcd.KVGrpc;
import dev.atoll.proto.etcd.PutRequest;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A watcher on a follower of a three-process cluster follows a prefix while a writer puts a
 * numbered sequence of keys; the leader is killed with SIGKILL half-way and the writer carries
 * on once a new leader is elected. The watcher sees every acknowledged put exactly once, at the
 * revision it was acknowledged with, in strictly increasing revision order, and never a key
 * that was not written; a put that was not acknowledged appears at most once. Should the watch
 * stream break, the watcher resumes from its last revision + 1, as a client does.
 */
class WatchAcrossLeaderChangeTest {
    private static final String PREFIX = "seq/";
    private static final int WRITES_BEFORE_KILL = 60;
    private static final int WRITES_AFTER_FAILOVER = 60;

    @TempDir
    Path dir;
    private ProcessCluster cluster;
    private Client watchClient;

    @AfterEach
    void stop() throws InterruptedException {
        if (watchClient != null) {
            watchClient.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private record Seen(String key, long revision, WatchEvent.EventType type) {
    }

    /** A prefix watch that reopens itself from the last revision seen + 1 when its stream ends. */
    private final class ResumingWatch implements Watch.Listener {
        final List<Seen> events = new ArrayList<>();
        final List<String> breaks = new ArrayList<>();
        private long lastRevision;
        private Watch.Watcher watcher;
        private boolean closed;

        ResumingWatch(long fromRevision) {
            lastRevision = fromRevision - 1;
            open();
        }

        private synchronized void open() {
            if (closed) {
                return;
            }
            watcher = watchClient.getWatchClient().watch(ByteSequence.from(PREFIX, StandardCharsets.UTF_8),
                    WatchOption.builder().isPrefix(true).withRevision(lastRevision + 1).build(), this);
        }

        @Override
        public synchronized void onNext(WatchResponse response) {
            for (WatchEvent e : response.getEvents()) {
                long revision = e.getKeyValue().getModRevision();
                events.add(new Seen(e.getKeyValue().getKey().toString(StandardCharsets.UTF_8), revision,
                        e.getEventType()));
                lastRevision = Math.max(lastRevision, revision);
            }
        }

        @Override
        public synchronized void onError(Throwable error) {
            if (closed) {
                return;
            }
            breaks.add(error.toString());
            Thread.ofVirtual().start(this::open);
        }

        @Override
        public synchronized void onCompleted() {
            if (closed) {
                return;
            }
            breaks.add("completed");
            Thread.ofVirtual().start(this::open);
        }

        synchronized long lastRevision() {
            return lastRevision;
        }

        synchronized void close() {
            closed = true;
            watcher.close();
        }
    }

    @Test
    void aWatcherOnAFollowerSeesEveryAcknowledgedWriteOnceAndInOrderAcrossKillingTheLeader() throws Exception {
        cluster = ProcessCluster.start(dir);
        ServerProcess leader = cluster.awaitLeader(Duration.ofSeconds(10));
        ServerProcess watched = cluster.followers(leader).get(0);
        long fromRevision = cluster.kv(leader).put(put("marker", "before-the-watch")).getHeader().getRevision() + 1;

        watchClient = Client.builder().endpoints(watched.endpoint()).build();
        var watch = new ResumingWatch(fromRevision);

        // the writer: one attempt per key, never retried, through each member in turn
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        Map<String, Integer> refusals = new ConcurrentHashMap<>();
        var writing = new AtomicBoolean(true);
        Thread writer = Thread.ofPlatform().name("writer").start(() -> {
            List<ServerProcess> members = cluster.members();
            for (int n = 0; writing.get(); n++) {
                String key = PREFIX + String.format("%06d", n);
                attempted.add(key);
                ServerProcess via = members.get(n % members.size());
                KVGrpc.KVBlockingStub kv = KVGrpc.newBlockingStub(cluster.channel(via))
                        .withDeadlineAfter(ProcessCluster.REQUEST_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
                try {
                    acknowledged.put(key, kv.put(put(key, "v" + n)).getHeader().getRevision());
                } catch (StatusRuntimeException unacknowledged) {
                    // may or may not have been applied; the watcher may show it, at most once
                    refusals.merge((via.alive() ? "by live " : "to dead ") + via.name + ": "
                            + unacknowledged.getStatus().getCode() + " " + unacknowledged.getStatus().getDescription(),
                            1, Integer::sum);
                    try {
                        TimeUnit.MILLISECONDS.sleep(20); // a client's pause before its next attempt, not a wait on the cluster
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        });
        try {
            ProcessCluster.await(WRITES_BEFORE_KILL + " writes acknowledged", Duration.ofSeconds(30),
                    () -> acknowledged.size() >= WRITES_BEFORE_KILL);
            int acknowledgedAtKill = acknowledged.size();
            leader.kill();
            ServerProcess newLeader = cluster.awaitLeaderOtherThan(leader, Duration.ofSeconds(15));
            ProcessCluster.await(WRITES_AFTER_FAILOVER + " more writes acknowledged after the kill",
                    Duration.ofSeconds(30), () -> acknowledged.size() >= acknowledgedAtKill + WRITES_AFTER_FAILOVER);
            writing.set(false);
            writer.join(TimeUnit.SECONDS.toMillis(15));
            assertThat(writer.isAlive()).as("the writer stopped").isFalse();

            long lastAcknowledged = acknowledged.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            ProcessCluster.await("the watcher reaches revision " + lastAcknowledged, Duration.ofSeconds(15),
                    () -> watch.lastRevision() >= lastAcknowledged);
            watch.close();

            List<Seen> events;
            synchronized (watch) {
                events = List.copyOf(watch.events);
            }
            for (int i = 1; i < events.size(); i++) {
                assertThat(events.get(i).revision()).as("revisions strictly increase: %s after %s", events.get(i),
                        events.get(i - 1)).isGreaterThan(events.get(i - 1).revision());
            }
            Map<String, List<Seen>> byKey = events.stream().collect(Collectors.groupingBy(Seen::key));
            assertThat(byKey.keySet()).as("only keys the writer attempted").isSubsetOf(attempted);
            byKey.forEach((key, seen) -> assertThat(seen).as("events of %s (at most once)", key).hasSize(1));
            Map<String, Long> seenAt = new HashMap<>();
            events.forEach(e -> seenAt.put(e.key(), e.revision()));
            for (var ack : acknowledged.entrySet()) {
                assertThat(seenAt).as("acknowledged put of %s seen at its revision", ack.getKey())
                        .containsEntry(ack.getKey(), ack.getValue());
            }
            assertThat(events).allMatch(e -> e.type() == WatchEvent.EventType.PUT);
            System.out.printf("watch across kill -9 of %s (new leader %s): %d puts attempted, %d acknowledged, "
                            + "%d events seen on %s, %d watch stream breaks %s; puts refused with %s%n", leader.name,
                    newLeader.name, attempted.size(), acknowledged.size(), events.size(), watched.name,
                    watch.breaks.size(), watch.breaks, refusals);
        } finally {
            writing.set(false);
            writer.join(TimeUnit.SECONDS.toMillis(15));
        }
    }

    private static PutRequest put(String key, String value) {
        return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value))
                .build();
    }
}
