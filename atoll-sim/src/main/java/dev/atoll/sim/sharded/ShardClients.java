package dev.atoll.sim.sharded;

import dev.atoll.core.NodeId;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ScanStitch;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.replica.KeyValue;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardResult;
import dev.atoll.sim.check.Op;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.atoll.sim.sharded.ShardedSimulation.check;

/**
 * The simulated clients: each runs one operation at a time (get, put, delete, or a scan) on any
 * of the three keyspaces, routes it with its cached copy of the shard map to the shard's leader,
 * and retries, within the operation, after any answer that proves the attempt had no effect
 * (NotLeader, ShardMoved, StaleEpoch, no such replica, another entry committed in its place),
 * refreshing its map first when the answer says it is stale. An attempt that gets no answer
 * ends the operation: a write's outcome is then unknown, a read simply failed.
 *
 * <p>A scan (from a key or the keyspace's start, to a key or its end, with a limit) is stitched
 * from its shards' parts by the product's {@link ScanStitch}, as the server's Range does: a range
 * keyspace shard by shard in key order, a hash or directory keyspace from every shard of the
 * client's map at once. Each part is a Scan command through its shard's log, so one linearizable
 * read of that shard at the range version it was routed with. A refused part is routed again from
 * the same cursor (key order), or, for every shard at once, the whole round is asked again of a
 * refreshed map; a part that met no leader is sent again on its own. {@link ScanCheck} checks the
 * answer, and records every key of the scan's range as a read over the scan's interval.
 */
final class ShardClients {
    private static final long ATTEMPT_TIMEOUT_MICROS = 300_000;
    private static final long OPERATION_MICROS_MAX = 2_000_000;
    private static final int ATTEMPTS_MAX = 40;
    private static final int SCAN_LIMIT_MAX = 6;
    /** A limit above any keyspace's key count: such a scan is never cut. */
    private static final int SCAN_LIMIT_WIDE = 100;

    private enum Kind { GET, PUT, DELETE, SCAN }

    private static final class Client {
        final int id;
        ShardMap map;
        final Map<ShardId, NodeId> leaders = new HashMap<>();
        Kind kind;
        String keyspace;
        Key key;
        String value;
        int opId;
        ScanCheck.Write write;
        ScanCheck.Scan scan;
        /** A scan in key order: the part asked now. */
        ScanStitch.Part part;
        /** A scan of every shard at once: the shards of this round and the answers so far. */
        List<ShardDescriptor> round = List.of();
        final Map<Long, List<KeyValue>> answers = new HashMap<>();
        /** The requests of the operation awaiting an answer: group to attempt number. */
        final Map<Long, Integer> inFlight = new HashMap<>();
        /** Counts every request of the client's life, so a late answer never matches a later one. */
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
    private final List<Client> clients = new java.util.ArrayList<>();
    private final long thinkMicrosMax;
    final ScanCheck scans;

    ShardClients(ShardedSimulation sim, int count) {
        this.sim = sim;
        for (int i = 0; i < count; i++) {
            clients.add(new Client(i, sim.initialMap));
        }
        this.thinkMicrosMax = sim.random.chance(0.5) ? 2_000 : 20_000;
        this.scans = new ScanCheck(sim);
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
        int keyspace = random.nextInt(3);
        c.keyspace = keyspace == 0 ? ShardedSimulation.RANGE_KEYSPACE
                : keyspace == 1 ? ShardedSimulation.HASH_KEYSPACE : ShardedSimulation.DIRECTORY_KEYSPACE;
        List<Key> keys = sim.keys.get(c.keyspace);
        c.key = keys.get(random.nextInt(keys.size()));
        c.value = null;
        c.write = null;
        c.scan = null;
        switch (c.kind) {
            case GET -> c.opId = sim.history.invoke(c.id, sim.now, new Op.Get(name(c.key)));
            case PUT -> {
                c.value = "v" + sim.history.size();
                c.opId = sim.history.invoke(c.id, sim.now, new Op.Put(name(c.key), c.value));
                c.write = scans.writeInvoked(c.key, c.value);
            }
            case DELETE -> {
                c.opId = sim.history.invoke(c.id, sim.now, new Op.Put(name(c.key), null));
                c.write = scans.writeInvoked(c.key, null);
            }
            case SCAN -> {
                Key from = random.chance(0.75) ? c.key : Key.MIN;
                Key to = keys.get(random.nextInt(keys.size()));
                if (random.chance(0.5) || to.compareTo(from) <= 0) {
                    to = Key.END;
                }
                int limit = random.chance(0.25) ? SCAN_LIMIT_WIDE : 1 + random.nextInt(SCAN_LIMIT_MAX);
                c.scan = scans.begin(c.id, c.keyspace, new KeyRange(from, to), limit);
            }
        }
        c.busy = true;
        c.attemptsOfOperation = 0;
        c.deadline = sim.now + OPERATION_MICROS_MAX;
        sim.trace("invoke c" + c.id + " " + c.kind + " " + (c.scan != null ? c.scan.stitch : name(c.key))
                + (c.value == null ? "" : " " + c.value));
        attempt(c);
    }

