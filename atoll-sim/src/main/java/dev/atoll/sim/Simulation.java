package dev.atoll.sim;

import dev.atoll.core.InvariantViolation;
import dev.atoll.core.NodeId;
import dev.atoll.core.RandomSource;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ProposalOutcome;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.ReadRefusal;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Role;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.sim.check.History;
import dev.atoll.sim.check.Invariants;
import dev.atoll.sim.check.Linearizability;
import dev.atoll.sim.check.Op;
import dev.atoll.sim.kv.KvCommand;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;

/**
 * One seeded run of a replicated-log protocol in a simulated world, entirely on the calling
 * thread: the same seed and options give the same run, event for event (the digest proves it).
 *
 * <p>A run has two phases. In the safety phase clients read and write while faults are
 * injected; every event is followed by the {@link Invariants}. In the liveness phase the
 * faults stop (network healed, every node restarted and resumed) and the cluster must
 * converge and answer every client within a bound. Finally the client history is checked
 * for linearizability.
 *
 * <p>Clients send requests to any node. A replica that forwards a write or a read to its leader
 * is driven as the node runtime drives it: the write's waiter moves from its proposal id to the
 * (index, term) of the outcome, the read waits for its ReadState (or fails on a refusal). A
 * Ready's early messages leave before its fsync, and a nemesis kills leaders in between.
 *
 * <p>In some runs the group quiesces when idle (RunSettings.quiesceIdleTicks): the driver then
 * skips a quiesced replica's ticks and, like the runtime's link state, tells a quiesced follower
 * when its leader's node has looked unreachable for a while. Clients of those runs fall silent
 * together now and then, a nemesis kills or cuts off the leader of the quiesced group, and after
 * convergence a quiet failover phase kills the leader of the quiesced, idle group and requires
 * the others to elect a new one with no client traffic to wake them.
 */
public final class Simulation<M> {
    private static final long TICK_MICROS = 10_000;
    private static final int ELECTION_TIMEOUT_TICKS = 10;
    private static final long LIVENESS_MICROS_MAX = 20_000_000;
    private static final long EVENTS_MAX = 20_000_000;
    private static final long LINEARIZABILITY_STEPS_MAX = 2_000_000;
    private static final long QUIET_FAILOVER_MICROS_MAX = 10_000_000;

    private final long seed;
    private final SimOptions options;
    private final ProtocolFactory<M> factory;
    private final RandomSource random;
    private final FaultProfile profile;
    private final SimNetwork network;
    private final ProtocolFactory.RunSettings settings;
    private final SimMutation driverMutation;
    private final Map<NodeId, SimNode<M>> nodes = new LinkedHashMap<>();
    private final List<NodeId> universe = new ArrayList<>();
    private final List<SimClient> clients = new ArrayList<>();
    private final PriorityQueue<Scheduled> queue = new PriorityQueue<>();
    private final Invariants invariants = new Invariants();
    private final History history = new History();
    private final int keyCount;
    private final long clientTimeoutMicros;
    private final long clientThinkMicrosMax;
    private final int snapshotEveryEntries;
    /** Whether clients send writes to the leader they last heard of, or to any node. */
    private final boolean clientsSeekLeader;
    /** Fastest fsync of this run; the slowest takes ten times as long. */
    private final long fsyncMicrosMin;
    /** Whether this run sends a Ready's early messages before its fsync, as the runtime will. */
    private final boolean sendsBeforePersist;
    private final StringBuilder transcript;
    /** Ticks an idle group waits before quiescing in this run; 0 when it never does. */
    private final int quiesceIdleTicks;
    /** How long a peer's link must look down before the driver reports the peer unreachable. */
    private final long failureDetectMicros;
    /** Clients start nothing before this time (a quiet period, in runs that quiesce). */
    private long clientsQuietUntil;
    /** The nemesis kills or cuts off the next leader to quiesce (armed by some quiet periods). */
    private boolean quiescedLeaderFaultArmed;

    /** After convergence, in runs that quiesce: the leader of the idle, quiesced group dies. */
    private enum QuietFailover { OFF, AWAIT_QUIESCENCE, AWAIT_NEW_LEADER }

    private QuietFailover quietFailover = QuietFailover.OFF;
    private NodeId quietFailoverVictim;
    private long quietFailoverTerm;
    private String livenessAwaited = "convergence";

    private long now;
    private long sequence;
    private long eventCount;
    private long digest = 0xA70115EEDL;
    private boolean livenessPhase;
    private boolean finished;
    private SimResult.Violation violation;

