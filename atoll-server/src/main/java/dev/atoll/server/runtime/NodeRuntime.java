package dev.atoll.server.runtime;

import dev.atoll.consensus.raft.RaftConfig;
import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.consensus.raft.RaftNode;
import dev.atoll.core.NodeId;
import dev.atoll.core.SeededRandom;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.HardState;
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
import dev.atoll.storage.wal.GroupWrite;
import dev.atoll.storage.wal.SnapshotMeta;
import dev.atoll.storage.wal.Wal;
import dev.atoll.storage.wal.WalOptions;
import dev.atoll.storage.wal.WalRecovery;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives every Raft replica group hosted on this node with a real disk, network and clock
 * (DESIGN.md section 2, the node-runtime driver). One loop thread owns every core: ticks,
 * peer messages, proposals and reads arrive as tasks on a bounded queue; each round then
 * collects the Ready of every group, writes them all to the node's one WAL with a single
 * fsync (group commit), flushes the network once, applies committed entries and serves
 * reads. Nothing else touches a core.
 *
 * <p>Snapshots do not hold the loop: every {@code snapshotEveryEntries} applied entries a
 * background snapshot thread lets the state machine prepare ({@link StateMachine#prepareSnapshot}),
 * the loop takes a cheap capture of it ({@link StateMachine#captureSnapshot}), the snapshot thread
 * materializes its bytes and writes the snapshot file, and the loop then compacts the core and
 * names the snapshot in the WAL, at most one per group at a time. A snapshot the leader installed
 * meanwhile makes it obsolete; a failed one is retried after {@code snapshotRetryMillis}.
 *
 * <p>A round costs what happened, not how many groups there are: it visits only the groups an
 * input touched (or that still have work), and a tick skips quiesced groups (an idle group whose
 * leader stopped heartbeating, see {@code RaftConfig.quiesceIdleTicks}), so an idle group costs
 * next to nothing. A quiesced follower whose leader's node the {@link PeerSender} reports
 * unreachable is woken, so that it elects another leader.
 *
 * <p>Thread safety: {@link #propose}, {@link #readBarrier}, {@link #deliver} and the status
 * getters may be called from any thread; futures complete on the loop thread, so callers
 * continue asynchronously on their own executors.
 */
public final class NodeRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeRuntime.class);
    /**
     * Ticks delivered at once after a pause, at most: more than any election timeout or lease
     * counts, so every timer that ran out during the pause has run out when the loop goes on.
     */
    static final long TICKS_CAUGHT_UP_MAX = 100;

    /**
     * Limits and timing of a runtime. {@code snapshotsInFlightMax}: snapshots captured and not yet
     * recorded, over all groups (each holds its capture, a checkpoint directory for etcd, until
     * written); {@code snapshotRetryMillis}: how long a group whose snapshot failed waits before
     * it captures another.
     */
    public record Options(long tickMillis, int tasksQueuedMax, int tasksPerRoundMax, long snapshotEveryEntries,
                          int snapshotsInFlightMax, long snapshotRetryMillis, WalOptions wal) {
        public Options {
            if (snapshotsInFlightMax < 1) {
                throw new IllegalArgumentException("snapshotsInFlightMax must be at least 1: " + snapshotsInFlightMax);
            }
            if (snapshotRetryMillis < 0) {
                throw new IllegalArgumentException("snapshotRetryMillis must not be negative: " + snapshotRetryMillis);
            }
        }

        public static Options defaults() {
            return new Options(50, 65_536, 8_192, 10_000, 4, 10_000, WalOptions.defaults());
        }

        public Options withSnapshotEveryEntries(long entries) {
            return new Options(tickMillis, tasksQueuedMax, tasksPerRoundMax, entries, snapshotsInFlightMax,
                    snapshotRetryMillis, wal);
        }

        public Options withTickMillis(long millis) {
            return new Options(millis, tasksQueuedMax, tasksPerRoundMax, snapshotEveryEntries, snapshotsInFlightMax,
                    snapshotRetryMillis, wal);
        }

        public Options withSnapshotRetryMillis(long millis) {
            return new Options(tickMillis, tasksQueuedMax, tasksPerRoundMax, snapshotEveryEntries, snapshotsInFlightMax,
                    millis, wal);
        }
    }

    /**
     * A snapshot captured on the loop thread at {@code index} (whose entry has {@code term}) and
     * being materialized and written on the snapshot thread; {@code prepareNanos}: how long the
     * state machine prepared it (on the snapshot thread), {@code captureNanos}: how long the
     * capture held the loop thread.
     */
    private record PendingSnapshot(long index, long term, long prepareNanos, long captureNanos) {
    }

    private record Waiter(long term, CompletableFuture<Object> result) {
    }

    /** One hosted replica group: its core, its state machine and what waits on it. */
    private static final class Group {
        final long id;
        final RaftNode raft;
        final StateMachine stateMachine;
        final SnapshotFiles snapshots;
        final long snapshotEveryEntries;
        /** Term and vote of the last hard state this runtime synced for the group (-1: none yet). */
        long syncedTerm = -1;
        NodeId syncedVote;
        final TreeMap<Long, Waiter> writeWaiters = new TreeMap<>();
        /** Proposals relayed to the leader, by proposalId, until its outcome places them at an index. */
        final Map<Long, CompletableFuture<Object>> forwardedWaiters = new java.util.HashMap<>();
        final Map<Long, CompletableFuture<Long>> readWaiters = new TreeMap<>();
        final List<ReadState> readsReady = new ArrayList<>();
        long snapshotIndex;
        /** The state machine prepares a snapshot on the snapshot thread; the loop captures it next. */
        boolean snapshotPreparing;
        /** The group's snapshot captured and being written on the snapshot thread, or null. */
        PendingSnapshot snapshotPending;
        /** After a failed snapshot: no capture before this System.nanoTime(). */
        long snapshotNotBeforeNanos;
        /** Runs once the pending snapshot is recorded or dropped (a removal waits for it), or null. */
        Runnable afterSnapshot;
        /** Removals of the group that wait for its snapshot: failed if the runtime stops first. */
        final List<CompletableFuture<Void>> removalsWaiting = new ArrayList<>();
        /** In {@code touched}: an input reached the core since the last round, or work is left. */
        boolean touched;
        Role role = Role.FOLLOWER;
        long term;
        NodeId leader;
        /** Being removed from this node: peer messages are no longer stepped. */
        boolean retiring;

        /** A snapshot is being prepared or written: at most one per group at a time. */
        boolean snapshotInFlight() {
            return snapshotPreparing || snapshotPending != null;
        }

        Group(long id, RaftNode raft, StateMachine stateMachine, SnapshotFiles snapshots, long snapshotIndex,
              long snapshotEveryEntries) {
            this.id = id;
            this.raft = raft;
            this.stateMachine = stateMachine;
            this.snapshots = snapshots;
            this.snapshotIndex = snapshotIndex;
            this.snapshotEveryEntries = snapshotEveryEntries;
        }
    }

    private final NodeId self;
    private final Options options;
    private final Path dataDir;
    private final Wal wal;
    private final Map<Long, PersistentState> recovered;
    private final Map<Long, Group> groups = new TreeMap<>();
    /**
     * Cores of groups removed while running (loop thread only), compacted at their applied index
     * when removed: hosting such a group again continues from its own durable state, which the
     * WAL holds and {@link #recovered} (read at startup) does not.
     */
    private final Map<Long, RaftNode> parked = new java.util.HashMap<>();
    /** Groups the next round visits, each once: see {@link #touch}. */
    private List<Group> touched = new ArrayList<>();
    private final BlockingQueue<Runnable> tasks;
    private final AtomicLong nextReadId = new AtomicLong(1);
    private final SeededRandom random;
    private PeerSender peers;
    private Thread loop;
    private volatile boolean running;
    /** Published status of each group, updated by the round that touched it. */
    private final Map<Long, LogStatus> statusView = new ConcurrentSkipListMap<>();
    private final Map<Long, LogStatus> statusReadOnly = java.util.Collections.unmodifiableMap(statusView);
    private volatile int quiescedGroupCount;
    /**
     * Materializes captured snapshots and writes their files, off the loop thread (one thread: the
     * work is a large copy and an fsync). Its queue holds at most snapshotsInFlightMax jobs, since
     * the loop captures no more than that many before they are recorded.
     */
    private final ThreadPoolExecutor snapshotWriter;
    /** Snapshots captured and not yet back on the loop thread (loop thread only). */
    private int snapshotsInFlight;

    private final Counter proposals;
    private final Counter commits;
    private final Counter applies;
    private final Counter leaderChanges;
    private final Counter tasksRefused;
    private final Timer fsyncLatency;
    private final DistributionSummary appendBatchEntries;
    private final CompletableFuture<Throwable> failed = new CompletableFuture<>();
    private final Counter snapshotsTaken;
    private final Counter snapshotsFailed;
    private final Counter snapshotsDiscarded;
    private final Timer snapshotPrepareLatency;
    private final Timer snapshotCaptureLatency;
    private final Timer snapshotMaterializeLatency;
    private final Counter snapshotsInstalled;
    private final Counter appendsSent;
    private final Counter snapshotChunksSent;

    /** Opens the node's WAL under {@code dataDir}; groups are added before {@link #start}. */
    public NodeRuntime(NodeId self, Path dataDir, Options options, MeterRegistry metrics) {
        this.self = self;
        this.options = options;
        this.dataDir = dataDir;
        this.tasks = new ArrayBlockingQueue<>(options.tasksQueuedMax());
        this.random = new SeededRandom(new SecureRandom().nextLong());
        this.snapshotWriter = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(options.snapshotsInFlightMax()),
                Thread.ofPlatform().name("snapshot-writer-" + self).daemon().factory());
        try {
            WalRecovery recovery = Wal.open(dataDir.resolve("wal"), options.wal());
            this.wal = recovery.wal();
            this.recovered = recovery.groups();
            log.info("wal_recovered node={} groups={} records={} torn_bytes_dropped={}", self,
                    recovery.groups().size(), recovery.recordCount(), recovery.droppedBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the WAL in " + dataDir, e);
        }
        proposals = Counter.builder("atoll_raft_proposals_total").register(metrics);
        commits = Counter.builder("atoll_raft_commits_total").register(metrics);
        applies = Counter.builder("atoll_raft_applies_total").register(metrics);
        leaderChanges = Counter.builder("atoll_raft_leader_changes_total").register(metrics);
        tasksRefused = Counter.builder("atoll_runtime_tasks_refused_total").register(metrics);
        fsyncLatency = Timer.builder("atoll_wal_fsync_seconds").publishPercentileHistogram().register(metrics);
        appendBatchEntries = DistributionSummary.builder("atoll_wal_append_batch_entries").register(metrics);
        snapshotsTaken = Counter.builder("atoll_raft_snapshots_taken_total").register(metrics);
        snapshotsFailed = Counter.builder("atoll_raft_snapshots_failed_total").register(metrics);
        snapshotsDiscarded = Counter.builder("atoll_raft_snapshots_discarded_total").register(metrics);
        snapshotPrepareLatency = Timer.builder("atoll_raft_snapshot_prepare_seconds")
                .description("time a state machine prepares a snapshot, off the loop thread").register(metrics);
        snapshotCaptureLatency = Timer.builder("atoll_raft_snapshot_capture_seconds")
                .description("time a snapshot capture holds the loop thread").register(metrics);
        snapshotMaterializeLatency = Timer.builder("atoll_raft_snapshot_materialize_seconds")
                .description("time to materialize and write a snapshot, off the loop thread").register(metrics);
        snapshotsInstalled = Counter.builder("atoll_raft_snapshots_installed_total").register(metrics);
        appendsSent = Counter.builder("atoll_raft_appends_sent_total").register(metrics);
        snapshotChunksSent = Counter.builder("atoll_raft_snapshot_chunks_sent_total").register(metrics);
        metrics.gauge("atoll_runtime_tasks_queued", tasks, BlockingQueue::size);
        metrics.gauge("atoll_raft_groups_quiesced", this, NodeRuntime::quiescedGroups);
    }

    /**
     * Hosts group {@code groupId}. A group found in the WAL restarts from it (the initial
     * membership is then ignored); otherwise it starts as a founding member of
     * {@code initialMembership} (or empty, to join later). The state machine catches up from
     * the snapshot if it is behind it.
     */
    public void addGroup(long groupId, RaftConfig config, Membership initialMembership, StateMachine stateMachine) {
        if (running) {
            throw new IllegalStateException("groups are added before start()");
        }
        createGroup(groupId, config, Snapshot.bootstrap(initialMembership), stateMachine,
                options.snapshotEveryEntries());
    }

    /**
     * Hosts group {@code groupId} from now on, whether the runtime runs or not, with a snapshot
     * taken every {@code snapshotEveryEntries} applied entries. As {@link #addGroup}: a group this
     * node hosted before (in the WAL, or removed since it started) continues from its own state;
     * a new one starts with {@code initialMembership} (empty: it waits for a leader's snapshot).
     * Completes once the group runs; fails with IllegalStateException if it is hosted already.
     */
    public CompletableFuture<Void> hostGroup(long groupId, RaftConfig config, Membership initialMembership,
                                             StateMachine stateMachine, long snapshotEveryEntries) {
        return hostGroup(groupId, config, Snapshot.bootstrap(initialMembership), stateMachine, snapshotEveryEntries);
    }

    /** As above, a new group's log starting after {@code bootstrap} (its founding membership and state). */
    public CompletableFuture<Void> hostGroup(long groupId, RaftConfig config, Snapshot bootstrap,
                                             StateMachine stateMachine, long snapshotEveryEntries) {
        var result = new CompletableFuture<Void>();
        Runnable create = () -> {
            if (groups.containsKey(groupId)) {
                result.completeExceptionally(new IllegalStateException("group " + groupId + " is hosted already"));
                return;
            }
            try {
                createGroup(groupId, config, bootstrap, stateMachine, snapshotEveryEntries);
                result.complete(null);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        };
        if (!running) {
            create.run();
        } else if (!submit(create)) {
            result.completeExceptionally(new ProposalFailedException("node overloaded: group not added", true));
        }
        return result;
    }

    /**
     * Stops hosting group {@code groupId}: compacts it at its applied index (so the WAL's snapshot
     * covers what its state machine held, and the WAL may drop its entries), fails what waits on
     * it, closes its state machine and forgets it. Completes once done (at once if the group is
     * not hosted); the caller may then delete the state machine's data. {@code mayReturn}: the
     * group may be hosted here again (its core is kept for that); false for a group gone for good.
     */
    public CompletableFuture<Void> removeGroup(long groupId, boolean mayReturn) {
        var result = new CompletableFuture<Void>();
        if (!submit(() -> retire(groupId, mayReturn, result))) {
            result.completeExceptionally(new ProposalFailedException("node overloaded: group not removed", true));
        }
        return result;
    }

    private void retire(long groupId, boolean mayReturn, CompletableFuture<Void> result) {
        Group g = groups.get(groupId);
        if (g == null) {
            result.complete(null);
            return;
        }
        g.retiring = true;
        if (g.snapshotInFlight()) {
            // the snapshot thread still uses the state machine or writes a file into the group's
            // directory, which a group hosted here again would share: the removal waits for it
            Runnable before = g.afterSnapshot;
            Runnable again = () -> retire(groupId, mayReturn, result);
            g.removalsWaiting.add(result);
            g.afterSnapshot = before == null ? again : () -> {
                before.run();
                again.run();
            };
            return;
        }
        if (g.raft.hasReady()) {
            // what the core holds unpersisted must reach the WAL first: try again after this round
            touch(g);
            if (!submit(() -> retire(groupId, mayReturn, result))) {
                result.completeExceptionally(new ProposalFailedException("node stopping: group not removed", false));
            }
            return;
        }
        long applied = g.stateMachine.appliedIndex();
        if (applied > g.snapshotIndex && g.raft.log().term(applied) > 0) {
            // On the loop thread, unlike the periodic snapshots: the caller may delete the state
            // machine's data as soon as this completes, so the snapshot that stands in for it must
            // be durable and named by the WAL first, and the state machine is closed just below.
            // Removing a replica is rare (a move or merge); a round's worth of delay is its cost.
            compactNow(g, applied);
        }
        groups.remove(groupId);
        failPending(g, new ProposalFailedException("group removed from this node", false));
        g.stateMachine.close();
        if (mayReturn) {
            parked.put(groupId, g.raft);
        }
        statusView.remove(groupId);
        log.info("group_removed node={} group={} applied={}", self, groupId, applied);
        result.complete(null);
    }

    private void createGroup(long groupId, RaftConfig config, Snapshot bootstrap, StateMachine stateMachine,
                             long snapshotEveryEntries) {
        RaftNode again = parked.remove(groupId);
        if (again != null) {
            Snapshot snap = again.snapshot();
            if (snap.index() > 0 && stateMachine.appliedIndex() < snap.index()) {
                stateMachine.install(snap);
            }
            var snapshots = new SnapshotFiles(dataDir.resolve("snap").resolve(Long.toString(groupId)));
            Group g = new Group(groupId, again, stateMachine, snapshots, snap.index(), snapshotEveryEntries);
            groups.put(groupId, g);
            published(g);
            return;
        }
        var snapshots = new SnapshotFiles(dataDir.resolve("snap").resolve(Long.toString(groupId)));
        PersistentState persisted = recovered.get(groupId);
        if (persisted == null) {
            persisted = new PersistentState(HardState.EMPTY, bootstrap, List.of());
            if (bootstrap.index() > 0) {
                snapshots.save(bootstrap); // a restart loads the data of the WAL's snapshot from its file
            }
            if (!bootstrap.membership().voters().isEmpty()) {
                // The founding membership lives in the bootstrap snapshot (index 0), which no
                // Ready ever carries: record it, or a restart before the first compaction
                // would find a group with no members that can never elect a leader.
                try {
                    wal.append(List.of(GroupWrite.ofSnapshot(groupId, SnapshotMeta.of(persisted.snapshot()))));
                    wal.sync();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot record the founding membership of group " + groupId, e);
                }
            }
        } else {
            Snapshot meta = persisted.snapshot();
            // a crash may have left the file of a snapshot written but never named by the WAL
            snapshots.retainOnly(meta.index(), meta.term());
            byte[] data = snapshots.load(meta.index(), meta.term());
            persisted = new PersistentState(persisted.hardState(),
                    new Snapshot(meta.index(), meta.term(), meta.membership(), data), persisted.entries());
        }
        Snapshot snap = persisted.snapshot();
        if (snap.index() > 0 && stateMachine.appliedIndex() < snap.index()) {
            // the state machine lost applies the snapshot covers (its writes are not synced): reinstall
            stateMachine.install(snap);
        }
        persisted = committedThroughApplied(groupId, persisted, stateMachine.appliedIndex());
        var raft = new RaftNode(self, config, persisted, random.fork());
        Group g = new Group(groupId, raft, stateMachine, snapshots, snap.index(), snapshotEveryEntries);
        groups.put(groupId, g);
        published(g);
    }

    /**
     * {@code persisted} with its commit index raised to what the state machine applied. Only
     * committed entries are applied, but a hard state that only moves the commit index is not
     * synced ({@link #mustSync}), so the state machine's own writes may outlive it in a crash.
     * A core restarted below the state machine would learn the commit only from a leader, which
     * a group its peers have already dropped (a merged shard's source) never hears again, and
     * compacting at the state machine's applied index would then be beyond the core's. The
     * applied entries are in the local log: they were durable before they were applied.
     */
    private PersistentState committedThroughApplied(long groupId, PersistentState persisted, long applied) {
        HardState hs = persisted.hardState();
        long lastIndex = persisted.entries().isEmpty() ? persisted.snapshot().index()
                : persisted.entries().getLast().index();
        if (applied > lastIndex) {
            log.warn("state_machine_ahead_of_log node={} group={} applied={} log_last={}", self, groupId, applied,
                    lastIndex);
        }
        long committed = Math.min(applied, lastIndex);
        if (committed <= hs.commit()) {
            return persisted;
        }
        return new PersistentState(new HardState(hs.term(), hs.vote(), committed), persisted.snapshot(),
                persisted.entries());
    }

    /** A group added while running: its status is published and the next round visits it. */
    private void published(Group g) {
        if (running) {
            refreshStatus(List.of(g));
            touch(g);
        }
    }

    /**
     * Completes, with the cause, if the loop stopped on an error (a failed WAL write, a broken
     * invariant): the node then serves no group, and its process should end so it is restarted.
     */
    public CompletableFuture<Throwable> failed() {
        return failed;
    }

    public void start(PeerSender peerSender) {
        this.peers = peerSender;
        running = true;
        refreshStatus(List.copyOf(groups.values()));
        loop = Thread.ofPlatform().name("raft-loop-" + self).start(this::runLoop);
    }

    public NodeId self() {
        return self;
    }

    // ------------------------------------------------------------------ API for other threads

    /** A message from a peer; dropped (Raft retries) when the loop is overloaded. */
    public void deliver(long groupId, Envelope<RaftMessage> envelope) {
        submit(() -> {
            Group g = groups.get(groupId);
            if (g != null && !g.retiring) {
                g.raft.step(envelope);
                touch(g);
            }
        });
    }

    /** Proposes a command; completes with the state machine's result once applied here. */
    public CompletableFuture<Object> propose(long groupId, byte[] command) {
        var result = new CompletableFuture<Object>();
        if (!submit(() -> doPropose(groupId, command, result))) {
            result.completeExceptionally(new ProposalFailedException("node overloaded: proposal refused", true));
        }
        return result;
    }

    /** Proposes a membership change of {@code groupId}. */
    public CompletableFuture<Object> proposeMembership(long groupId, MembershipChange change) {
        var result = new CompletableFuture<Object>();
        if (!submit(() -> {
            Group g = groups.get(groupId);
            if (g == null) {
                result.completeExceptionally(new IllegalArgumentException("no group " + groupId + " on this node"));
                return;
            }
            ProposeResult pr = g.raft.proposeMembership(change);
            touch(g);
            register(g, pr, result);
        })) {
            result.completeExceptionally(new ProposalFailedException("node overloaded", true));
        }
        return result;
    }

    /**
     * A linearizable read barrier: completes with the read index once this node's state
     * machine has applied it, so a read served locally afterwards is linearizable.
     */
    public CompletableFuture<Long> readBarrier(long groupId) {
        var result = new CompletableFuture<Long>();
        long readId = nextReadId.getAndIncrement();
        if (!submit(() -> {
            Group g = groups.get(groupId);
            if (g == null) {
                result.completeExceptionally(new IllegalArgumentException("no group " + groupId + " on this node"));
                return;
            }
            ProposeResult pr = g.raft.requestRead(readId);
            touch(g);
            switch (pr) {
                // Forwarded: a follower asked its leader for the read index; the ReadState (or a
                // refusal) comes in a later Ready and the read is served here once applied
                case ProposeResult.Accepted a -> g.readWaiters.put(readId, result);
                case ProposeResult.Forwarded f -> g.readWaiters.put(readId, result);
                case ProposeResult.NotLeader nl -> result.completeExceptionally(new NotLeaderException(groupId,
                        nl.leaderHint()));
                case ProposeResult.Dropped d -> result.completeExceptionally(
                        new ProposalFailedException("read dropped: " + d.reason(), true));
            }
        })) {
            result.completeExceptionally(new ProposalFailedException("node overloaded: read refused", true));
        }
        return result;
    }

    /** Hands leadership of {@code groupId} to {@code target}. */
    public void transferLeadership(long groupId, NodeId target) {
        submit(() -> {
            Group g = groups.get(groupId);
            if (g != null) {
                g.raft.transferLeadership(target);
                touch(g);
            }
        });
    }

    /**
     * Starts an election of group {@code groupId} here now (PreVote first), as if its election
     * timeout had run out; nothing if the group is not hosted or already led from here. For the
     * replica meant to lead a new group: campaigning before the others' timers run out, it is
     * elected in one round, where N groups founded at once would otherwise all time out within
     * the same election timeout on every node and contest each other (bench/IDLE-GROUPS.md).
     */
    public void campaign(long groupId) {
        submit(() -> {
            Group g = groups.get(groupId);
            if (g != null && !g.retiring) {
                g.raft.campaign();
                touch(g);
            }
        });
    }

    /**
     * Runs {@code query} against group {@code groupId}'s core on the loop thread and completes
     * with its answer: for protocol state that {@link #status} does not publish. The query must
     * only read. Fails with ProposalFailedException when the node is stopping or overloaded.
     */
    public <T> CompletableFuture<T> query(long groupId, java.util.function.Function<RaftNode, T> query) {
        var result = new CompletableFuture<T>();
        if (!submit(() -> {
            Group g = groups.get(groupId);
            if (g == null) {
                result.completeExceptionally(new IllegalArgumentException("no group " + groupId + " on this node"));
            } else {
                result.complete(query.apply(g.raft));
            }
        })) {
            result.completeExceptionally(new ProposalFailedException("node overloaded: query refused", true));
        }
        return result;
    }

    /**
     * The last published status of each group, by group id: a live read-only view, updated by
     * every round that touched a group (each entry is consistent, the map as a whole need not be).
     */
    public Map<Long, LogStatus> status() {
        return statusReadOnly;
    }

    /** How many hosted groups were quiesced here at the last tick. */
    public int quiescedGroups() {
        return quiescedGroupCount;
    }

    public LogStatus status(long groupId) {
        return statusView.get(groupId);
    }

    public long fsyncCount() {
        return wal.fsyncCount();
    }

    /**
     * Stops the loop, then the snapshot thread: a snapshot being written is finished but not
     * recorded (the WAL never names it; its file is removed at the next start), one still queued
     * is dropped. Then fails what waits on each group and closes the state machines and the WAL.
     */
    @Override
    public void close() {
        running = false;
        if (loop != null) {
            try {
                loop.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        snapshotWriter.shutdown();
        try {
            if (!snapshotWriter.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("snapshot_writer_stuck node={} action=interrupting", self);
                snapshotWriter.shutdownNow();
            }
        } catch (InterruptedException e) {
            snapshotWriter.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (Group g : groups.values()) {
            failPending(g, new ProposalFailedException("node stopping", false));
            g.removalsWaiting.forEach(f -> f.completeExceptionally(
                    new ProposalFailedException("node stopping: group not removed", false)));
            g.stateMachine.close();
        }
        try {
            wal.close();
        } catch (IOException e) {
            log.warn("wal_close_failed node={} error={}", self, e.toString());
        }
    }

    private boolean submit(Runnable task) {
        if (!running || !tasks.offer(task)) {
            tasksRefused.increment();
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ the loop

    /**
     * Ticks every group that is not quiesced. A quiesced follower whose leader's node cannot be
     * reached is told so first (which wakes it): that is how an idle group notices its leader
     * died, since none of its replicas runs a timer.
     */
    private void tickAll() {
        var reachable = new java.util.HashMap<NodeId, Boolean>();
        int quiesced = 0;
        for (Group g : groups.values()) {
            if (g.raft.isQuiesced() && g.leader != null && !g.leader.equals(self)
                    && !reachable.computeIfAbsent(g.leader, peers::reachable)) {
                g.raft.reportUnreachable(g.leader);
                touch(g);
            } else if (g.raft.isQuiesced() && self.equals(g.leader)) {
                // a quiesced leader with a voter gone wakes, so that CheckQuorum can depose it
                // the membership published by the group's last round: no status built per tick
                for (NodeId voter : statusView.get(g.id).membership().voters()) {
                    if (!voter.equals(self) && !reachable.computeIfAbsent(voter, peers::reachable)) {
                        g.raft.reportUnreachable(voter);
                        touch(g);
                        break;
                    }
                }
            }
            if (g.raft.isQuiesced()) {
                quiesced++;
                continue;
            }
            g.raft.tick();
            touch(g);
            // a forwarded proposal whose request or outcome was lost is answered by its caller's
            // timeout; forget it here so the map stays bounded
            g.forwardedWaiters.values().removeIf(CompletableFuture::isDone);
        }
        quiescedGroupCount = quiesced;
    }

    /** The next round visits {@code g}. */
    private void touch(Group g) {
        if (!g.touched) {
            g.touched = true;
            touched.add(g);
        }
    }

    /**
     * The loop: waits for tasks until the next tick is due, delivers the ticks due by the clock,
     * then runs the tasks and a round. Ticks are counted here from {@link System#nanoTime}, on the
     * thread that serves reads, before the tasks that arrived meanwhile run: a read confirmed by
     * a leader lease ({@code ReadMode.LEASE}) is judged by a clock no older than the read's
     * arrival, even right after the process was paused (a GC pause, SIGSTOP) or the loop held up
     * by a slow fsync. A separate ticker thread queueing ticks could not promise that: after a
     * pause, a read queued before its catch-up ticks would be judged by the clock of before the
     * pause, and served from a lease that had run out meanwhile.
     */
    private void runLoop() {
        var batch = new ArrayList<Runnable>(options.tasksPerRoundMax());
        long tickNanos = TimeUnit.MILLISECONDS.toNanos(options.tickMillis());
        long nextTick = System.nanoTime() + tickNanos;
        while (running) {
            try {
                long waitNanos = nextTick - System.nanoTime();
                Runnable first = waitNanos > 0 ? tasks.poll(waitNanos, TimeUnit.NANOSECONDS) : tasks.poll();
                if (first != null) {
                    batch.add(first);
                    tasks.drainTo(batch, options.tasksPerRoundMax() - 1);
                }
                long now = System.nanoTime();
                if (now - nextTick >= 0) {
                    long due = ticksDue(now, nextTick, tickNanos);
                    // behind (a pause): the missed ticks are still delivered, so timeouts and
                    // leases measure the real elapsed time, up to a bound past every timeout
                    for (long i = Math.min(due, TICKS_CAUGHT_UP_MAX); i > 0; i--) {
                        tickAll();
                    }
                    nextTick += due * tickNanos;
                }
                for (Runnable task : batch) {
                    task.run();
                }
                batch.clear();
                round();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException e) {
                // a failed fsync leaves the log's durable state unknown: stop rather than ack
                log.error("wal_write_failed node={} error={} action=stopping", self, e.toString());
                running = false;
                failed.complete(e);
                return;
            } catch (RuntimeException | Error e) {
                // a broken invariant: what the loop holds can no longer be trusted, so it stops
                // (fail-stop) and says so, rather than leave a node whose groups silently stall
                log.error("raft_loop_failed node={} error={} action=stopping", self, e.toString(), e);
                running = false;
                failed.complete(e);
                return;
            }
        }
    }

    /**
     * How many ticks are due at {@code now} when the next was due at {@code nextTick} (not after
     * {@code now}): the one due and every whole tick period since.
     */
    static long ticksDue(long now, long nextTick, long tickNanos) {
        return (now - nextTick) / tickNanos + 1;
    }

    /**
     * One round over the touched groups: their Readies, one WAL write and fsync, one network
     * flush, then apply. A group with work left afterwards stays touched for the next round.
     */
    private void round() throws IOException {
        List<Group> visiting = touched;
        touched = new ArrayList<>();
        // a group may have been removed since it was touched
        visiting.removeIf(g -> {
            g.touched = false;
            return groups.get(g.id) != g;
        });
        var readies = new ArrayList<Ready<RaftMessage>>();
        var ready = new ArrayList<Group>();
        var writes = new ArrayList<GroupWrite>();
        int entryCount = 0;
        boolean sentEarly = false;
        boolean mustSync = false;
        for (Group g : visiting) {
            if (!g.raft.hasReady()) {
                continue;
            }
            Ready<RaftMessage> r = g.raft.ready();
            readies.add(r);
            ready.add(g);
            // Raft thesis §10.2.1: a leader's appends leave before its own fsync, so followers
            // write in parallel with it (the core counts the leader only once durable)
            for (Envelope<RaftMessage> m : r.messagesBeforePersist()) {
                send(g, m);
                sentEarly = true;
            }
            if (r.snapshot() != null) {
                g.snapshots.save(r.snapshot()); // data durable before the WAL names it
            }
            if (r.snapshot() != null) {
                // a snapshot from the leader replaces the whole log (the core re-sends what it keeps)
                writes.add(GroupWrite.ofInstalledSnapshot(g.id, SnapshotMeta.of(r.snapshot()), r.entries(),
                        r.hardState()));
                entryCount += r.entries().size();
            } else if (r.mustPersist()) {
                writes.add(new GroupWrite(g.id, null, r.entries(), r.hardState()));
                entryCount += r.entries().size();
            }
            mustSync |= mustSync(g, r);
        }
        if (sentEarly) {
            peers.flush();
        }
        if (!writes.isEmpty()) {
            wal.append(writes);
        }
        if (mustSync) {
            long started = System.nanoTime();
            wal.sync();
            for (int i = 0; i < ready.size(); i++) {
                HardState hs = readies.get(i).hardState();
                if (hs != null) {
                    ready.get(i).syncedTerm = hs.term();
                    ready.get(i).syncedVote = hs.vote();
                }
            }
            fsyncLatency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            appendBatchEntries.record(entryCount);
            for (int i = 0; i < ready.size(); i++) {
                Snapshot installed = readies.get(i).snapshot();
                if (installed != null) {
                    removeSnapshotsBefore(ready.get(i), installed.index()); // the WAL names the new one
                }
            }
        }
        for (int i = 0; i < ready.size(); i++) {
            Group g = ready.get(i);
            for (Envelope<RaftMessage> m : readies.get(i).messagesAfterPersist()) {
                send(g, m);
            }
        }
        peers.flush();
        for (int i = 0; i < ready.size(); i++) {
            apply(ready.get(i), readies.get(i));
        }
        for (Group g : visiting) {
            serveReads(g);
            maybeCompact(g);
        }
        refreshStatus(visiting);
        for (Group g : visiting) {
            if (g.raft.hasReady()) {
                touch(g);
            }
        }
    }

    /**
     * Whether {@code r} needs an fsync before its messages go and its entries apply: new entries,
     * a snapshot, or a new term or vote do (etcd's MustSync). A hard state that only moves the
     * commit index is written but not synced: the commit index may be lost in a crash, and the
     * core recovers it from the leader (it restarts from max(persisted commit, snapshot)).
     */
    private static boolean mustSync(Group g, Ready<RaftMessage> r) {
        HardState hs = r.hardState();
        return r.snapshot() != null || !r.entries().isEmpty()
                || hs != null && (hs.term() != g.syncedTerm || !java.util.Objects.equals(hs.vote(), g.syncedVote));
    }

    private void send(Group g, Envelope<RaftMessage> m) {
        switch (m.message()) {
            case RaftMessage.AppendEntries a -> appendsSent.increment();
            case RaftMessage.InstallSnapshot s -> snapshotChunksSent.increment();
            default -> { }
        }
        peers.send(g.id, m);
    }

    /** Places forwarded proposals where their leader appended them, before this Ready's applies. */
    private void placeForwarded(Group g, Ready<RaftMessage> r) {
        for (ProposalOutcome o : r.proposalOutcomes()) {
            CompletableFuture<Object> result = g.forwardedWaiters.remove(o.proposalId());
            if (result == null || result.isDone()) {
                continue; // answered already (timed out), or a duplicated outcome
            }
            if (o.result() instanceof ProposeResult.Accepted a && a.index() <= g.stateMachine.appliedIndex()) {
                // the entry overtook its outcome: whether the applied entry was this command is unknown
                result.completeExceptionally(new ProposalFailedException(
                        "outcome unknown: index " + a.index() + " applied before the leader's answer", false));
                continue;
            }
            register(g, o.result(), result);
        }
        for (ReadRefusal refusal : r.readsRefused()) {
            CompletableFuture<Long> f = g.readWaiters.remove(refusal.readId());
            if (f != null) {
                f.completeExceptionally(switch (refusal.refusal()) {
                    case ProposeResult.NotLeader nl -> new NotLeaderException(g.id, nl.leaderHint());
                    case ProposeResult.Dropped d -> new ProposalFailedException("read dropped: " + d.reason(), true);
                    default -> throw new IllegalStateException("a read refusal is NotLeader or Dropped: " + refusal);
                });
            }
        }
    }

    private void apply(Group g, Ready<RaftMessage> r) {
        placeForwarded(g, r);
        if (r.snapshot() != null) {
            g.stateMachine.install(r.snapshot());
            g.snapshotIndex = r.snapshot().index();
            g.writeWaiters.headMap(r.snapshot().index(), true).values().forEach(w -> w.result()
                    .completeExceptionally(new ProposalFailedException("outcome unknown: replaced by a snapshot", false)));
            g.writeWaiters.headMap(r.snapshot().index(), true).clear();
            snapshotsInstalled.increment();
            log.info("snapshot_installed node={} group={} index={} term={}", self, g.id, r.snapshot().index(),
                    r.snapshot().term());
        }
        // the whole round in one call: the state machine may write it as one batch
        List<Entry> committed = r.committed();
        List<Object> results = g.stateMachine.applyAll(committed);
        dev.atoll.core.Check.check(results.size() == committed.size(),
                "a state machine answers every committed entry: %d results for %d entries", results.size(),
                committed.size());
        for (int i = 0; i < committed.size(); i++) {
            Entry e = committed.get(i);
            Object result = results.get(i);
            applies.increment();
            Waiter w = g.writeWaiters.remove(e.index());
            if (w != null) {
                if (w.term() == e.term()) {
                    w.result().complete(result);
                } else {
                    w.result().completeExceptionally(new ProposalFailedException(
                            "proposal lost to a leader change", true));
                }
            }
        }
        commits.increment(r.committed().size());
        g.readsReady.addAll(r.reads());
        g.raft.advance(r);
    }

    private void serveReads(Group g) {
        for (Iterator<ReadState> it = g.readsReady.iterator(); it.hasNext(); ) {
            ReadState rs = it.next();
            if (g.stateMachine.appliedIndex() >= rs.index()) {
                it.remove();
                CompletableFuture<Long> f = g.readWaiters.remove(rs.readId());
                if (f != null) {
                    f.complete(rs.index());
                }
            }
        }
    }

    /**
     * Every {@code snapshotEveryEntries} applied entries, snapshots the group without holding the
     * loop thread for the expensive parts, in four steps, one at a time per group:
     * <ol>
     *   <li>on the snapshot thread, the state machine prepares ({@link StateMachine#prepareSnapshot}:
     *       the etcd store flushes its memtables) while entries go on applying;</li>
     *   <li>on the loop thread, {@link #captureSnapshot} takes the state machine's capture, cheap and
     *       consistent with the applied index since apply runs on this thread too;</li>
     *   <li>on the snapshot thread, {@link #writeSnapshot} materializes its bytes and writes the
     *       snapshot file;</li>
     *   <li>on the loop thread, {@link #recordSnapshot} compacts the core and names the snapshot in
     *       the WAL, unless it became obsolete meanwhile.</li>
     * </ol>
     * Until the last step the WAL keeps every entry, so a crash at any point recovers from the
     * previous snapshot.
     */
    private void maybeCompact(Group g) {
        if (g.snapshotInFlight() || g.raft.hasReady() || !snapshotDue(g)
                || snapshotsInFlight >= options.snapshotsInFlightMax()) {
            return;
        }
        if (g.snapshotNotBeforeNanos != 0 && System.nanoTime() - g.snapshotNotBeforeNanos < 0) {
            return; // the last attempt failed: not again before its retry time
        }
        g.snapshotPreparing = true;
        snapshotsInFlight++;
        try {
            snapshotWriter.execute(() -> prepareSnapshot(g));
        } catch (RejectedExecutionException stopping) {
            // the runtime is closing (the queue cannot be full: snapshotsInFlight bounds it)
            g.snapshotPreparing = false;
            snapshotsInFlight--;
        }
    }

    /** Whether the group has applied snapshotEveryEntries entries past its snapshot, and stays. */
    private static boolean snapshotDue(Group g) {
        long applied = g.stateMachine.appliedIndex();
        return applied - g.snapshotIndex >= g.snapshotEveryEntries && !g.retiring && g.raft.log().term(applied) > 0;
    }

    /** On the snapshot thread: the state machine's preparation, then back to the loop to capture. */
    private void prepareSnapshot(Group g) {
        if (!running) {
            return; // queued when the runtime stopped
        }
        long started = System.nanoTime();
        Exception failure = null;
        try {
            g.stateMachine.prepareSnapshot();
        } catch (Exception e) {
            failure = e;
        }
        long prepareNanos = System.nanoTime() - started;
        Exception failed = failure;
        toLoop(() -> captureSnapshot(g, failed, prepareNanos));
    }

    /**
     * On the loop thread: takes the state machine's capture at the applied index, unless the
     * snapshot is no longer due (the group is being removed, or installed a snapshot meanwhile),
     * and hands it to the snapshot thread.
     */
    private void captureSnapshot(Group g, Exception prepareFailure, long prepareNanos) {
        dev.atoll.core.Check.check(g.snapshotPreparing, "group %d captures the snapshot it prepared", g.id);
        g.snapshotPreparing = false;
        snapshotsInFlight--;
        snapshotPrepareLatency.record(prepareNanos, TimeUnit.NANOSECONDS);
        if (prepareFailure != null) {
            snapshotFailed(g, g.stateMachine.appliedIndex(), "prepare", prepareFailure);
            afterSnapshot(g);
            return;
        }
        if (groups.get(g.id) != g || !snapshotDue(g)) {
            afterSnapshot(g);
            return;
        }
        long applied = g.stateMachine.appliedIndex();
        long term = g.raft.log().term(applied);
        long started = System.nanoTime();
        SnapshotCapture capture;
        try {
            capture = g.stateMachine.captureSnapshot();
        } catch (RuntimeException e) {
            // an I/O error of the state machine's (a checkpoint that could not be written): the
            // group goes on from its current snapshot and tries again later
            snapshotFailed(g, applied, "capture", e);
            afterSnapshot(g);
            return;
        }
        long captureNanos = System.nanoTime() - started;
        snapshotCaptureLatency.record(captureNanos, TimeUnit.NANOSECONDS);
        dev.atoll.core.Check.check(capture.index() == applied,
                "a snapshot capture holds the applied index: %d != %d", capture.index(), applied);
        var pending = new PendingSnapshot(applied, term, prepareNanos, captureNanos);
        g.snapshotPending = pending;
        snapshotsInFlight++;
        try {
            snapshotWriter.execute(() -> writeSnapshot(g, pending, capture));
        } catch (RejectedExecutionException stopping) {
            capture.close();
            g.snapshotPending = null;
            snapshotsInFlight--;
            afterSnapshot(g);
        }
    }

    /**
     * On the snapshot thread: materializes the capture, writes the snapshot file (durable before
     * the WAL names it) and hands the outcome back to the loop thread. Never throws: a failure is
     * an outcome too, so the group's pending snapshot is always cleared.
     */
    private void writeSnapshot(Group g, PendingSnapshot pending, SnapshotCapture capture) {
        if (!running) {
            capture.close(); // queued when the runtime stopped: nobody will record it
            return;
        }
        long started = System.nanoTime();
        byte[] data = null;
        Exception failure = null;
        try (capture) {
            data = capture.materialize();
            if (!running) {
                return; // stopped meanwhile: nobody will record it
            }
            g.snapshots.save(pending.index(), pending.term(), data);
        } catch (Exception e) {
            failure = e;
        }
        long materializeNanos = System.nanoTime() - started;
        byte[] written = data;
        Exception failed = failure;
        toLoop(() -> recordSnapshot(g, pending, written, failed, materializeNanos));
    }

    /**
     * From the snapshot thread: hands {@code task} to the loop thread, waiting while its queue is
     * full rather than dropping it (a group whose snapshot never came back would never take
     * another); gives up once the runtime stops.
     */
    private void toLoop(Runnable task) {
        try {
            while (running && !tasks.offer(task, options.tickMillis(), TimeUnit.MILLISECONDS)) {
                // the loop is overloaded: wait for room
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void snapshotFailed(Group g, long index, String step, Exception failure) {
        snapshotsFailed.increment();
        g.snapshotNotBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.snapshotRetryMillis());
        log.warn("snapshot_failed node={} group={} index={} step={} retry_ms={} error={}", self, g.id, index, step,
                options.snapshotRetryMillis(), failure.toString());
    }

    /** Runs what waited for the group's snapshot to be over (a removal). */
    private static void afterSnapshot(Group g) {
        Runnable after = g.afterSnapshot;
        g.afterSnapshot = null;
        if (after != null) {
            after.run();
        }
    }

    /**
     * Back on the loop thread: records a written snapshot unless it became obsolete meanwhile (a
     * snapshot from the leader was installed past it, or the group is gone), in which case its
     * file is deleted. A failed one is logged and retried after {@code snapshotRetryMillis}.
     */
    private void recordSnapshot(Group g, PendingSnapshot pending, byte[] data, Exception failure,
                                long materializeNanos) {
        dev.atoll.core.Check.check(g.snapshotPending == pending, "group %d records the snapshot it has pending", g.id);
        g.snapshotPending = null;
        snapshotsInFlight--;
        boolean hosted = groups.get(g.id) == g;
        try {
            if (failure != null) {
                snapshotFailed(g, pending.index(), "materialize", failure);
                return;
            }
            snapshotMaterializeLatency.record(materializeNanos, TimeUnit.NANOSECONDS);
            // obsolete: an installed snapshot moved past it (the core installs only past its
            // commit index, which this index does not exceed), or the log no longer holds the
            // entry it was taken at; RaftNode.compact takes only (snapshotIndex, stable index]
            String obsolete = !hosted ? "group_removed"
                    : pending.index() <= g.snapshotIndex ? "snapshot_installed"
                    : g.raft.log().term(pending.index()) != pending.term() ? "entry_replaced" : null;
            if (obsolete != null) {
                snapshotsDiscarded.increment();
                Snapshot current = g.raft.snapshot();
                if (current.index() != pending.index() || current.term() != pending.term()) {
                    try {
                        g.snapshots.delete(pending.index(), pending.term()); // never named by the WAL
                    } catch (UncheckedIOException e) {
                        // garbage only: removed with the next snapshot or at the next start
                        log.warn("snapshot_cleanup_failed node={} group={} index={} error={}", self, g.id,
                                pending.index(), e.toString());
                    }
                }
                log.info("snapshot_discarded node={} group={} index={} reason={}", self, g.id, pending.index(),
                        obsolete);
                return;
            }
            g.raft.compact(pending.index(), data);
            recordCompaction(g, pending.prepareNanos(), pending.captureNanos(), materializeNanos);
            g.snapshotNotBeforeNanos = 0;
            touch(g); // its status moves with the snapshot
        } finally {
            afterSnapshot(g);
        }
    }

    /**
     * Compacts the group at {@code applied} on the loop thread, capture, materialize and write
     * included: for a group being removed (see {@link #retire}).
     */
    private void compactNow(Group g, long applied) {
        long started = System.nanoTime();
        g.raft.compact(applied, g.stateMachine.snapshotData());
        g.snapshots.save(g.raft.snapshot());
        // all of it held the loop thread: logged as capture time
        recordCompaction(g, 0, System.nanoTime() - started, 0);
    }

    /**
     * Names the core's new snapshot, whose file is durable, in the WAL; syncs, lets the WAL drop
     * the entries it covers and removes the older snapshot files.
     */
    private void recordCompaction(Group g, long prepareNanos, long captureNanos, long materializeNanos) {
        Snapshot snap = g.raft.snapshot();
        try {
            wal.append(List.of(GroupWrite.ofSnapshot(g.id, SnapshotMeta.of(snap))));
            wal.sync();
            wal.release(g.id, snap.index());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record snapshot " + snap.index() + " of group " + g.id, e);
        }
        g.snapshotIndex = snap.index();
        removeSnapshotsBefore(g, snap.index());
        snapshotsTaken.increment();
        // capture_ms is the time the loop thread was held; prepare and materialize ran beside it
        log.info("snapshot_taken node={} group={} index={} bytes={} prepare_ms={} capture_ms={} materialize_ms={}",
                self, g.id, snap.index(), snap.data().length, TimeUnit.NANOSECONDS.toMillis(prepareNanos),
                TimeUnit.NANOSECONDS.toMillis(captureNanos), TimeUnit.NANOSECONDS.toMillis(materializeNanos));
    }

    /** Removes snapshot files older than the one the WAL now names; a failure only leaves garbage. */
    private void removeSnapshotsBefore(Group g, long index) {
        try {
            g.snapshots.removeOlderThan(index);
        } catch (UncheckedIOException e) {
            log.warn("snapshot_cleanup_failed node={} group={} before={} error={}", self, g.id, index, e.toString());
        }
    }

    private void doPropose(long groupId, byte[] command, CompletableFuture<Object> result) {
        Group g = groups.get(groupId);
        if (g == null) {
            result.completeExceptionally(new IllegalArgumentException("no group " + groupId + " on this node"));
            return;
        }
        proposals.increment();
        ProposeResult pr = g.raft.propose(command);
        touch(g); // the next round takes its Ready now, not at the next tick
        register(g, pr, result);
    }

    private void register(Group g, ProposeResult pr, CompletableFuture<Object> result) {
        switch (pr) {
            case ProposeResult.Accepted a -> {
                Waiter before = g.writeWaiters.put(a.index(), new Waiter(a.term(), result));
                if (before != null) {
                    // the earlier proposal at this index was truncated from our log: its fate is
                    // unknown (a later leader may still commit it)
                    before.result().completeExceptionally(new ProposalFailedException(
                            "outcome unknown: proposal truncated by a leader change", false));
                }
            }
            case ProposeResult.NotLeader nl -> result.completeExceptionally(new NotLeaderException(g.id,
                    nl.leaderHint()));
            case ProposeResult.Dropped d -> result.completeExceptionally(
                    new ProposalFailedException("proposal dropped: " + d.reason(), true));
            // relayed to the leader: a later Ready's outcome places it at an index (placeForwarded)
            case ProposeResult.Forwarded f -> g.forwardedWaiters.put(f.proposalId(), result);
        }
    }

    private void refreshStatus(List<Group> changed) {
        for (Group g : changed) {
            LogStatus s = g.raft.status();
            statusView.put(g.id, s);
            if (s.role() != g.role || s.term() != g.term || !java.util.Objects.equals(s.leader(), g.leader)) {
                if (g.role == Role.LEADER && s.role() != Role.LEADER) {
                    // reads the old leadership promised can no longer be confirmed
                    failReads(g, new NotLeaderException(g.id, s.leader()));
                } else if (g.role != Role.LEADER && !java.util.Objects.equals(s.leader(), g.leader)) {
                    // requests relayed to the previous leader may never be answered: fail them now
                    // rather than at their timeout (a relayed write's fate is unknown; a read had no effect)
                    failReads(g, new NotLeaderException(g.id, s.leader()));
                    failForwarded(g, new ProposalFailedException("outcome unknown: the leader changed", false));
                }
                if (!java.util.Objects.equals(s.leader(), g.leader)) {
                    leaderChanges.increment();
                    log.info("leader_changed node={} group={} term={} leader={} role={}", self, g.id, s.term(),
                            s.leader(), s.role());
                }
                g.role = s.role();
                g.term = s.term();
                g.leader = s.leader();
            }
        }
    }

    private void failReads(Group g, RuntimeException cause) {
        g.readWaiters.values().forEach(f -> f.completeExceptionally(cause));
        g.readWaiters.clear();
        g.readsReady.clear();
    }

    private void failForwarded(Group g, RuntimeException cause) {
        g.forwardedWaiters.values().forEach(f -> f.completeExceptionally(cause));
        g.forwardedWaiters.clear();
    }

    private void failPending(Group g, RuntimeException cause) {
        failReads(g, cause);
        failForwarded(g, cause);
        g.writeWaiters.values().forEach(w -> w.result().completeExceptionally(cause));
        g.writeWaiters.clear();
    }
}
