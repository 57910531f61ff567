package dev.atoll.consensus.raft;

import dev.atoll.core.NodeId;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ProposalOutcome;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.ReadRefusal;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.Role;
import dev.atoll.core.protocol.Snapshot;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * An in-memory Raft group for tests: N cores, a disk and a state machine per node, one FIFO
 * network with isolation and drop rules, and a global check that no two nodes ever apply
 * different entries at the same index (State Machine Safety, Raft §5.4.3).
 */
final class Cluster {
    /** What one node keeps across a crash: what its Readies told it to persist. */
    static final class Disk {
        HardState hardState = HardState.EMPTY;
        Snapshot snapshot;
        final List<Entry> entries = new ArrayList<>();

        Disk(Snapshot bootstrap) {
            this.snapshot = bootstrap;
        }

        void persist(Ready<RaftMessage> r) {
            if (r.hardState() != null) {
                hardState = r.hardState();
            }
            if (r.snapshot() != null) {
                // A snapshot in a Ready resets the persisted log (RaftNode's driver contract).
                snapshot = r.snapshot();
                entries.clear();
            }
            if (!r.entries().isEmpty()) {
                long first = r.entries().get(0).index();
                while (!entries.isEmpty() && entries.get(entries.size() - 1).index() >= first) {
                    entries.remove(entries.size() - 1);
                }
                long expected = snapshot.index() + entries.size() + 1;
                if (first != expected) {
                    throw new AssertionError("persisted log would have a gap: " + first + " after " + (expected - 1));
                }
                entries.addAll(r.entries());
            }
        }

        PersistentState load() {
            return new PersistentState(hardState, snapshot, entries);
        }
    }

    /** A state machine that remembers what it applied. */
    static final class Machine {
        long appliedIndex;
        final List<Entry> applied = new ArrayList<>();
        final List<ReadState> reads = new ArrayList<>();
        final List<ReadRefusal> readsRefused = new ArrayList<>();
        final List<ProposalOutcome> outcomes = new ArrayList<>();
        final List<Snapshot> installed = new ArrayList<>();
    }

    final RaftConfig config;
    final long seed;
    final TreeMap<NodeId, RaftNode> nodes = new TreeMap<>();
    final TreeMap<NodeId, Disk> disks = new TreeMap<>();
    final TreeMap<NodeId, Machine> machines = new TreeMap<>();
    final LinkedList<Envelope<RaftMessage>> network = new LinkedList<>();
    final Set<NodeId> isolated = new HashSet<>();
    final Set<NodeId> down = new HashSet<>();
    /** Every message handed to the network, in order (for counting and transcripts). */
    final List<Envelope<RaftMessage>> sent = new ArrayList<>();
    final List<Envelope<RaftMessage>> delivered = new ArrayList<>();
    /** Index -> the entry first applied there by any node. */
    final Map<Long, Entry> appliedAnywhere = new TreeMap<>();
    final List<String> safetyViolations = new ArrayList<>();
    Predicate<Envelope<RaftMessage>> dropRule = e -> false;
    private int restarts;

    private Cluster(int size, RaftConfig config, long seed) {
        this.config = config;
        this.seed = seed;
        Set<NodeId> voters = IntStream.rangeClosed(1, size).mapToObj(i -> id("n" + i))
                .collect(Collectors.toCollection(LinkedHashSet::new));
        for (NodeId n : voters) {
            start(n, PersistentState.bootstrap(Membership.ofVoters(voters)));
        }
    }

    static Cluster of(int size) {
        return new Cluster(size, RaftConfig.defaults(), 42);
    }

    static Cluster of(int size, RaftConfig config) {
        return new Cluster(size, config, 42);
    }

    /** Three nodes, n1 leading with a write committed everywhere; what was sent so far is forgotten. */
    static Cluster ofThreeWithACommittedWrite() {
        var c = Cluster.of(3).electLeader("n1").tick(1);
        c.propose("n1", "w");
        c.stabilize();
        c.clearSent();
        return c;
    }