    private String name(Key k) {
        return sim.keyNames.get(k);
    }

    /** The operation's next try: the one request of a get, put, delete or scan part, or a round of every shard. */
    private void attempt(Client c) {
        if (!c.busy) {
            return;
        }
        c.inFlight.clear();
        c.answers.clear();
        if (++c.attemptsOfOperation > ATTEMPTS_MAX || sim.now > c.deadline) {
            // every attempt so far was refused without effect
            finish(c, false, null);
            return;
        }
        if (c.kind != Kind.SCAN) {
            ShardDescriptor shard = c.map.lookup(c.keyspace, c.key).orElseThrow();
            send(c, shard, switch (c.kind) {
                case GET -> new ShardCommand.Get(shard.id(), shard.epoch(), c.key);
                case PUT -> new ShardCommand.Put(shard.id(), shard.epoch(), c.key,
                        c.value.getBytes(StandardCharsets.UTF_8));
                case DELETE -> new ShardCommand.Delete(shard.id(), shard.epoch(), c.key);
                case SCAN -> throw new IllegalStateException("a scan goes by parts");
            });
        } else if (c.scan.inKeyOrder) {
            ShardDescriptor shard = c.map.lookup(c.keyspace, c.scan.stitch.cursor()).orElseThrow();
            c.part = c.scan.stitch.nextPart(shard.keyRange());
            c.scan.parts++;
            send(c, shard, new ShardCommand.Scan(shard.id(), shard.epoch(), c.part.range(), c.part.limit()));
        } else {
            // a new round: every shard of the client's map; answers of an earlier round are dropped
            ScanStitch.Part part = c.scan.stitch.everyShardPart();
            c.round = c.map.shards(c.keyspace);
            check(!c.round.isEmpty(), "a keyspace has shards: %s", c.keyspace);
            c.scan.rounds++;
            for (ShardDescriptor shard : c.round) {
                c.scan.parts++;
                send(c, shard, new ShardCommand.Scan(shard.id(), shard.epoch(), part.range(), part.limit()));
            }
        }
    }