    private record Scheduled(long time, long seq, Runnable action, String label) implements Comparable<Scheduled> {
        @Override
        public int compareTo(Scheduled o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** A simulated client: one operation at a time, to the node it last heard from or to any node. */
    private static final class SimClient {
        final int id;
        NodeId target;
        int currentOp = -1;
        Op op;
        boolean okAfterHeal;
        boolean stopped;

        SimClient(int id) {
            this.id = id;
        }
    }

    public Simulation(long seed, SimOptions options, ProtocolFactory<M> factory) {
        this(seed, options, factory, false);
    }

    public Simulation(long seed, SimOptions options, ProtocolFactory<M> factory, boolean keepTranscript) {
        this.seed = seed;
        this.options = options;
        this.factory = factory;
        this.random = new SeededRandom(seed);
        this.profile = FaultProfile.swarm(options.faults(), random);
        this.network = new SimNetwork(random.fork(), profile);
        this.driverMutation = options.simMutation();
        String protocolMutation = driverMutation == null ? options.mutation() : null;
        if (protocolMutation != null && !factory.mutationNames().contains(protocolMutation)) {
            throw new IllegalArgumentException("unknown mutation " + protocolMutation);
        }
        boolean leaseReads = random.chance(0.5);
        int driftTicksMax = (int) Math.ceil(ELECTION_TIMEOUT_TICKS * 2 * profile.clockSkewMax()) + 1;
        // swarm over flow control too: tiny batches and windows open the interleavings
        // (old-term entries travelling apart from the new leader's NOOP) that big ones hide
        int[] batchChoices = {1, 2, 16};
        int[] windowChoices = {1, 4, 16};
        // Quiescence draws from a stream of its own: a run without it replays exactly as before
        // quiescence existed, and keeps finding what it found.
        var quiesceRandom = new SeededRandom(seed ^ 0x51E5CE11CEL);
        this.quiesceIdleTicks = quiesceRandom.chance(0.4) ? (quiesceRandom.chance(0.5) ? 2 : 5) : 0;
        this.failureDetectMicros = quiesceRandom.nextLong(5 * TICK_MICROS);
        this.settings = new ProtocolFactory.RunSettings(ELECTION_TIMEOUT_TICKS, leaseReads, driftTicksMax,
                batchChoices[random.nextInt(batchChoices.length)], windowChoices[random.nextInt(windowChoices.length)],
                random.chance(0.8), protocolMutation, quiesceIdleTicks);
        this.clientTimeoutMicros = random.chance(0.5) ? 250_000 : 1_000_000;
        this.clientThinkMicrosMax = random.chance(0.5) ? 2_000 : 20_000;
        this.keyCount = 1 + random.nextInt(4);
        int[] snapshotChoices = {0, 6, 25, 100};
        this.snapshotEveryEntries = snapshotChoices[random.nextInt(snapshotChoices.length)];
        this.sendsBeforePersist = random.chance(0.75);
        this.clientsSeekLeader = random.chance(0.5);
        // slow disks: followers store and acknowledge a leader's early appends before its own
        // fsync ends, the window thesis §10.2.1 must get right
        this.fsyncMicrosMin = random.chance(0.3) ? 1_000 : 100;
        this.transcript = keepTranscript ? new StringBuilder() : null;

        var initial = new TreeSet<NodeId>();
        for (int i = 1; i <= options.nodeCount(); i++) {
            initial.add(NodeId.of("n" + i));
        }
        int spares = options.nodeCount() > 1 && profile.membershipChanges() ? 1 : 0;
        for (int i = 1; i <= options.nodeCount() + spares; i++) {
            NodeId id = NodeId.of("n" + i);
            universe.add(id);
            boolean member = initial.contains(id);
            double skew = profile.clockSkew() ? (random.nextDouble() * 2 - 1) * profile.clockSkewMax() : 0;
            var disk = new SimDisk(member ? PersistentState.bootstrap(Membership.ofVoters(initial)) : PersistentState.joining());
            nodes.put(id, new SimNode<>(id, disk, Math.round(TICK_MICROS * (1 + skew))));
        }
        int clientCount = 2 + random.nextInt(7);
        for (int i = 0; i < clientCount; i++) {
            clients.add(new SimClient(i));
        }
    }

    /** Runs the seed to its end and checks the history. */
    public SimResult run() {
        for (SimNode<M> n : nodes.values()) {
            start(n);
        }
        for (SimClient c : clients) {
            c.target = universe.get(random.nextInt(universe.size()));
            schedule(random.nextLong(50_000), () -> clientWake(c), "wake");
        }
        if (profile.anyFault()) {
            scheduleNextFault();
        }
        if (quiesceIdleTicks > 0) {
            schedule(200_000 + random.nextLong(400_000), this::quietPeriod, "quiet");
        }
        schedule(options.safetyMicros(), this::beginLiveness, "heal");
        loop();
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
        return new SimResult(seed, violation, operationCount, eventCount, digest, describe());
    }

    public String transcript() {
        return transcript == null ? "" : transcript.toString();
    }

    public History history() {
        return history;
    }

    private String describe() {
        return String.format("seed=%d nodes=%d clients=%d keys=%d snapshotEvery=%d reads=%s batch=%d window=%d "
                        + "forwarding=%s clientsSeekLeader=%s sendBeforePersist=%s fsyncUs=%d.. clientTimeoutMs=%d "
                        + "quiesceIdleTicks=%d failureDetectUs=%d profile=%s",
                seed, options.nodeCount(), clients.size(), keyCount, snapshotEveryEntries,
                settings.leaseReads() ? "lease" : "read-index", settings.appendEntriesMax(),
                settings.inflightAppendsMax(), settings.forwarding(), clientsSeekLeader, sendsBeforePersist, fsyncMicrosMin,
                clientTimeoutMicros / 1000, quiesceIdleTicks, failureDetectMicros,
                profile);
    }

    // ---------------------------------------------------------------- event loop

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
                violation = new SimResult.Violation("crash", e + " at " + e.getStackTrace()[0], now);
            }
            if (livenessPhase && violation == null) {
                if (quietFailover == QuietFailover.OFF) {
                    checkConverged();
                } else {
                    checkQuietFailover();
                }
                if (now > livenessDeadline && !finished) {
                    violation = new SimResult.Violation("liveness", "no " + livenessAwaited + ": " + clusterState(), now);
                }
            }
        }
    }

    private long livenessDeadline = Long.MAX_VALUE;

    private void schedule(long delayMicros, Runnable action, String label) {
        queue.add(new Scheduled(now + delayMicros, sequence++, action, label));
    }

    private void mix(long v) {
        digest = (digest ^ v) * 0x100000001B3L;
    }

    private void trace(String line) {
        if (transcript != null) {
            transcript.append(now).append(' ').append(line).append('\n');
        }
    }

    /** After a node handled an event: invariants, then the digest. */
    private void observe(SimNode<M> n) {
        if (n.crashed) {
            return;
        }
        invariants.afterEvent(n.replica);
        LogStatus s = n.replica.status();
        if (n.quiesced != n.replica.isQuiesced()) {
            n.quiesced = !n.quiesced;
            trace((n.quiesced ? "quiesced " : "woke ") + n.id + (s.role() == Role.LEADER ? " (leader)" : ""));
            if (n.quiesced && s.role() == Role.LEADER && quiescedLeaderFaultArmed && !livenessPhase) {
                quiescedLeaderFaultArmed = false;
                schedule(random.nextLong(3 * TICK_MICROS), this::quiescedLeaderFault, "fault");
            }
        }
        if (s.role() == Role.LEADER && n.ledTerm != s.term()) {
            n.ledTerm = s.term();
            trace("leader " + n.id + " term " + s.term() + " " + s.membership());
            onNewLeader(n);
        }
        mix(now);
        mix(n.id.hashCode());
        mix(s.term() * 31 + s.commitIndex() * 17 + s.role().ordinal());
        mix(s.lastIndex());
    }

    // ---------------------------------------------------------------- node lifecycle

    private void start(SimNode<M> n) {
        PersistentState persisted = n.disk.load();
        n.replica = factory.start(n.id, persisted, random.fork(), settings);
        n.stateMachine = new dev.atoll.sim.kv.KvStateMachine();
        n.stateMachine.restore(persisted.snapshot().index(), persisted.snapshot().data());
        n.appliedMembership = persisted.snapshot().membership();
        n.compactedIndex = persisted.snapshot().index();
        n.crashed = false;
        n.incarnation++;
        invariants.onRestart(n.id);
        int incarnation = n.incarnation;
        schedule(random.nextLong(n.tickMicros), () -> tick(n, incarnation), "tick");
        drive(n);
        observe(n);
    }

    private void tick(SimNode<M> n, int incarnation) {
        if (n.crashed || n.incarnation != incarnation) {
            return;
        }
        schedule(n.tickMicros, () -> tick(n, incarnation), "tick");
        if (n.paused) {
            n.missedTicks++;
            return;
        }
        if (quiesceIdleTicks > 0) {
            detectUnreachableLeader(n);
        }
        // as the runtime does: a quiesced replica runs no timer, so its tick is skipped
        if (!n.replica.isQuiesced()) {
            n.replica.tick();
        }
        drive(n);
        observe(n);
    }

    /**
     * The runtime's node-liveness signal: a quiesced follower is told its leader is unreachable
     * once the leader's node has not answered for failureDetectMicros: its process gone, the link
     * from this node to it cut, or the process paused (it keeps its connections, but leaves the
     * liveness probes on them unanswered).
     */
    private void detectUnreachableLeader(SimNode<M> n) {
        NodeId leader = n.replica.isQuiesced() ? n.replica.status().leader() : null;
        if (leader == null || leader.equals(n.id)) {
            n.unreachableSince.clear();
            return;
        }
        SimNode<M> leaderNode = nodes.get(leader);
        if (!leaderNode.crashed && !leaderNode.paused && network.connected(n.id, leader)) {
            n.unreachableSince.remove(leader);
            return;
        }
        long since = n.unreachableSince.computeIfAbsent(leader, k -> now);
        if (now - since >= failureDetectMicros) {
            trace("unreachable " + leader + " reported to " + n.id);
            n.replica.reportUnreachable(leader);
        }
    }

    private void crash(SimNode<M> n) {
        if (n.crashed) {
            return;
        }
        trace("crash " + n.id);
        n.crashed = true;
        n.disk.crash(random, profile.tornWrites());
        n.forgetVolatileState();
        n.replica = null;
    }

    private void restart(SimNode<M> n) {
        if (!n.crashed || n.id.equals(quietFailoverVictim)) {
            return; // running, or killed for good by the quiet failover phase
        }
        trace("restart " + n.id);
        start(n);
    }

    private void pause(SimNode<M> n) {
        if (n.crashed || n.paused) {
            return;
        }
        trace("pause " + n.id);
        n.paused = true;
    }

    /**
     * A paused process resumes. Like the node runtime, it first catches up on the ticks its
     * monotonic clock says it missed, and only then handles what queued up meanwhile.
     */
    private void resume(SimNode<M> n) {
        if (n.crashed || !n.paused) {
            return;
        }
        trace("resume " + n.id + " missedTicks=" + n.missedTicks);
        n.paused = false;
        for (; n.missedTicks > 0; n.missedTicks--) {
            n.replica.tick();
        }
        var inbox = new ArrayList<>(n.pausedInbox);
        n.pausedInbox.clear();
        drive(n);
        observe(n);
        for (Runnable r : inbox) {
            onNode(n, r);
        }
    }

    /** Runs {@code action} on {@code n} now, or queues it if the process is paused. */
    private void onNode(SimNode<M> n, Runnable action) {
        if (n.crashed) {
            return;
        }
        if (n.paused) {
            n.pausedInbox.add(action);
            return;
        }
        action.run();
        drive(n);
        observe(n);
    }

    // ---------------------------------------------------------------- Ready handling

    private void drive(SimNode<M> n) {
        while (!n.crashed && !n.paused && n.inflight == null && n.replica.hasReady()) {
            Ready<M> r = n.replica.ready();
            if (sendsBeforePersist) {
                // Thesis §10.2.1, as the runtime does it: a leader's appends leave before its fsync,
                // so a crash between the two is explored.
                for (Envelope<M> env : r.messagesBeforePersist()) {
                    send(env);
                }
            }
            if (!r.mustPersist()) {
                complete(n, r);
                continue;
            }
            long batch = n.disk.write(r.snapshot(), r.entries(), r.hardState());
            int incarnation = n.incarnation;
            long latency = fsyncMicrosMin + random.nextLong(fsyncMicrosMin * 9);
            schedule(latency, () -> fsyncDone(n, incarnation, batch), "fsync");
            if (sendsBeforePersist && !r.messagesBeforePersist().isEmpty() && !r.entries().isEmpty()) {
                maybeKillMidFsync(n, latency);
            }
            if (driverMutation == SimMutation.ACK_BEFORE_PERSIST) {
                complete(n, r);
            } else {
                n.inflight = r;
                n.inflightBatch = batch;
            }
        }
    }

    private void fsyncDone(SimNode<M> n, int incarnation, long batch) {
        if (n.crashed || n.incarnation != incarnation) {
            return;
        }
        onNode(n, () -> {
            n.disk.syncThrough(batch);
            if (n.inflight != null && n.inflightBatch == batch) {
                Ready<M> r = n.inflight;
                n.inflight = null;
                complete(n, r);
            }
        });
    }

    /** The Ready's writes are durable: send, place forwarded writes, install, apply, serve reads, advance. */
    private void complete(SimNode<M> n, Ready<M> r) {
        for (Envelope<M> env : sendsBeforePersist ? r.messagesAfterPersist() : r.messages()) {
            send(env);
        }
        for (ProposalOutcome o : r.proposalOutcomes()) {
            placeForwardedWrite(n, o);
        }
        if (r.snapshot() != null) {
            Snapshot snap = r.snapshot();
            n.stateMachine.restore(snap.index(), snap.data());
            n.appliedMembership = snap.membership();
            n.compactedIndex = Math.max(n.compactedIndex, snap.index());
            // writes waiting at or below the snapshot: their outcome is unknown here
            n.writeWaiters.headMap(snap.index(), true).clear();
        }
        for (Entry e : r.committed()) {
            String result = n.stateMachine.apply(e);
            invariants.onApply(n.id, e);
            if (e.kind() == Entry.Kind.MEMBERSHIP) {
                n.appliedMembership = n.appliedMembership.apply(MembershipChange.decode(e.data()));
            }
            SimNode.WriteWaiter w = n.writeWaiters.remove(e.index());
            if (w != null) {
                // the entry applied at the waiter's index is committed; only ours if the term matches
                boolean committed = e.term() == w.term();
                reply(n, w.clientId(), w.opId(), committed, result, committed ? w.leader() : null);
            }
        }
        for (ReadRefusal refusal : r.readsRefused()) {
            SimNode.ReadWaiter w = n.readWaiters.remove(refusal.readId());
            if (w != null) {
                reply(n, w.clientId(), w.opId(), false, null, hint(refusal.refusal()));
            }
        }
        if (driverMutation == SimMutation.FOLLOWER_READ_BEFORE_APPLY && n.replica.status().role() != Role.LEADER) {
            // MUTATION FOLLOWER_READ_BEFORE_APPLY: the read index taken for "ready to serve".
            for (ReadState rs : r.reads()) {
                SimNode.ReadWaiter w = n.readWaiters.remove(rs.readId());
                if (w != null) {
                    reply(n, w.clientId(), w.opId(), true, n.stateMachine.get(w.key()), w.leader());
                }
            }
        }
        n.readsReady.addAll(r.reads());
        serveReads(n);
        n.replica.advance(r);
        maybeCompact(n);
    }

    /**
     * The leader's answer to a write this node forwarded, handled as the runtime does: the waiter
     * moves from the proposal id to (index, term), or the client hears the refusal. An entry that
     * already applied here overtook its outcome: whether it was this write cannot be told.
     */
    private void placeForwardedWrite(SimNode<M> n, ProposalOutcome o) {
        SimNode.ForwardWaiter w = n.forwardWaiters.remove(o.proposalId());
        if (w == null) {
            return; // answered, or a duplicate of an outcome already taken
        }
        if (o.result() instanceof ProposeResult.Accepted a) {
            if (a.index() <= n.stateMachine.appliedIndex()) {
                replyUnknown(w.clientId(), w.opId());
            } else {
                // an older waiter at this index was overwritten in this log; its fate is unknown
                n.writeWaiters.put(a.index(), new SimNode.WriteWaiter(a.term(), w.clientId(), w.opId(), w.leader()));
            }
        } else {
            reply(n, w.clientId(), w.opId(), false, null, hint(o.result()));
        }
    }

    private void serveReads(SimNode<M> n) {
        for (Iterator<ReadState> it = n.readsReady.iterator(); it.hasNext(); ) {
            ReadState rs = it.next();
            if (n.stateMachine.appliedIndex() >= rs.index()) {
                it.remove();
                SimNode.ReadWaiter w = n.readWaiters.remove(rs.readId());
                if (w != null) {
                    reply(n, w.clientId(), w.opId(), true, n.stateMachine.get(w.key()), w.leader());
                }
            }
        }
    }

    private void maybeCompact(SimNode<M> n) {
        long applied = n.stateMachine.appliedIndex();
        if (snapshotEveryEntries == 0 || applied - n.compactedIndex < snapshotEveryEntries) {
            return;
        }
        long term = n.replica.log().term(applied);
        if (term <= 0) {
            return;
        }
        byte[] data = n.stateMachine.snapshot();
        n.replica.compact(applied, data);
        n.disk.saveSnapshot(new Snapshot(applied, term, n.appliedMembership, data));
        n.compactedIndex = applied;
        trace("compact " + n.id + " at " + applied);
    }

    private void send(Envelope<M> env) {
        for (long delay : network.deliveries(env.from(), env.to())) {
            schedule(delay, () -> deliver(env), "deliver");
        }
    }

    private void deliver(Envelope<M> env) {
        SimNode<M> to = nodes.get(env.to());
        if (to == null || to.crashed || !network.connected(env.from(), env.to())) {
            return;
        }
        mix(env.message().getClass().getSimpleName().hashCode());
        onNode(to, () -> to.replica.step(env));
    }

    // ---------------------------------------------------------------- clients

    private void clientWake(SimClient c) {
        if (c.stopped) {
            return;
        }
        if (livenessPhase && c.okAfterHeal) {
            c.stopped = true;
            return;
        }
        if (now < clientsQuietUntil) {
            schedule(clientsQuietUntil - now + random.nextLong(clientThinkMicrosMax), () -> clientWake(c), "wake");
            return;
        }
        String key = "k" + random.nextInt(keyCount);
        int choice = random.nextInt(10);
        Op op;
        if (choice < 4) {
            op = new Op.Get(key);
        } else if (choice < 8) {
            op = new Op.Put(key, "v" + history.size());
        } else {
            String expected = random.chance(0.3) ? null : "v" + random.nextInt(Math.max(1, history.size()));
            op = new Op.Cas(key, expected, "v" + history.size());
        }
        // requests often go to any node, as a client spreading load would send them (followers
        // forward writes and ask the leader for read indexes); in some runs clients seek the
        // leader for writes, so a deposed leader keeps taking writes that later leaders must
        // sort out (the divergent tails of Figure 8)
        boolean anyNode = random.chance(0.5) && (!clientsSeekLeader || op instanceof Op.Get);
        NodeId target = anyNode ? universe.get(random.nextInt(universe.size())) : c.target;
        int opId = history.invoke(c.id, now, op);
        c.currentOp = opId;
        c.op = op;
        trace("invoke c" + c.id + " op" + opId + " " + op + " -> " + target);
        schedule(network.delay(), () -> arrive(nodes.get(target), c, opId, op), "request");
        schedule(clientTimeoutMicros, () -> clientTimeout(c, opId), "timeout");
    }

    private void arrive(SimNode<M> n, SimClient c, int opId, Op op) {
        if (n.crashed) {
            reply(n, c.id, opId, false, null, null); // connection refused: never executed
            return;
        }
        onNode(n, () -> handleRequest(n, c, opId, op));
    }

    private void handleRequest(SimNode<M> n, SimClient c, int opId, Op op) {
        if (op instanceof Op.Get get) {
            if (driverMutation == SimMutation.FOLLOWER_LOCAL_READS) {
                reply(n, c.id, opId, true, n.stateMachine.get(get.key()), null);
                return;
            }
            ProposeResult pr = n.replica.requestRead(opId);
            if (pr instanceof ProposeResult.Forwarded f) {
                trace("forward read op" + opId + " " + n.id + " -> " + f.leader());
            }
            if (pr instanceof ProposeResult.Accepted || pr instanceof ProposeResult.Forwarded) {
                n.readWaiters.put((long) opId, new SimNode.ReadWaiter(c.id, opId, get.key(),
                        pr instanceof ProposeResult.Forwarded f ? f.leader() : null));
            } else {
                reply(n, c.id, opId, false, null, hint(pr));
            }
            return;
        }
        KvCommand command = switch (op) {
            case Op.Put p -> KvCommand.put(opId, p.key(), p.value());
            case Op.Cas cas -> KvCommand.cas(opId, cas.key(), cas.expected(), cas.value());
            case Op.Get g -> throw new IllegalStateException("reads are handled above");
        };
        ProposeResult pr = n.replica.propose(command.encode());
        if (pr instanceof ProposeResult.Accepted a) {
            // an older waiter at this index was overwritten in this log; its fate is unknown
            n.writeWaiters.put(a.index(), new SimNode.WriteWaiter(a.term(), c.id, opId, null));
        } else if (pr instanceof ProposeResult.Forwarded f) {
            trace("forward op" + opId + " " + n.id + " -> " + f.leader() + " as proposal " + f.proposalId());
            n.forwardWaiters.put(f.proposalId(), new SimNode.ForwardWaiter(c.id, opId, f.leader()));
        } else {
            reply(n, c.id, opId, false, null, hint(pr));
        }
    }

    private static NodeId hint(ProposeResult pr) {
        return pr instanceof ProposeResult.NotLeader nl ? nl.leaderHint() : null;
    }

    private void reply(SimNode<M> from, int clientId, int opId, boolean ok, String result, NodeId leaderHint) {
        SimClient c = clients.get(clientId);
        schedule(network.delay(), () -> clientReceive(c, opId, ok, result, leaderHint, from.id), "reply");
    }

    private void clientReceive(SimClient c, int opId, boolean ok, String result, NodeId leaderHint, NodeId from) {
        if (c.currentOp != opId) {
            return; // timed out already
        }
        c.currentOp = -1;
        if (ok) {
            history.ok(opId, now, result);
            // a leader-seeking client moves to the leader that served it through a follower
            c.target = clientsSeekLeader && leaderHint != null ? leaderHint : from;
            if (livenessPhase) {
                c.okAfterHeal = true;
            }
        } else {
            history.fail(opId, now);
            c.target = leaderHint != null ? leaderHint : universe.get(random.nextInt(universe.size()));
        }
        trace((ok ? "ok c" : "fail c") + c.id + " op" + opId + (ok ? " " + result : ""));
        schedule(random.nextLong(clientThinkMicrosMax), () -> clientWake(c), "wake");
    }

    /** The node cannot tell whether the write took effect: the client records it as indeterminate. */
    private void replyUnknown(int clientId, int opId) {
        SimClient c = clients.get(clientId);
        schedule(network.delay(), () -> {
            if (c.currentOp != opId) {
                return;
            }
            c.currentOp = -1;
            history.info(opId, now);
            trace("unknown c" + c.id + " op" + opId);
            c.target = universe.get(random.nextInt(universe.size()));
            schedule(random.nextLong(clientThinkMicrosMax), () -> clientWake(c), "wake");
        }, "reply");
    }

    private void clientTimeout(SimClient c, int opId) {
        if (c.currentOp != opId) {
            return;
        }
        c.currentOp = -1;
        if (c.op instanceof Op.Get) {
            history.fail(opId, now); // a read that never answered had no effect
        } else {
            history.info(opId, now);
        }
        trace("timeout c" + c.id + " op" + opId);
        c.target = universe.get(random.nextInt(universe.size()));
        schedule(random.nextLong(clientThinkMicrosMax), () -> clientWake(c), "wake");
    }

    // ---------------------------------------------------------------- quiescence

    /**
     * Every client falls silent for 15 to 40 ticks, so the group goes idle and quiesces; after
     * half of them the nemesis kills or cuts off the next leader that quiesces.
     */
    private void quietPeriod() {
        if (livenessPhase) {
            return;
        }
        long quietMicros = (15 + random.nextInt(26)) * TICK_MICROS;
        clientsQuietUntil = now + quietMicros;
        trace("quiet for " + quietMicros / 1000 + " ms");
        if ((profile.crashes() || profile.partitions()) && random.chance(0.5)) {
            quiescedLeaderFaultArmed = true;
        }
        schedule(quietMicros + 200_000 + random.nextLong(600_000), this::quietPeriod, "quiet");
    }

    /** Kills the leader of the quiesced group, or cuts it off from every other node. */
    private void quiescedLeaderFault() {
        NodeId leaderId = currentLeader();
        if (livenessPhase || leaderId == null || !nodes.get(leaderId).replica.isQuiesced()) {
            return;
        }
        SimNode<M> leader = nodes.get(leaderId);
        if (profile.crashes() && (!profile.partitions() || random.chance(0.5))) {
            trace("kill quiesced leader " + leaderId);
            crash(leader);
            schedule(20_000 + random.nextLong(600_000), () -> restart(leader), "restart");
        } else {
            network.heal();
            network.partition(new ArrayList<>(universe), Set.of(leaderId));
            trace("isolate quiesced leader " + leaderId);
        }
    }

    /**
     * The quiet failover phase: once the idle group has quiesced everywhere, its leader dies for
     * good; with no client to wake them, the others must notice through the driver's
     * unreachable signal and elect a new leader, which commits and is applied by every live member.
     */
    private void checkQuietFailover() {
        NodeId leaderId = currentLeader();
        if (leaderId == null) {
            return;
        }
        LogStatus leader = nodes.get(leaderId).replica.status();
        if (quietFailover == QuietFailover.AWAIT_QUIESCENCE) {
            for (NodeId member : leader.membership().sortedMembers()) {
                SimNode<M> n = nodes.get(member);
                if (n.crashed || !n.replica.isQuiesced()) {
                    return;
                }
            }
            trace("quiesced everywhere; the leader " + leaderId + " dies");
            quietFailoverVictim = leaderId;
            quietFailoverTerm = leader.term();
            crash(nodes.get(leaderId));
            quietFailover = QuietFailover.AWAIT_NEW_LEADER;
            livenessAwaited = "new leader " + (QUIET_FAILOVER_MICROS_MAX / 1000)
                    + " ms after the leader of the quiesced group died";
            livenessDeadline = now + QUIET_FAILOVER_MICROS_MAX;
            return;
        }
        if (leader.term() <= quietFailoverTerm || leader.commitIndex() != leader.lastIndex()) {
            return;
        }
        for (NodeId member : leader.membership().sortedMembers()) {
            SimNode<M> n = nodes.get(member);
            if (!n.crashed && n.replica.status().appliedIndex() != leader.commitIndex()) {
                return;
            }
        }
        trace("new leader " + leaderId + " after the quiesced leader died, at index " + leader.commitIndex());
        finished = true;
    }

    // ---------------------------------------------------------------- faults

    private void scheduleNextFault() {
        long mean = profile.faultIntervalMicrosMean();
        schedule(mean / 2 + random.nextLong(mean), this::injectFault, "fault");
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
        if (profile.membershipChanges()) {
            actions.add(this::membershipFault);
        }
        if (profile.leadershipTransfers()) {
            actions.add(this::transferFault);
        }
        if (!actions.isEmpty()) {
            actions.get(random.nextInt(actions.size())).run();
        }
    }

    private void partitionFault() {
        trace(network.healOrPartition(random, new ArrayList<>(universe), currentLeader()));
    }

    private void crashFault() {
        if (random.chance(0.08)) {
            trace("power loss: every node crashes");
            for (SimNode<M> n : nodes.values()) {
                crash(n);
                schedule(20_000 + random.nextLong(400_000), () -> restart(n), "restart");
            }
            return;
        }
        NodeId leader = currentLeader();
        SimNode<M> n = leader != null && random.chance(0.4) ? nodes.get(leader)
                : nodes.get(universe.get(random.nextInt(universe.size())));
        crash(n);
        schedule(20_000 + random.nextLong(600_000), () -> restart(n), "restart");
    }

    /**
     * Nemesis in the style of Jepsen's "kill the leader": a fresh leader sometimes dies within
     * a few heartbeats, before it has replicated its first entries. Leader changes in quick
     * succession are where the subtle Raft bugs live (Figure 8, lost acknowledgements).
     */
    private void onNewLeader(SimNode<M> n) {
        if (livenessPhase || !profile.crashes() || !random.chance(profile.leaderKillRate())) {
            return;
        }
        int incarnation = n.incarnation;
        schedule(random.nextLong(3 * TICK_MICROS), () -> {
            if (!livenessPhase && n.incarnation == incarnation) {
                crash(n);
                schedule(20_000 + random.nextLong(300_000), () -> restart(n), "restart");
            }
        }, "kill-leader");
    }

    /**
     * Nemesis for thesis §10.2.1: a leader whose appends already left dies before its own fsync
     * ends, losing entries its followers may have stored and acknowledged; sometimes the power
     * fails for the whole cluster at that instant, so every unsynced copy goes too.
     */
    private void maybeKillMidFsync(SimNode<M> n, long fsyncMicros) {
        if (livenessPhase || !profile.crashes() || !random.chance(profile.leaderKillRate() * 0.1)) {
            return;
        }
        int incarnation = n.incarnation;
        boolean powerLoss = random.chance(0.3);
        schedule(random.nextLong(fsyncMicros), () -> {
            if (livenessPhase || n.incarnation != incarnation || n.crashed) {
                return;
            }
            trace((powerLoss ? "power loss while " : "kill ") + n.id + " mid-fsync");
            for (SimNode<M> victim : powerLoss ? nodes.values() : List.of(n)) {
                crash(victim);
                schedule(20_000 + random.nextLong(300_000), () -> restart(victim), "restart");
            }
        }, "kill-mid-fsync");
    }

    private void pauseFault() {
        NodeId leader = currentLeader();
        SimNode<M> n = leader != null && random.chance(0.5) ? nodes.get(leader)
                : nodes.get(universe.get(random.nextInt(universe.size())));
        pause(n);
        schedule(10_000 + random.nextLong(400_000), () -> resume(n), "resume");
    }

    private void membershipFault() {
        NodeId leaderId = currentLeader();
        if (leaderId == null) {
            return;
        }
        SimNode<M> leader = nodes.get(leaderId);
        if (leader.paused) {
            return;
        }
        LogStatus s = leader.replica.status();
        Membership m = s.membership();
        MembershipChange change = null;
        if (!m.learners().isEmpty()) {
            NodeId learner = m.learners().iterator().next();
            SimNode<M> ln = nodes.get(learner);
            if (!ln.crashed && ln.replica.status().appliedIndex() + 5 >= s.commitIndex()) {
                change = new MembershipChange(MembershipChange.Type.ADD_VOTER, learner);
            }
        } else if (m.voters().size() > options.nodeCount() || (m.voters().size() > 3 && random.chance(0.5))) {
            var voters = new ArrayList<>(new TreeSet<>(m.voters()));
            change = new MembershipChange(MembershipChange.Type.REMOVE, voters.get(random.nextInt(voters.size())));
        } else {
            var outside = new ArrayList<NodeId>();
            for (NodeId id : universe) {
                if (!m.isMember(id)) {
                    outside.add(id);
                }
            }
            if (!outside.isEmpty()) {
                change = new MembershipChange(MembershipChange.Type.ADD_LEARNER, outside.get(random.nextInt(outside.size())));
            }
        }
        if (change != null) {
            MembershipChange c = change;
            onNode(leader, () -> trace("membership " + c + " -> " + leader.replica.proposeMembership(c)));
        }
    }

    private void transferFault() {
        NodeId leaderId = currentLeader();
        if (leaderId == null) {
            return;
        }
        SimNode<M> leader = nodes.get(leaderId);
        var voters = new ArrayList<>(new TreeSet<>(leader.replica.status().membership().voters()));
        voters.remove(leaderId);
        if (voters.isEmpty() || leader.paused) {
            return;
        }
        NodeId target = voters.get(random.nextInt(voters.size()));
        onNode(leader, () -> trace("transfer " + leaderId + " -> " + target + ": "
                + leader.replica.transferLeadership(target)));
    }

    /** The live leader with the highest term, or null. */
    private NodeId currentLeader() {
        NodeId best = null;
        long bestTerm = -1;
        for (SimNode<M> n : nodes.values()) {
            if (!n.crashed) {
                LogStatus s = n.replica.status();
                if (s.role() == Role.LEADER && s.term() > bestTerm) {
                    best = n.id;
                    bestTerm = s.term();
                }
            }
        }
        return best;
    }

    // ---------------------------------------------------------------- liveness

    private void beginLiveness() {
        trace("liveness phase: heal, restart, resume");
        livenessPhase = true;
        livenessDeadline = now + LIVENESS_MICROS_MAX;
        livenessAwaited = "convergence " + (LIVENESS_MICROS_MAX / 1000) + " ms after healing";
        clientsQuietUntil = 0;
        network.calm();
        for (SimNode<M> n : nodes.values()) {
            if (n.crashed) {
                restart(n);
            } else if (n.paused) {
                resume(n);
            }
        }
    }

    private void checkConverged() {
        for (SimClient c : clients) {
            if (!c.stopped) {
                return;
            }
        }
        NodeId leaderId = currentLeader();
        if (leaderId == null) {
            return;
        }
        LogStatus leader = nodes.get(leaderId).replica.status();
        if (leader.commitIndex() != leader.lastIndex()) {
            return;
        }
        for (NodeId member : leader.membership().sortedMembers()) {
            SimNode<M> n = nodes.get(member);
            if (n.crashed || n.replica.status().appliedIndex() != leader.commitIndex()) {
                return;
            }
        }
        trace("converged at index " + leader.commitIndex());
        if (quiesceIdleTicks > 0 && leader.membership().voters().size() >= 3) {
            quietFailover = QuietFailover.AWAIT_QUIESCENCE;
            livenessAwaited = "quiescence of the idle group within " + (QUIET_FAILOVER_MICROS_MAX / 1000) + " ms";
            livenessDeadline = now + QUIET_FAILOVER_MICROS_MAX;
        } else {
            finished = true;
        }
    }

    private String clusterState() {
        var sb = new StringBuilder();
        for (SimNode<M> n : nodes.values()) {
            if (n.crashed) {
                sb.append(n.id).append("=down ");
                continue;
            }
            LogStatus s = n.replica.status();
            sb.append(String.format("%s=%s/t%d/c%d/a%d/l%d ", n.id, s.role(), s.term(), s.commitIndex(),
                    s.appliedIndex(), s.lastIndex()));
        }
        int waiting = 0;
        for (SimClient c : clients) {
            if (!c.stopped) {
                waiting++;
            }
        }
        return sb + "clientsWaiting=" + waiting;
    }
}
