package dev.atoll.sim.sharded;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.consensus.raft.RaftNode;
import dev.atoll.core.InvariantViolation;
import dev.atoll.core.NodeId;
import dev.atoll.core.RandomSource;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Role;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.shard.ChangeResult;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Placement;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardMap;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.replica.ReplicaMutation;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardCodec;
import dev.atoll.shard.replica.ShardReplica;
import dev.atoll.shard.replica.ShardResult;
import dev.atoll.shard.replica.ShardSnapshot;
import dev.atoll.sim.FaultProfile;
import dev.atoll.sim.SimDisk;
import dev.atoll.sim.SimNetwork;
import dev.atoll.sim.SimOptions;
import dev.atoll.sim.SimResult;
import dev.atoll.sim.check.History;
import dev.atoll.sim.check.Invariants;
import dev.atoll.sim.check.Linearizability;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;

/**
 * One seeded run of a sharded, multi-Raft cluster in a simulated world, on the calling thread:
 * N hosts, each running many Raft groups (the meta group, whose state machine is the
 * {@link ShardMap}, and one group per shard, whose state machine is a {@link ShardReplica});
 * three keyspaces, range-, hash- and directory-sharded. Clients route with a cached map, go
 * to the shard's leader and retry on ShardMoved or NotLeader, and scan every keyspace across its
 * shards through the product's {@link dev.atoll.shard.ScanStitch}; a {@link PlacementDriver} splits,
 * merges, moves replicas, transfers leaders, adds shards, moves hash slots and edits the
 * directory, carrying each data move out through the shard groups' logs; the same network,
 * disk and crash faults as the single-group simulator.
 *
 * <p>After every event the touched group's Raft {@link Invariants} are checked. After the
 * liveness phase (faults stop, every host back) the cluster must converge; then every shard's
 * replicas must agree, every key must be in exactly one shard (the one the map names), spans
 * must tile each keyspace, and the client history plus a final read of every key must be
 * linearizable, so no acknowledged write was lost or duplicated. Each scan's answer is checked as
 * it arrives ({@link ScanCheck}).
 */
public final class ShardedSimulation {
    static final long TICK_MICROS = 10_000;
    static final int ELECTION_TIMEOUT_TICKS = 10;
    static final int REPLICATION_FACTOR = 3;
    static final String RANGE_KEYSPACE = "orders";
    static final String HASH_KEYSPACE = "carts";
    static final String DIRECTORY_KEYSPACE = "users";
    /** The directory keyspace's keys: a few under each of these prefixes, which directory entries name. */
    static final List<String> DIRECTORY_PREFIXES = List.of("a/", "b/", "ba/", "c/");
    private static final long LIVENESS_MICROS_MAX = 20_000_000;
    private static final long EVENTS_MAX = 40_000_000;
    private static final long LINEARIZABILITY_STEPS_MAX = 2_000_000;

    private final long seed;
    private final SimOptions options;
    final RandomSource random;
    final FaultProfile profile;
    final SimNetwork network;
    final Set<ReplicaMutation> mutations;
    final Map<NodeId, Host> hosts = new LinkedHashMap<>();
    final List<NodeId> universe = new ArrayList<>();
    final History history = new History();
    final ShardMap initialMap;
    final Map<String, List<Key>> keys = new HashMap<>();
    final Map<Key, String> keyNames = new HashMap<>();
    private final Map<Long, Invariants> invariants = new HashMap<>();
    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>();
    private final RaftConfig raftConfig;
    private final boolean sendsBeforePersist;
    private final long fsyncMicrosMin;
    private final int snapshotEveryEntries;
    /** The meta group's log carries handles into these (the simulator's stand-in for a ShardChange codec). */
    private final List<ShardChange> metaCommands = new ArrayList<>();
    private final List<MetaState> metaSnapshots = new ArrayList<>();
    private final StringBuilder transcript;
    final PlacementDriver placement;
    final ShardClients clients;

    long now;
    private long sequence;
    private long eventCount;
    private long digest = 0x5AA2D5EEDL;
    boolean livenessPhase;
    private boolean finished;
    private long livenessDeadline = Long.MAX_VALUE;
    private SimResult.Violation violation;