    /** Sends one request of the operation to the shard's leader (as the client believes), with its own timeout. */
    private void send(Client c, ShardDescriptor shard, ShardCommand command) {
        c.attempt++;
        c.inFlight.put(shard.id().value(), c.attempt);
        NodeId target = c.leaders.get(shard.id());
        if (target == null || !shard.hasReplicaOn(target)) {
            NodeId anyVoter = shard.voters().get(sim.random.nextInt(shard.voters().size()));
            // after a failed try, the map's leader hint may name a host that is down: try any voter too
            target = c.attemptsOfOperation > 1 && sim.random.chance(0.5) ? anyVoter : shard.leader().orElse(anyVoter);
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
        sim.schedule(ATTEMPT_TIMEOUT_MICROS, () -> timeout(c, req.group(), attempt));
    }

    /** Whether {@code req} is a request of the operation in progress that still awaits its answer. */
    private static boolean current(Client c, ShardRequest req) {
        Integer awaited = c.inFlight.get(req.group());
        return c.busy && awaited != null && awaited == req.attempt();
    }

    /** The attempt took effect with {@code result}, or was refused by the replica (ShardMoved, StaleEpoch). */
    void reply(Host from, ShardRequest req, ShardResult result) {
        Client c = clients.get(req.clientId());
        sim.schedule(sim.network.delay(), () -> {
            if (!current(c, req)) {
                return;
            }
            c.inFlight.remove(req.group());
            switch (result) {
                case ShardResult.Written w -> {
                    c.leaders.put(ShardId.of(req.group()), from.id);
                    finish(c, true, null);
                }
                case ShardResult.Value v -> {
                    c.leaders.put(ShardId.of(req.group()), from.id);
                    finish(c, true, v.value() == null ? null : new String(v.value(), StandardCharsets.UTF_8));
                }
                case ShardResult.Rows rows -> {
                    c.leaders.put(ShardId.of(req.group()), from.id);
                    onRows(c, req, rows);
                }
                default -> {
                    sim.trace("refused c" + c.id + " attempt " + req.attempt() + ": " + result);
                    c.inFlight.clear(); // the rest of a round is of no use with a stale map
                    refreshThenAttempt(c);
                }
            }
        });
    }

    /** A scan's part answered: the stitch takes it; the scan goes on, or ends. */
    private void onRows(Client c, ShardRequest req, ShardResult.Rows rows) {
        check(c.kind == Kind.SCAN, "rows answer a scan: %s", req);
        ScanStitch<KeyValue> stitch = c.scan.stitch;
        if (c.scan.inKeyOrder) {
            // what the server answers for a part is its rows only (ShardKvService.shardRange)
            stitch.accept(c.part, rows.rows());
            if (!stitch.done()) {
                c.attemptsOfOperation = 0; // each part has its own attempts; the deadline bounds the scan
                attempt(c);
                return;
            }
        } else {
            c.answers.put(req.group(), rows.rows());
            if (c.answers.size() < c.round.size()) {
                return;
            }
            stitch.acceptEveryShard(c.round.stream().map(s -> c.answers.get(s.id().value())).toList());
        }
        c.busy = false;
        scans.answered(c.scan);
        sim.trace("ok c" + c.id + " SCAN " + stitch + " rows=" + stitch.rows().size() + " more=" + stitch.more());
        if (sim.livenessPhase) {
            c.okAfterHeal = true;
        }
        next(c);
    }

    /**
     * The attempt had no effect and never will: retry, at {@code leaderHint} if given, after
     * refreshing the map when {@code refresh} (the host holds no such replica, or knows no leader).
     * A part of a round of every shard is sent again on its own unless the map is refreshed.
     */
    void retry(Host from, ShardRequest req, NodeId leaderHint, boolean refresh) {
        Client c = clients.get(req.clientId());
        sim.schedule(sim.network.delay(), () -> {
            if (!current(c, req)) {
                return;
            }
            ShardId shard = ShardId.of(req.group());
            if (leaderHint != null) {
                c.leaders.put(shard, leaderHint);
            } else {
                c.leaders.remove(shard);
            }
            if (refresh) {
                c.inFlight.clear();
                refreshThenAttempt(c);
                return;
            }
            sim.schedule(1_000 + sim.random.nextLong(5_000), () -> {
                if (!current(c, req)) {
                    return;
                }
                if (c.kind == Kind.SCAN && !c.scan.inKeyOrder) {
                    sendAgain(c, req);
                } else {
                    attempt(c);
                }
            });
        });
    }

    /** One part of a round of every shard, sent again as it was (same shard, same epoch). */
    private void sendAgain(Client c, ShardRequest req) {
        if (++c.attemptsOfOperation > ATTEMPTS_MAX || sim.now > c.deadline) {
            finish(c, false, null);
            return;
        }
        ShardDescriptor shard = c.round.stream().filter(s -> s.id().value() == req.group()).findFirst().orElseThrow();
        c.scan.parts++;
        send(c, shard, req.command());
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

    private void timeout(Client c, long group, int attempt) {
        Integer awaited = c.inFlight.get(group);
        if (!c.busy || awaited == null || awaited != attempt) {
            return;
        }
        sim.trace("timeout c" + c.id + " attempt " + attempt);
        c.busy = false;
        switch (c.kind) {
            case PUT, DELETE -> sim.history.info(c.opId, sim.now); // its outcome is unknown: c.write never completes
            case GET -> sim.history.fail(c.opId, sim.now); // a read that never answered had no effect
            case SCAN -> scans.failed(c.scan);
        }
        c.leaders.remove(ShardId.of(group));
        next(c);
    }

    private void finish(Client c, boolean ok, String result) {
        c.busy = false;
        if (c.kind == Kind.SCAN) {
            check(!ok, "a scan ends through its stitch");
            scans.failed(c.scan);
        } else if (ok) {
            sim.history.ok(c.opId, sim.now, result);
        } else {
            sim.history.fail(c.opId, sim.now);
        }
        if (c.write != null) {
            if (ok) {
                scans.writeAcknowledged(c.write);
            } else {
                scans.writeFailed(c.write);
            }
        }
        sim.trace((ok ? "ok c" : "fail c") + c.id + " " + c.kind + " " + name(c.key) + (ok && result != null ? " " + result : ""));
        if (ok && sim.livenessPhase) {
            c.okAfterHeal = true;
        }
        next(c);
    }

    private void next(Client c) {
        sim.schedule(sim.random.nextLong(thinkMicrosMax), () -> wake(c));
    }
}
