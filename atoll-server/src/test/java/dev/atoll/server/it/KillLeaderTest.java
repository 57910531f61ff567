package dev.atoll.server.it;

import dev.atoll.sim.check.Linearizability;
import dev.atoll.sim.check.Op;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.GetOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real server processes under a concurrent write load; the leader is killed with
 * SIGKILL. A new leader takes over, every acknowledged write is readable with its value, the
 * killed node restarts and catches up, and the clients' recorded history is linearizable.
 */
class KillLeaderTest {
    private static final int CLIENTS = 4;
    private static final String[] REGISTERS = {"r0", "r1", "r2"};

    @TempDir
    Path dir;

    private final List<ServerProcess> servers = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private volatile long killedAtNanos = Long.MAX_VALUE;
    private final AtomicLong firstOkAfterKillNanos = new AtomicLong(Long.MAX_VALUE);

    @AfterEach
    void stopEverything() throws InterruptedException {
        clients.forEach(Client::close);
        for (ServerProcess s : servers) {
            s.stop();
        }
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Test
    void everyAcknowledgedWriteSurvivesKillingTheLeader() throws Exception {
        var cluster = new StringBuilder();
        int[] clientPorts = new int[3];
        int[] peerPorts = new int[3];
        for (int i = 0; i < 3; i++) {
            clientPorts[i] = ServerProcess.freePort();
            peerPorts[i] = ServerProcess.freePort();
            cluster.append(i == 0 ? "" : ",").append("n").append(i + 1).append("=127.0.0.1:").append(peerPorts[i]);
        }
        for (int i = 0; i < 3; i++) {
            // frequent snapshots: the killed node comes back behind a compaction and catches up
            // through InstallSnapshot (a RocksDB checkpoint streamed in chunks)
            var s = new ServerProcess("n" + (i + 1), clientPorts[i], peerPorts[i], dir.resolve("n" + (i + 1)),
                    cluster.toString(), "--snapshot-count", "100");
            s.start();
            servers.add(s);
        }
        for (ServerProcess s : servers) {
            s.awaitListening(Duration.ofSeconds(60));
        }
        String[] endpoints = servers.stream().map(ServerProcess::endpoint).toArray(String[]::new);
        Client admin = Client.builder().endpoints(endpoints).build();
        clients.add(admin);
        awaitWrite(admin.getKVClient(), Duration.ofSeconds(60));

        var history = new ClientHistory();
        var acknowledged = new ConcurrentHashMap<String, String>();
        var running = new AtomicBoolean(true);
        var sequence = new AtomicLong();
        var lastWriteOkNanos = new AtomicLong();
        var workers = new ArrayList<Thread>();
        for (int c = 0; c < CLIENTS; c++) {
            int clientId = c;
            Client client = Client.builder().endpoints(endpoints).build();
            clients.add(client);
            workers.add(Thread.ofPlatform().name("load-" + c).start(() -> load(clientId, client.getKVClient(), history,
                    acknowledged, running, sequence, lastWriteOkNanos)));
        }
        TimeUnit.SECONDS.sleep(3);

        ServerProcess leader = leader(admin);
        long killedAt = System.nanoTime();
        killedAtNanos = killedAt;
        leader.kill();
        awaitWriteAfter(firstOkAfterKillNanos, killedAt, Duration.ofSeconds(30));
        long failoverNanos = firstOkAfterKillNanos.get() - killedAt;
        TimeUnit.SECONDS.sleep(3);
        leader.start();
        leader.awaitListening(Duration.ofSeconds(60));
        TimeUnit.SECONDS.sleep(2);
        running.set(false);
        for (Thread t : workers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }

        // every acknowledged write is there, with its value, read linearizably
        KV kv = admin.getKVClient();
        GetResponse all = kv.get(bytes("w/"), GetOption.builder().isPrefix(true).build()).get(30, TimeUnit.SECONDS);
        Map<String, String> stored = new ConcurrentHashMap<>();
        all.getKvs().forEach(k -> stored.put(k.getKey().toString(StandardCharsets.UTF_8),
                k.getValue().toString(StandardCharsets.UTF_8)));
        assertThat(acknowledged).isNotEmpty();
        for (var e : acknowledged.entrySet()) {
            assertThat(stored).as("acknowledged write %s", e.getKey()).containsEntry(e.getKey(), e.getValue());
        }

        // the restarted node catches up: its local (serializable) view reaches the others'
        long revision = all.getHeader().getRevision();
        try (Client restarted = Client.builder().endpoints(leader.endpoint()).build()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                GetResponse local = restarted.getKVClient().get(bytes("w/"),
                        GetOption.builder().isPrefix(true).withSerializable(true).withCountOnly(true).build())
                        .get(10, TimeUnit.SECONDS);
                if (local.getHeader().getRevision() >= revision) {
                    assertThat(local.getCount()).isEqualTo(all.getCount());
                    break;
                }
                assertThat(System.nanoTime()).as("restarted node caught up within 30 s").isLessThan(deadline);
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }

        assertThat(leader.log()).as("the restarted node installed a snapshot from the new leader")
                .contains("snapshot_installed");

        var verdict = Linearizability.check(history.history());
        assertThat(verdict.verdict()).as(verdict.explanation()).isNotEqualTo(Linearizability.Verdict.NOT_LINEARIZABLE);
        System.out.printf("kill -9 of the leader: first write sent after the kill acknowledged %.0f ms after it; %d writes acknowledged; "
                        + "history of %d operations: %s%n", failoverNanos / 1e6, acknowledged.size(), history.history().size(),
                verdict.verdict());
    }

    private void load(int clientId, KV kv, ClientHistory history, Map<String, String> acknowledged, AtomicBoolean running,
                      AtomicLong sequence, AtomicLong lastWriteOkNanos) {
        var random = new java.util.Random(clientId);
        while (running.get()) {
            long n = sequence.incrementAndGet();
            String register = REGISTERS[random.nextInt(REGISTERS.length)];
            int choice = random.nextInt(3);
            try {
                if (choice == 0) {
                    // a durability probe: a unique key whose acknowledgement we remember
                    String key = "w/" + n;
                    long invoked = System.nanoTime();
                    kv.put(bytes(key), bytes("v" + n)).get(5, TimeUnit.SECONDS);
                    acknowledged.put(key, "v" + n);
                    if (invoked > killedAtNanos) {
                        firstOkAfterKillNanos.compareAndSet(Long.MAX_VALUE, System.nanoTime());
                    }
                    lastWriteOkNanos.set(System.nanoTime());
                } else if (choice == 1) {
                    String value = "v" + n;
                    int op = history.invoke(clientId, new Op.Put(register, value));
                    try {
                        kv.put(bytes(register), bytes(value)).get(5, TimeUnit.SECONDS);
                        history.complete(op, true, null);
                        lastWriteOkNanos.set(System.nanoTime());
                    } catch (ExecutionException | TimeoutException e) {
                        history.indeterminate(op);
                    }
                } else {
                    int op = history.invoke(clientId, new Op.Get(register));
                    try {
                        GetResponse r = kv.get(bytes(register)).get(5, TimeUnit.SECONDS);
                        String value = r.getKvs().isEmpty() ? null
                                : r.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
                        history.complete(op, true, value);
                    } catch (ExecutionException | TimeoutException e) {
                        history.complete(op, false, null); // a read that failed had no effect
                    }
                }
            } catch (ExecutionException | TimeoutException e) {
                // an unacknowledged durability probe: it may or may not exist; not checked
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private ServerProcess leader(Client admin) throws Exception {
        for (ServerProcess s : servers) {
            StatusResponse st = admin.getMaintenanceClient().statusMember(s.endpoint()).get(10, TimeUnit.SECONDS);
            if (st.getLeader() == st.getHeader().getMemberId()) {
                return s;
            }
        }
        throw new AssertionError("no member reports itself leader");
    }

    private static void awaitWrite(KV kv, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                kv.put(bytes("probe"), bytes("1")).get(5, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException | TimeoutException notYet) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
        throw new AssertionError("the cluster accepted no write within " + timeout);
    }

    private static long awaitWriteAfter(AtomicLong lastWriteOkNanos, long since, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (lastWriteOkNanos.get() == Long.MAX_VALUE || lastWriteOkNanos.get() <= since) {
            assertThat(System.nanoTime()).as("a write acknowledged after the kill").isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(5);
        }
        return lastWriteOkNanos.get() - since;
    }
}