    static NodeId id(String name) {
        return NodeId.of(name);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void start(NodeId n, PersistentState state) {
        disks.computeIfAbsent(n, k -> new Disk(state.snapshot()));
        Machine m = new Machine();
        m.appliedIndex = state.snapshot().index();
        machines.put(n, m);
        long nodeSeed = seed * 31 + n.value().hashCode() + 1000L * restarts++;
        nodes.put(n, new RaftNode(n, config, state, new SeededRandom(nodeSeed)));
        down.remove(n);
    }

    /** A brand-new node that the group will add later: it knows no membership yet. */
    Cluster addNode(String name) {
        NodeId n = id(name);
        start(n, PersistentState.bootstrap(Membership.ofVoters(Set.of())));
        return this;
    }

    RaftNode node(String name) {
        return nodes.get(id(name));
    }

    Machine machine(String name) {
        return machines.get(id(name));
    }

    // ---- driving ----

    /** Carries out every pending Ready of a node, the way a driver must: persist, send, apply, advance. */
    void processReady(NodeId n) {
        RaftNode node = nodes.get(n);
        int rounds = 0;
        while (!down.contains(n) && node.hasReady()) {
            if (++rounds > 1000) {
                throw new AssertionError(n + " never runs out of Readies");
            }
            Ready<RaftMessage> r = node.ready();
            disks.get(n).persist(r);
            for (Envelope<RaftMessage> e : r.messages()) {
                sent.add(e);
                network.addLast(e);
            }
            Machine m = machines.get(n);
            if (r.snapshot() != null) {
                m.installed.add(r.snapshot());
                m.appliedIndex = r.snapshot().index();
            }
            for (Entry e : r.committed()) {
                if (e.index() != m.appliedIndex + 1) {
                    throw new AssertionError(n + " applies " + e.index() + " after " + m.appliedIndex);
                }
                m.appliedIndex = e.index();
                m.applied.add(e);
                Entry first = appliedAnywhere.putIfAbsent(e.index(), e);
                if (first != null && !first.equals(e)) {
                    safetyViolations.add(n + " applied " + e + " where another node applied " + first);
                }
            }
            m.reads.addAll(r.reads());
            m.readsRefused.addAll(r.readsRefused());
            m.outcomes.addAll(r.proposalOutcomes());
            node.advance(r);
        }
    }

    void processAllReadies() {
        for (NodeId n : nodes.keySet()) {
            processReady(n);
        }
    }

    private boolean reachable(Envelope<RaftMessage> e) {
        return !down.contains(e.to()) && !down.contains(e.from())
                && !isolated.contains(e.to()) && !isolated.contains(e.from()) && nodes.containsKey(e.to());
    }

    /** Delivers (or drops) the oldest message in the network. */
    boolean deliverOne() {
        return deliver(network.pollFirst());
    }

    /** Delivers (or drops) the message at {@code position} in the network: reordering. */
    boolean deliverAt(int position) {
        return deliver(network.remove(position));
    }

    private boolean deliver(Envelope<RaftMessage> e) {
        if (e == null) {
            return false;
        }
        if (reachable(e) && !dropRule.test(e)) {
            delivered.add(e);
            nodes.get(e.to()).step(e);
            processReady(e.to());
        }
        return true;
    }

    /** Delivers messages until the network is quiet. */
    Cluster stabilize() {
        processAllReadies();
        int steps = 0;
        while (deliverOne()) {
            if (++steps > 200_000) {
                throw new AssertionError("the network never goes quiet");
            }
        }
        return this;
    }

    /** {@code count} ticks: every live node ticks, then the network delivers everything. */
    Cluster tick(int count) {
        for (int i = 0; i < count; i++) {
            for (Map.Entry<NodeId, RaftNode> e : nodes.entrySet()) {
                if (!down.contains(e.getKey())) {
                    e.getValue().tick();
                }
            }
            stabilize();
        }
        return this;
    }

    /** Ticks only {@code name}, leaving the others' clocks still. */
    Cluster tickOnly(String name, int count) {
        for (int i = 0; i < count; i++) {
            node(name).tick();
            stabilize();
        }
        return this;
    }

    /** Ticks every live node but {@code name}, whose clock stands still (a paused process). */
    Cluster tickAllBut(String name, int count) {
        for (int i = 0; i < count; i++) {
            for (Map.Entry<NodeId, RaftNode> e : nodes.entrySet()) {
                if (!down.contains(e.getKey()) && !e.getKey().equals(id(name))) {
                    e.getValue().tick();
                }
            }
            stabilize();
        }
        return this;
    }

    Cluster electLeader(String name) {
        node(name).campaign();
        stabilize();
        if (node(name).status().role() != Role.LEADER) {
            throw new AssertionError(name + " did not win: " + node(name).status());
        }
        return this;
    }

    /** Ticks until some node leads, at most {@code ticksMax}. */
    Cluster tickUntilLeader(int ticksMax) {
        for (int i = 0; i < ticksMax && leader() == null; i++) {
            tick(1);
        }
        if (leader() == null) {
            throw new AssertionError("no leader after " + ticksMax + " ticks");
        }
        return this;
    }

    Cluster isolate(String name) {
        isolated.add(id(name));
        return this;
    }

    Cluster heal() {
        isolated.clear();
        return this;
    }

    Cluster crash(String name) {
        down.add(id(name));
        return this;
    }

    Cluster restart(String name) {
        NodeId n = id(name);
        start(n, disks.get(n).load());
        processReady(n);
        return this;
    }

    // ---- client ----

    ProposeResult.Accepted propose(String name, String command) {
        ProposeResult r = node(name).propose(bytes(command));
        if (!(r instanceof ProposeResult.Accepted a)) {
            throw new AssertionError("proposal at " + name + " refused: " + r);
        }
        return a;
    }

    // ---- observations ----

    /** The live leader with the highest term, or null. */
    NodeId leader() {
        NodeId best = null;
        long bestTerm = -1;
        for (Map.Entry<NodeId, RaftNode> e : nodes.entrySet()) {
            var s = e.getValue().status();
            if (!down.contains(e.getKey()) && s.role() == Role.LEADER && s.term() > bestTerm) {
                best = e.getKey();
                bestTerm = s.term();
            }
        }
        return best;
    }

    long term(String name) {
        return node(name).status().term();
    }

    long commit(String name) {
        return node(name).status().commitIndex();
    }

    List<String> appliedCommands(String name) {
        return machine(name).applied.stream()
                .filter(e -> e.kind() == Entry.Kind.COMMAND)
                .map(e -> new String(e.data(), StandardCharsets.UTF_8))
                .toList();
    }

    long countSent(Class<? extends RaftMessage> type) {
        return sent.stream().filter(e -> type.isInstance(e.message())).count();
    }

    void clearSent() {
        sent.clear();
        delivered.clear();
    }
}
