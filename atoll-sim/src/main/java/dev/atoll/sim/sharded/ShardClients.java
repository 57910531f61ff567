package dev.atoll.sim.sharded;

import dev.atoll.core.NodeId;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.replica.KeyValue;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardResult;
import dev.atoll.sim.check.Op;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The simulated clients: each runs one operation at a time (get, put, delete, or a scan of the
 * range keyspace) on a key of any of the three keyspaces, routes it with its cached copy of the shard map to the shard's leader, and
 * retries, within the operation, after any answer that proves the attempt had no effect
 * (NotLeader, ShardMoved, StaleEpoch, no such replica, another entry committed in its place),
 * refreshing its map first when the answer says it is stale. An attempt that gets no answer
 * ends the operation: a write's outcome is then unknown, a read simply failed.
 *
 * <p>A scan is recorded for the checker as one read of every key of the client's key set from
 * its start key on, all invoked at once: those the answer covered complete with the value read
 * (or absent), the rest fail. A scan served by one replica at one log position is an atomic
 * read of each key it covers, so each key's history stays checkable on its own.
 */
final class ShardClients {
    private static final long ATTEMPT_TIMEOUT_MICROS = 300_000;
    private static final long OPERATION_MICROS_MAX = 2_000_000;
    private static final int ATTEMPTS_MAX = 40;
    private static final int SCAN_LIMIT_MAX = 6;

    private enum Kind { GET, PUT, DELETE, SCAN }

    private static final class Client {
        final int id;
        ShardMap map;
        final Map<ShardId, NodeId> leaders = new HashMap<>();
        Kind kind;
        String keyspace;
        Key key;
        String value;
        int scanLimit;
        final List<Key> scanKeys = new ArrayList<>();
        final List<Integer> opIds = new ArrayList<>();
        ShardId shard;
        /** Counts every attempt of the client's life, so a late answer never matches a later operation. */
        int attempt;
        int attemptsOfOperation;
        long deadline;
        boolean busy;
        boolean okAfterHeal;
        boolean stopped;

        Client(int id, ShardMap map) {
            this.id = id;
            this.map = map;
        }
    }

    private final ShardedSimulation sim;
    private final List<Client> clients = new ArrayList<>();
    private final long thinkMicrosMax;

    ShardClients(ShardedSimulation sim, int count) {
        this.sim = sim;
        for (int i = 0; i < count; i++) {
            clients.add(new Client(i, sim.initialMap));
        }
        this.thinkMicrosMax = sim.random.chance(0.5) ? 2_000 : 20_000;
    }

    int count() {
        return clients.size();
    }

    void start() {
        for (Client c : clients) {
            sim.schedule(sim.random.nextLong(50_000), () -> wake(c));
        }
    }

    boolean allStopped() {
        return clients.stream().allMatch(c -> c.stopped);
    }

    String waiting() {
        return "clientsWaiting=" + clients.stream().filter(c -> !c.stopped).count();
    }

    // ---------------------------------------------------------------- operations

    private void wake(Client c) {
        if (c.stopped) {
            return;
        }
        if (sim.livenessPhase && c.okAfterHeal) {
            c.stopped = true;
            return;
        }
        var random = sim.random;
        int choice = random.nextInt(20);
        c.kind = choice < 7 ? Kind.GET : choice < 14 ? Kind.PUT : choice < 17 ? Kind.DELETE : Kind.SCAN;
        int keyspace = c.kind == Kind.SCAN ? 0 : random.nextInt(3);
        c.keyspace = keyspace == 0 ? ShardedSimulation.RANGE_KEYSPACE
                : keyspace == 1 ? ShardedSimulation.HASH_KEYSPACE : ShardedSimulation.DIRECTORY_KEYSPACE;
        List<Key> keys = sim.keys.get(c.keyspace);
        c.key = keys.get(random.nextInt(keys.size()));
        c.opIds.clear();
        c.scanKeys.clear();
        switch (c.kind) {
            case GET -> c.opIds.add(sim.history.invoke(c.id, sim.now, new Op.Get(name(c.key))));
            case PUT -> {
                c.value = "v" + sim.history.size();
                c.opIds.add(sim.history.invoke(c.id, sim.now, new Op.Put(name(c.key), c.value)));
            }
            case DELETE -> c.opIds.add(sim.history.invoke(c.id, sim.now, new Op.Put(name(c.key), null)));
            case SCAN -> {
                c.scanLimit = 1 + random.nextInt(SCAN_LIMIT_MAX);
                for (Key k : keys) {
                    if (k.compareTo(c.key) >= 0) {
                        c.scanKeys.add(k);
                        c.opIds.add(sim.history.invoke(c.id, sim.now, new Op.Get(name(k))));
                    }
                }
            }
        }
        c.busy = true;
        c.attemptsOfOperation = 0;
        c.deadline = sim.now + OPERATION_MICROS_MAX;
        sim.trace("invoke c" + c.id + " " + c.kind + " " + name(c.key) + (c.value == null ? "" : " " + c.value));
        attempt(c);
    }

    private String name(Key k) {
        return sim.keyNames.get(k);
    }