    private record Scheduled(long time, long seq, Runnable action) implements Comparable<Scheduled> {
        @Override
        public int compareTo(Scheduled o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** The names {@code --mutation} accepts for {@code sim sharded}. */
    public static List<String> mutationNames() {
        return Arrays.stream(ReplicaMutation.values()).map(Enum::name).toList();
    }

    public ShardedSimulation(long seed, SimOptions options) {
        this(seed, options, false);
    }

    public ShardedSimulation(long seed, SimOptions options, boolean keepTranscript) {
        if (options.nodeCount() < REPLICATION_FACTOR) {
            throw new IllegalArgumentException("--nodes must be at least " + REPLICATION_FACTOR + " for sim sharded: "
                    + options.nodeCount());
        }
        this.seed = seed;
        this.options = options;
        this.mutations = mutationsOf(options.mutation());
        this.random = new SeededRandom(seed);
        this.profile = FaultProfile.swarm(options.faults(), random);
        this.network = new SimNetwork(random.fork(), profile);
        int[] batchChoices = {1, 4, 64};
        int[] windowChoices = {1, 4, 64};
        int[] chunkChoices = {64, 4096};
        this.raftConfig = RaftConfig.defaults()
                .withElectionTimeoutTicks(ELECTION_TIMEOUT_TICKS)
                .withSnapshotChunkBytesMax(chunkChoices[random.nextInt(chunkChoices.length)])
                .withFlowControl(windowChoices[random.nextInt(windowChoices.length)],
                        batchChoices[random.nextInt(batchChoices.length)], 1 << 20)
                .withForwarding(false, false);
        this.sendsBeforePersist = random.chance(0.75);
        this.fsyncMicrosMin = random.chance(0.3) ? 1_000 : 100;
        int[] snapshotChoices = {0, 8, 30};
        this.snapshotEveryEntries = snapshotChoices[random.nextInt(snapshotChoices.length)];
        this.transcript = keepTranscript ? new StringBuilder() : null;

        for (int i = 1; i <= options.nodeCount(); i++) {
            NodeId id = NodeId.of("n" + i);
            universe.add(id);
            double skew = profile.clockSkew() ? (random.nextDouble() * 2 - 1) * profile.clockSkewMax() : 0;
            hosts.put(id, new Host(id, Math.round(TICK_MICROS * (1 + skew))));
        }
        this.initialMap = initialMap();
        makeKeys();
        this.placement = new PlacementDriver(this);
        this.clients = new ShardClients(this, 2 + random.nextInt(7));
        bootstrapDisks();
    }

    private static Set<ReplicaMutation> mutationsOf(String name) {
        if (name == null) {
            return Set.of();
        }
        for (ReplicaMutation m : ReplicaMutation.values()) {
            if (m.name().equals(name.toUpperCase(Locale.ROOT))) {
                return Set.of(m);
            }
        }
        throw new IllegalArgumentException("unknown mutation " + name + " for sim sharded (known: " + mutationNames() + ")");
    }

    // ---------------------------------------------------------------- the cluster at start

    private ShardMap initialMap() {
        var range = new KeyspaceSpec(RANGE_KEYSPACE, new Sharding.Range(), REPLICATION_FACTOR, 4 + random.nextInt(9),
                Placement.ANYWHERE);
        var hash = KeyspaceSpec.hash(HASH_KEYSPACE, REPLICATION_FACTOR, 4 + random.nextInt(9));
        var directory = new KeyspaceSpec(DIRECTORY_KEYSPACE, new Sharding.Directory(), REPLICATION_FACTOR,
                1 + random.nextInt(4), Placement.ANYWHERE);
        ShardMap map = ShardMap.empty();
        for (KeyspaceSpec spec : List.of(range, hash, directory)) {
            var voters = new ArrayList<List<NodeId>>();
            for (int i = 0; i < spec.initialShardCount(); i++) {
                voters.add(pickNodes(REPLICATION_FACTOR));
            }
            map = ((ChangeResult.Applied) map.apply(new ShardChange.CreateKeyspace(spec, voters))).map();
        }
        return map;
    }

    List<NodeId> pickNodes(int count) {
        var pool = new ArrayList<>(universe);
        var picked = new ArrayList<NodeId>();
        while (picked.size() < count) {
            picked.add(pool.remove(random.nextInt(pool.size())));
        }
        return picked;
    }

    /** Keys spread over the first byte (so over the initial range shards), and short names for the checker. */
    private void makeKeys() {
        int rangeKeys = 12 + random.nextInt(13);
        var r = new ArrayList<Key>();
        for (int i = 0; i < rangeKeys; i++) {
            Key k = Key.of(new byte[]{(byte) (i * 256 / rangeKeys + random.nextInt(256 / rangeKeys)), (byte) i});
            r.add(k);
            keyNames.put(k, "r" + i);
        }
        r.sort(null);
        keys.put(RANGE_KEYSPACE, r);
        int hashKeys = 12 + random.nextInt(13);
        var h = new ArrayList<Key>();
        for (int i = 0; i < hashKeys; i++) {
            Key k = Key.utf8("h" + i);
            h.add(k);
            keyNames.put(k, "h" + i);
        }
        keys.put(HASH_KEYSPACE, h);
        var d = new ArrayList<Key>();
        for (String prefix : DIRECTORY_PREFIXES) {
            int n = 2 + random.nextInt(4);
            for (int i = 0; i < n; i++) {
                Key k = Key.utf8(prefix + i);
                keyNames.put(k, "d" + d.size());
                d.add(k);
            }
        }
        keys.put(DIRECTORY_KEYSPACE, d);
    }

    /**
     * The bounds a shard's replica holds for {@code d}: the map's span, except that a directory
     * shard's replica spans every key (the directory, checked by each shard's epoch, routes).
     */
    static ShardBounds boundsOf(ShardDescriptor d, Sharding sharding) {
        return d.span() instanceof ShardSpan.Directed ? new ShardBounds(d.id(), KeyRange.ALL, d.epoch(), 0)
                : ShardBounds.of(d, sharding);
    }

    List<NodeId> metaVoters() {
        return universe.subList(0, REPLICATION_FACTOR);
    }

    private void bootstrapDisks() {
        Membership meta = Membership.ofVoters(new TreeSet<>(metaVoters()));
        for (NodeId id : metaVoters()) {
            hosts.get(id).disks.put(GroupReplica.META, new SimDisk(PersistentState.bootstrap(meta)));
        }
        for (var shard : initialMap.shards()) {
            var spec = initialMap.keyspace(shard.keyspace()).orElseThrow();
            ShardSnapshot initial = ShardReplica.initial(boundsOf(shard, spec.sharding()));
            var boot = new Snapshot(ShardReplica.INITIAL_INDEX, 1, Membership.ofVoters(new TreeSet<>(shard.voters())),
                    ShardCodec.encode(initial));
            for (NodeId id : shard.voters()) {
                hosts.get(id).disks.put(shard.id().value(),
                        new SimDisk(new PersistentState(HardState.EMPTY, boot, List.of())));
            }
        }
    }

    // ---------------------------------------------------------------- the run

    /** Runs the seed to its end and checks everything. */
    public SimResult run() {
        for (Host h : hosts.values()) {
            startHost(h);
        }
        clients.start();
        placement.start();
        if (profile.anyFault()) {
            scheduleNextFault();
        }
        schedule(options.safetyMicros(), this::beginLiveness);
        loop();
        if (violation == null && finished) {
            try {
                new ClusterCheck(this).run();
            } catch (InvariantViolation e) {
                violation = new SimResult.Violation("invariant", e.getMessage(), now);
            }
        }
        int operationCount = history.size();
        if (violation == null) {
            var verdict = Linearizability.check(history, LINEARIZABILITY_STEPS_MAX);
            if (verdict.verdict() == Linearizability.Verdict.NOT_LINEARIZABLE) {
                violation = new SimResult.Violation("linearizability",
                        "key " + verdict.key() + ": " + verdict.explanation(), now);
            } else if (verdict.verdict() == Linearizability.Verdict.UNKNOWN) {
                trace("linearizability unknown (search budget) on key " + verdict.key());
            }
        }
        mix(history.toString().hashCode());
        return new SimResult(seed, violation, operationCount, eventCount, digest, describe(), clients.scans.counts());
    }

    public String transcript() {
        return transcript == null ? "" : transcript.toString();
    }

    public History history() {
        return history;
    }

    private String describe() {
        return String.format("seed=%d nodes=%d clients=%d shards=%d->%d keys=%d/%d/%d snapshotEvery=%d batch=%d window=%d "
                        + "sendBeforePersist=%s fsyncUs=%d.. started{split=%d merge=%d move=%d transfer=%d} "
                        + "done{split=%d merge=%d move=%d} relocations{started=%d done=%d addShard=%d} %s %s profile=%s",
                seed, options.nodeCount(), clients.count(), initialMap.shards().size(), placement.shardCount(),
                keys.get(RANGE_KEYSPACE).size(), keys.get(HASH_KEYSPACE).size(), keys.get(DIRECTORY_KEYSPACE).size(),
                snapshotEveryEntries,
                raftConfig.appendEntriesMax(), raftConfig.inflightAppendsMax(), sendsBeforePersist, fsyncMicrosMin,
                placement.splits, placement.merges, placement.moves, placement.transfers, placement.splitsDone,
                placement.mergesDone, placement.movesDone, placement.relocations, placement.relocationsDone,
                placement.addShards, clients.scans.summary(), outcomes(), profile);
    }

    private String outcomes() {
        var counts = new java.util.EnumMap<History.Outcome, Integer>(History.Outcome.class);
        for (History.Operation o : history.operations()) {
            counts.merge(o.outcome(), 1, Integer::sum);
        }
        return "outcomes" + counts;
    }

    private void loop() {
        while (!finished && violation == null && !queue.isEmpty()) {
            Scheduled s = queue.poll();
            now = s.time();
            eventCount++;
            if (eventCount > EVENTS_MAX) {
                violation = new SimResult.Violation("liveness", "event budget exhausted", now);
                break;
            }
            try {
                s.action().run();
            } catch (InvariantViolation e) {
                violation = new SimResult.Violation("invariant", e.getMessage(), now);
            } catch (RuntimeException e) {
                violation = new SimResult.Violation("crash", e + " at " + Arrays.toString(
                        Arrays.copyOf(e.getStackTrace(), Math.min(4, e.getStackTrace().length))), now);
            }
            if (livenessPhase && violation == null && !finished && now > livenessDeadline) {
                violation = new SimResult.Violation("liveness", "no convergence " + (LIVENESS_MICROS_MAX / 1000)
                        + " ms after healing: " + placement.unsettled() + " " + clients.waiting(), now);
            }
        }
    }

    void schedule(long delayMicros, Runnable action) {
        queue.add(new Scheduled(now + delayMicros, sequence++, action));
    }

    void mix(long v) {
        digest = (digest ^ v) * 0x100000001B3L;
    }

    void trace(String line) {
        if (transcript != null) {
            transcript.append(now).append(' ').append(line).append('\n');
        }
    }

    Invariants invariants(long group) {
        return invariants.computeIfAbsent(group, g -> new Invariants());
    }

    // ---------------------------------------------------------------- hosts and groups

    private void startHost(Host h) {
        h.crashed = false;
        h.incarnation++;
        for (long group : new ArrayList<>(h.disks.keySet())) {
            // a parent replaying a split may have started (or replaced) a child's replica already
            if (!h.groups.containsKey(group) && h.disks.containsKey(group)) {
                startGroup(h, group, h.disks.get(group));
            }
        }
        int incarnation = h.incarnation;
        schedule(random.nextLong(h.tickMicros), () -> tick(h, incarnation));
    }

    /** Starts (or restarts) a group's replica on {@code h} from what its disk holds. */
    private GroupReplica startGroup(Host h, long group, SimDisk disk) {
        PersistentState persisted = disk.load();
        var g = new GroupReplica(group, h, disk, new RaftNode(h.id, raftConfig, persisted, random.fork()));
        Snapshot snap = persisted.snapshot();
        g.appliedMembership = snap.membership();
        g.appliedIndex = snap.index();
        g.compactedIndex = snap.index();
        installState(g, snap);
        h.groups.put(group, g);
        invariants(group).onRestart(h.id);
        drive(g);
        observe(g);
        return g;
    }

    private void installState(GroupReplica g, Snapshot snap) {
        if (g.isMeta()) {
            g.meta = snap.data().length == 0 ? MetaState.initial(initialMap, snap.index())
                    : metaSnapshots.get((int) ByteBuffer.wrap(snap.data()).getLong());
            check(g.meta.appliedIndex() == snap.index(), "meta snapshot at %d holds state at %d", snap.index(),
                    g.meta.appliedIndex());
        } else if (snap.data().length > 0) {
            ShardSnapshot s = ShardCodec.decodeSnapshot(snap.data());
            check(s.appliedIndex() == snap.index(), "shard snapshot at %d holds state at %d", snap.index(),
                    s.appliedIndex());
            if (g.replica == null) {
                g.replica = ShardReplica.restore(s, g.store, mutations);
            } else {
                g.replica.install(s);
            }
        }
    }

    private void tick(Host h, int incarnation) {
        if (h.crashed || h.incarnation != incarnation) {
            return;
        }
        schedule(h.tickMicros, () -> tick(h, incarnation));
        if (h.paused) {
            h.missedTicks++;
            return;
        }
        for (GroupReplica g : new ArrayList<>(h.groups.values())) {
            if (!g.stopped) {
                g.raft.tick();
                drive(g);
                observe(g);
            }
        }
    }

    /** Runs {@code action} on {@code h} now, or queues it while the process is paused. */
    void onHost(Host h, Runnable action) {
        if (h.crashed) {
            return;
        }
        if (h.paused) {
            h.pausedInbox.add(action);
            return;
        }
        action.run();
    }

    void observe(GroupReplica g) {
        if (g.stopped) {
            return;
        }
        try {
            invariants(g.group).afterEvent(g.raft);
        } catch (InvariantViolation e) {
            throw new InvariantViolation("group s" + g.group + ": " + e.getMessage());
        }
        LogStatus s = g.raft.status();
        if (transcript != null && s.role() == Role.LEADER && g.ledTerm != s.term()) {
            g.ledTerm = s.term();
            trace("leader " + g.host.id + "/s" + g.group + " term " + s.term() + " " + s.membership());
        }
        mix(now);
        mix(g.host.id.hashCode() * 31L + g.group);
        mix(s.term() * 31 + s.commitIndex() * 17 + s.role().ordinal());
    }

    /** A message of group {@code group} for a host without a replica of it: an uninitialised one waits for a snapshot. */
    private GroupReplica createUninitialised(Host h, long group) {
        var disk = new SimDisk(PersistentState.joining());
        h.disks.put(group, disk);
        trace("create uninitialised " + h.id + "/s" + group);
        return startGroup(h, group, disk);
    }

    /** Destroys {@code h}'s replica of {@code group} for good (moved away, or merged into another shard). */
    void destroy(Host h, long group) {
        GroupReplica g = h.groups.remove(group);
        if (g != null) {
            g.stopped = true;
        }
        h.disks.remove(group);
        h.tombstones.add(group);
        trace("destroy " + h.id + "/s" + group);
    }

    // ---------------------------------------------------------------- Ready handling

    void drive(GroupReplica g) {
        Host h = g.host;
        while (!g.stopped && h.running() && g.inflight == null && g.raft.hasReady()) {
            Ready<RaftMessage> r = g.raft.ready();
            if (sendsBeforePersist) {
                for (Envelope<RaftMessage> env : r.messagesBeforePersist()) {
                    send(g.group, env);
                }
            }
            if (!r.mustPersist()) {
                complete(g, r);
                continue;
            }
            long batch = g.disk.write(r.snapshot(), r.entries(), r.hardState());
            g.inflight = r;
            g.inflightBatch = batch;
            schedule(fsyncMicrosMin + random.nextLong(fsyncMicrosMin * 9), () -> fsyncDone(g, batch));
        }
    }

    private void fsyncDone(GroupReplica g, long batch) {
        if (g.stopped) {
            return;
        }
        onHost(g.host, () -> {
            if (g.stopped) {
                return;
            }
            g.disk.syncThrough(batch);
            if (g.inflight != null && g.inflightBatch == batch) {
                Ready<RaftMessage> r = g.inflight;
                g.inflight = null;
                complete(g, r);
            }
            drive(g);
            observe(g);
        });
    }

    private void complete(GroupReplica g, Ready<RaftMessage> r) {
        for (Envelope<RaftMessage> env : sendsBeforePersist ? r.messagesAfterPersist() : r.messages()) {
            send(g.group, env);
        }
        if (r.snapshot() != null) {
            Snapshot snap = r.snapshot();
            g.appliedMembership = snap.membership();
            g.appliedIndex = snap.index();
            g.compactedIndex = Math.max(g.compactedIndex, snap.index());
            installState(g, snap);
            // commands waiting at or below the snapshot: their outcome is unknown here
            g.waiters.headMap(snap.index(), true).clear();
        }
        for (Entry e : r.committed()) {
            applyEntry(g, e);
        }
        g.raft.advance(r);
        maybeCompact(g);
    }

    private void applyEntry(GroupReplica g, Entry e) {
        try {
            invariants(g.group).onApply(g.host.id, e);
        } catch (InvariantViolation violation) {
            throw new InvariantViolation("group s" + g.group + ": " + violation.getMessage());
        }
        check(e.index() == g.appliedIndex + 1, "%s/s%d applies %d after %d", g.host.id, g.group, e.index(),
                g.appliedIndex);
        g.appliedIndex = e.index();
        if (e.kind() == Entry.Kind.MEMBERSHIP) {
            g.appliedMembership = g.appliedMembership.apply(MembershipChange.decode(e.data()));
        }
        if (g.isMeta()) {
            g.meta = e.kind() == Entry.Kind.COMMAND
                    ? g.meta.apply(e.index(), metaCommands.get((int) ByteBuffer.wrap(e.data()).getLong()))
                    : g.meta.skip(e.index());
            return;
        }
        check(g.replica != null, "an uninitialised replica %s/s%d applies no entry", g.host.id, g.group);
        ShardResult result = null;
        if (e.kind() == Entry.Kind.COMMAND) {
            result = g.replica.apply(e.index(), e.data());
            if (result instanceof ShardResult.Split split) {
                onSplit(g, split);
            }
        } else {
            g.replica.skip(e.index());
        }
        GroupReplica.Waiter w = g.waiters.remove(e.index());
        if (w != null) {
            if (e.term() == w.term() && result != null) {
                clients.reply(g.host, w.request(), result);
            } else {
                // another entry committed at the waiter's index: the command never will
                clients.retry(g.host, w.request(), null, false);
            }
        }
    }

    /**
     * The parent applied a split on this host: the new shard's replica here starts from the
     * parent's rows at that position, unless this host joined the parent after the split.
     */
    private void onSplit(GroupReplica parent, ShardResult.Split split) {
        Host h = parent.host;
        long child = split.child().bounds().shard().value();
        if (!parent.appliedMembership.isMember(h.id)) {
            // this host joined the parent after the split (a learner replaying the log): the new
            // shard has no replica on it
            return;
        }
        initialise(h, child, parent.appliedMembership, split.child(), "the split of s" + parent.group);
    }

    /**
     * Starts {@code h}'s replica of {@code group} from {@code boot} (a founding member, with
     * {@code membership}), unless one exists already (initialised by a snapshot of the group:
     * keep it; still empty: initialise it, keeping its Raft hard state) or this host destroyed it
     * before.
     */
    void initialise(Host h, long group, Membership membership, ShardSnapshot boot, String why) {
        if (h.tombstones.contains(group)) {
            return;
        }
        var snapshot = new Snapshot(ShardReplica.INITIAL_INDEX, 1, membership, ShardCodec.encode(boot));
        HardState hs = HardState.EMPTY;
        SimDisk existingDisk = h.disks.get(group);
        if (existingDisk != null) {
            // Decided by what is durable: on a restart the parent replays the split before the
            // child's replica is started, and the child's disk may hold a vote already cast.
            PersistentState persisted = existingDisk.load();
            GroupReplica running = h.groups.get(group);
            if (running != null ? running.initialised() : persisted.snapshot().data().length > 0) {
                return;
            }
            hs = persisted.hardState();
            if (running != null) {
                running.stopped = true;
                h.groups.remove(group);
            }
        }
        trace("initialise " + h.id + "/s" + group + " from " + why);
        var disk = new SimDisk(new PersistentState(hs, snapshot, List.of()));
        h.disks.put(group, disk);
        startGroup(h, group, disk);
    }

    private void maybeCompact(GroupReplica g) {
        if (snapshotEveryEntries == 0 || !g.initialised() || g.appliedIndex - g.compactedIndex < snapshotEveryEntries) {
            return;
        }
        long term = g.raft.log().term(g.appliedIndex);
        if (term <= 0) {
            return;
        }
        byte[] data;
        if (g.isMeta()) {
            metaSnapshots.add(g.meta);
            data = ByteBuffer.allocate(8).putLong(metaSnapshots.size() - 1).array();
        } else {
            check(g.replica.appliedIndex() == g.appliedIndex, "the replica applied what its group did");
            data = ShardCodec.encode(g.replica.snapshot());
        }
        g.raft.compact(g.appliedIndex, data);
        g.disk.saveSnapshot(g.raft.snapshot());
        g.compactedIndex = g.appliedIndex;
    }

    private void send(long group, Envelope<RaftMessage> env) {
        for (long delay : network.deliveries(env.from(), env.to())) {
            schedule(delay, () -> deliver(group, env));
        }
    }

    private void deliver(long group, Envelope<RaftMessage> env) {
        Host to = hosts.get(env.to());
        if (to == null || to.crashed || !network.connected(env.from(), env.to())) {
            return;
        }
        mix(env.message().getClass().getSimpleName().hashCode() + group);
        onHost(to, () -> {
            GroupReplica g = to.groups.get(group);
            if (g == null) {
                if (group == GroupReplica.META || to.tombstones.contains(group)) {
                    return;
                }
                g = createUninitialised(to, group);
            }
            g.raft.step(env);
            drive(g);
            observe(g);
        });
    }

    // ---------------------------------------------------------------- what the driver and clients ask of groups

    /** The running replica of {@code group} that leads it with the highest term, or null. */
    GroupReplica leaderOf(long group) {
        GroupReplica best = null;
        long bestTerm = -1;
        for (Host h : hosts.values()) {
            GroupReplica g = h.running() ? h.groups.get(group) : null;
            if (g != null && !g.stopped) {
                LogStatus s = g.raft.status();
                if (s.role() == Role.LEADER && s.term() > bestTerm) {
                    best = g;
                    bestTerm = s.term();
                }
            }
        }
        return best;
    }

    /** Proposes a map change through the meta group's leader; the placement driver reads the outcome from the map. */
    void proposeMeta(ShardChange change) {
        GroupReplica leader = leaderOf(GroupReplica.META);
        if (leader == null) {
            return;
        }
        metaCommands.add(change);
        byte[] handle = ByteBuffer.allocate(8).putLong(metaCommands.size() - 1).array();
        ProposeResult r = leader.raft.propose(handle);
        trace("meta " + change + " -> " + r);
        drive(leader);
        observe(leader);
    }

    /** Proposes an admin command to a shard group's leader, fire and forget: the driver retries until it shows. */
    void proposeShard(GroupReplica leader, ShardCommand command) {
        ProposeResult r = leader.raft.propose(ShardCodec.encode(command));
        trace("propose " + command + " to " + leader.host.id + " -> " + r);
        drive(leader);
        observe(leader);
    }

    void proposeMembership(GroupReplica leader, MembershipChange change) {
        ProposeResult r = leader.raft.proposeMembership(change);
        trace("membership s" + leader.group + " " + change + " -> " + r);
        drive(leader);
        observe(leader);
    }

    void transferLeadership(GroupReplica leader, NodeId target) {
        ProposeResult r = leader.raft.transferLeadership(target);
        trace("transfer s" + leader.group + " " + leader.host.id + " -> " + target + ": " + r);
        drive(leader);
        observe(leader);
    }

    /** A client request reached host {@code h}: refused at once, or proposed with a waiter for its entry. */
    void handleRequest(Host h, ShardRequest req) {
        GroupReplica g = h.groups.get(req.group());
        if (g == null || !g.initialised()) {
            clients.retry(h, req, null, true);
            return;
        }
        LogStatus s = g.raft.status();
        if (s.role() != Role.LEADER) {
            clients.retry(h, req, s.leader(), s.leader() == null);
            return;
        }
        var refused = g.replica.route(req.command());
        if (refused.isPresent()) {
            clients.reply(h, req, refused.get());
            return;
        }
        ProposeResult pr = g.raft.propose(ShardCodec.encode(req.command()));
        switch (pr) {
            // an older waiter at this index was overwritten in this log; its fate is unknown
            case ProposeResult.Accepted a -> g.waiters.put(a.index(), new GroupReplica.Waiter(a.term(), req));
            case ProposeResult.NotLeader nl -> clients.retry(h, req, nl.leaderHint(), false);
            case ProposeResult.Dropped d -> clients.retry(h, req, h.id, false);
            case ProposeResult.Forwarded f -> throw new IllegalStateException("forwarding is off");
        }
        drive(g);
        observe(g);
    }

    // ---------------------------------------------------------------- faults

    private void scheduleNextFault() {
        long mean = profile.faultIntervalMicrosMean();
        schedule(mean / 2 + random.nextLong(mean), this::injectFault);
    }

    private void injectFault() {
        if (livenessPhase) {
            return;
        }
        scheduleNextFault();
        var actions = new ArrayList<Runnable>();
        if (profile.partitions()) {
            actions.add(this::partitionFault);
        }
        if (profile.crashes()) {
            actions.add(this::crashFault);
        }
        if (profile.pauses()) {
            actions.add(this::pauseFault);
        }
        if (!actions.isEmpty()) {
            actions.get(random.nextInt(actions.size())).run();
        }
    }

    private void partitionFault() {
        GroupReplica metaLeader = leaderOf(GroupReplica.META);
        trace(network.healOrPartition(random, new ArrayList<>(universe), metaLeader == null ? null : metaLeader.host.id));
    }

    private void crashFault() {
        if (random.chance(0.05)) {
            trace("power loss: every host crashes");
            for (Host h : hosts.values()) {
                crash(h);
                schedule(20_000 + random.nextLong(400_000), () -> restart(h));
            }
            return;
        }
        Host h = hosts.get(universe.get(random.nextInt(universe.size())));
        crash(h);
        schedule(20_000 + random.nextLong(600_000), () -> restart(h));
    }

    private void crash(Host h) {
        if (h.crashed) {
            return;
        }
        trace("crash " + h.id);
        h.crashed = true;
        for (SimDisk d : h.disks.values()) {
            d.crash(random, profile.tornWrites());
        }
        h.forgetVolatileState();
    }

    private void restart(Host h) {
        if (!h.crashed) {
            return;
        }
        trace("restart " + h.id);
        startHost(h);
    }

    private void pauseFault() {
        Host h = hosts.get(universe.get(random.nextInt(universe.size())));
        if (h.crashed || h.paused) {
            return;
        }
        trace("pause " + h.id);
        h.paused = true;
        schedule(10_000 + random.nextLong(400_000), () -> resume(h));
    }

    /** A paused process resumes: first the ticks its clock says it missed, then what queued up meanwhile. */
    private void resume(Host h) {
        if (h.crashed || !h.paused) {
            return;
        }
        trace("resume " + h.id + " missedTicks=" + h.missedTicks);
        h.paused = false;
        for (; h.missedTicks > 0; h.missedTicks--) {
            for (GroupReplica g : new ArrayList<>(h.groups.values())) {
                g.raft.tick();
            }
        }
        for (GroupReplica g : new ArrayList<>(h.groups.values())) {
            drive(g);
            observe(g);
        }
        var inbox = new ArrayList<>(h.pausedInbox);
        h.pausedInbox.clear();
        for (Runnable r : inbox) {
            onHost(h, r);
        }
    }

    // ---------------------------------------------------------------- liveness

    private void beginLiveness() {
        trace("liveness phase: heal, restart, resume");
        livenessPhase = true;
        livenessDeadline = now + LIVENESS_MICROS_MAX;
        network.calm();
        for (Host h : hosts.values()) {
            if (h.crashed) {
                restart(h);
            } else if (h.paused) {
                resume(h);
            }
        }
        schedule(TICK_MICROS, this::checkConverged);
    }

    private void checkConverged() {
        if (finished) {
            return;
        }
        if (clients.allStopped() && placement.settled() && groupsCaughtUp()) {
            trace("converged");
            finished = true;
            return;
        }
        schedule(TICK_MICROS, this::checkConverged);
    }

    /** Every group's members are up and have applied their leader's whole log. */
    private boolean groupsCaughtUp() {
        var groups = new TreeSet<Long>();
        hosts.values().forEach(h -> groups.addAll(h.groups.keySet()));
        for (long group : groups) {
            GroupReplica leader = leaderOf(group);
            if (leader == null) {
                return false;
            }
            LogStatus ls = leader.raft.status();
            if (ls.commitIndex() != ls.lastIndex()) {
                return false;
            }
            for (NodeId member : ls.membership().sortedMembers()) {
                GroupReplica g = hosts.get(member).group(group);
                // the driver's applied index: the core counts a snapshot applied before its Ready is durable
                if (g == null || !g.initialised() || g.appliedIndex != ls.commitIndex() || g.inflight != null) {
                    return false;
                }
            }
        }
        return true;
    }

    static void check(boolean condition, String invariant, Object... args) {
        dev.atoll.core.Check.check(condition, invariant, args);
    }
}