    private void attempt(Client c) {
        if (!c.busy) {
            return;
        }
        c.attempt++;
        if (++c.attemptsOfOperation > ATTEMPTS_MAX || sim.now > c.deadline) {
            // every attempt so far was refused without effect
            finish(c, false, null);
            return;
        }
        ShardDescriptor shard = c.map.lookup(c.keyspace, c.key).orElseThrow();
        c.shard = shard.id();
        ShardCommand command = switch (c.kind) {
            case GET -> new ShardCommand.Get(shard.id(), shard.epoch(), c.key);
            case PUT -> new ShardCommand.Put(shard.id(), shard.epoch(), c.key, c.value.getBytes(StandardCharsets.UTF_8));
            case DELETE -> new ShardCommand.Delete(shard.id(), shard.epoch(), c.key);
            case SCAN -> new ShardCommand.Scan(shard.id(), shard.epoch(), new KeyRange(c.key, Key.END), c.scanLimit);
        };
        NodeId target = c.leaders.get(shard.id());
        if (target == null || !shard.hasReplicaOn(target)) {
            target = shard.leader().orElse(shard.voters().get(sim.random.nextInt(shard.voters().size())));
        }
        var req = new ShardRequest(c.id, c.attempt, shard.id().value(), command);
        Host h = sim.hosts.get(target);
        sim.schedule(sim.network.delay(), () -> {
            if (h.crashed) {
                retry(h, req, null, true); // connection refused: never executed
            } else {
                sim.onHost(h, () -> sim.handleRequest(h, req));
            }
        });
        int attempt = c.attempt;
        sim.schedule(ATTEMPT_TIMEOUT_MICROS, () -> timeout(c, attempt));
    }

    /** The attempt took effect with {@code result}, or was refused by the replica (ShardMoved, StaleEpoch). */
    void reply(Host from, ShardRequest req, ShardResult result) {
        Client c = clients.get(req.clientId());
        sim.schedule(sim.network.delay(), () -> {
            if (!c.busy || c.attempt != req.attempt()) {
                return;
            }
            switch (result) {
                case ShardResult.Written w -> finish(c, true, null);
                case ShardResult.Value v -> finish(c, true, v.value() == null ? null
                        : new String(v.value(), StandardCharsets.UTF_8));
                case ShardResult.Rows rows -> finishScan(c, rows);
                default -> {
                    sim.trace("refused c" + c.id + " attempt " + req.attempt() + ": " + result);
                    refreshThenAttempt(c);
                    return;
                }
            }
            c.leaders.put(c.shard, from.id);
        });
    }

    /**
     * The attempt had no effect and never will: retry, at {@code leaderHint} if given, after
     * refreshing the map when {@code refresh} (the host holds no such replica, or knows no leader).
     */
    void retry(Host from, ShardRequest req, NodeId leaderHint, boolean refresh) {
        Client c = clients.get(req.clientId());
        sim.schedule(sim.network.delay(), () -> {
            if (!c.busy || c.attempt != req.attempt()) {
                return;
            }
            if (leaderHint != null) {
                c.leaders.put(c.shard, leaderHint);
            } else {
                c.leaders.remove(c.shard);
            }
            if (refresh) {
                refreshThenAttempt(c);
            } else {
                sim.schedule(1_000 + sim.random.nextLong(5_000), () -> attempt(c));
            }
        });
    }

    /** Fetches the map from a meta replica (any: a stale one only costs another retry), then retries. */
    private void refreshThenAttempt(Client c) {
        int attempt = c.attempt;
        NodeId from = sim.metaVoters().get(sim.random.nextInt(sim.metaVoters().size()));
        sim.schedule(2 * sim.network.delay() + sim.random.nextLong(5_000), () -> {
            if (!c.busy || c.attempt != attempt) {
                return;
            }
            GroupReplica meta = sim.hosts.get(from).group(GroupReplica.META);
            if (meta != null && meta.meta.map().version() > c.map.version()) {
                c.map = meta.meta.map();
            }
            attempt(c);
        });
    }

    private void timeout(Client c, int attempt) {
        if (!c.busy || c.attempt != attempt) {
            return;
        }
        sim.trace("timeout c" + c.id + " attempt " + attempt);
        c.busy = false;
        for (int opId : c.opIds) {
            if (c.kind == Kind.PUT || c.kind == Kind.DELETE) {
                sim.history.info(opId, sim.now);
            } else {
                sim.history.fail(opId, sim.now); // a read that never answered had no effect
            }
        }
        c.leaders.remove(c.shard);
        next(c);
    }

    private void finish(Client c, boolean ok, String result) {
        c.busy = false;
        for (int opId : c.opIds) {
            if (ok) {
                sim.history.ok(opId, sim.now, result);
            } else {
                sim.history.fail(opId, sim.now);
            }
        }
        sim.trace((ok ? "ok c" : "fail c") + c.id + " " + c.kind + " " + name(c.key) + (ok && result != null ? " " + result : ""));
        if (ok && sim.livenessPhase) {
            c.okAfterHeal = true;
        }
        next(c);
    }

    private void finishScan(Client c, ShardResult.Rows rows) {
        c.busy = false;
        var read = new HashMap<Key, String>();
        for (KeyValue kv : rows.rows()) {
            read.put(kv.key(), new String(kv.value(), StandardCharsets.UTF_8));
        }
        for (int i = 0; i < c.scanKeys.size(); i++) {
            Key k = c.scanKeys.get(i);
            boolean covered = rows.resumeAt() == null || k.compareTo(rows.resumeAt()) < 0;
            if (covered) {
                sim.history.ok(c.opIds.get(i), sim.now, read.get(k));
            } else {
                sim.history.fail(c.opIds.get(i), sim.now);
            }
        }
        for (Key k : read.keySet()) {
            ShardedSimulation.check(c.scanKeys.contains(k), "a scan from %s returned %s, a key nobody wrote", c.key, k);
        }
        sim.trace("ok c" + c.id + " SCAN " + name(c.key) + " rows=" + rows.rows().size() + " resumeAt=" + rows.resumeAt());
        if (sim.livenessPhase) {
            c.okAfterHeal = true;
        }
        next(c);
    }

    private void next(Client c) {
        sim.schedule(sim.random.nextLong(thinkMicrosMax), () -> wake(c));
    }
}
