package dev.atoll.consensus.raft;

import dev.atoll.consensus.raft.RaftMessage.AppendEntries;
import dev.atoll.consensus.raft.RaftMessage.AppendResponse;
import dev.atoll.consensus.raft.RaftMessage.Heartbeat;
import dev.atoll.consensus.raft.RaftMessage.HeartbeatResponse;
import dev.atoll.consensus.raft.RaftMessage.InstallSnapshot;
import dev.atoll.consensus.raft.RaftMessage.Propose;
import dev.atoll.consensus.raft.RaftMessage.ProposeOutcome;
import dev.atoll.consensus.raft.RaftMessage.Quiesce;
import dev.atoll.consensus.raft.RaftMessage.ReadIndexRequest;
import dev.atoll.consensus.raft.RaftMessage.ReadIndexResponse;
import dev.atoll.consensus.raft.RaftMessage.RequestVote;
import dev.atoll.consensus.raft.RaftMessage.SnapshotResponse;
import dev.atoll.consensus.raft.RaftMessage.TimeoutNow;
import dev.atoll.consensus.raft.RaftMessage.VoteResponse;
import dev.atoll.consensus.raft.RaftRole.Candidate;
import dev.atoll.consensus.raft.RaftRole.Follower;
import dev.atoll.consensus.raft.RaftRole.Leader;
import dev.atoll.consensus.raft.RaftRole.PreCandidate;
import dev.atoll.consensus.raft.RaftRole.SnapshotReceiver;
import dev.atoll.consensus.raft.RaftRole.VoteTally;
import dev.atoll.consensus.raft.ReadOnly.ConfirmedRead;
import dev.atoll.consensus.raft.ReadOnly.ReadRequest;
import dev.atoll.core.NodeId;
import dev.atoll.core.RandomSource;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Envelope;
import dev.atoll.core.protocol.HardState;
import dev.atoll.core.protocol.LogStatus;
import dev.atoll.core.protocol.LogView;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.MembershipChange;
import dev.atoll.core.protocol.PersistentState;
import dev.atoll.core.protocol.ProposalOutcome;
import dev.atoll.core.protocol.ProposeResult;
import dev.atoll.core.protocol.ReadRefusal;
import dev.atoll.core.protocol.ReadState;
import dev.atoll.core.protocol.Ready;
import dev.atoll.core.protocol.ReplicatedLog;
import dev.atoll.core.protocol.Role;
import dev.atoll.core.protocol.Snapshot;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

/**
 * One Raft replica as a pure state machine (Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm", and Ongaro's thesis "Consensus: Bridging Theory and
 * Practice"): leader election with PreVote and CheckQuorum, log replication with per-follower
 * flow control, chunked snapshots, one-server-at-a-time membership changes, leadership
 * transfer and ReadIndex / lease reads; followers forward proposals and read-index requests to
 * their leader (as etcd-io/raft's MsgProp and MsgReadIndex), and a leader's appends may go out
 * before its own fsync (thesis §10.2.1). With {@link RaftConfig#quiesceIdleTicks()} an idle
 * group quiesces (CockroachDB's quiescence): its leader stops heartbeating and no replica runs a
 * timer until an input wakes it. Driven in the Ready/advance style of
 * {@link dev.atoll.core.protocol.Protocol}.
 *
 * <p>Driver contract beyond the SPI:
 * <ul>
 *   <li>A Ready with a {@code snapshot} resets the persisted log: afterwards the disk holds that
 *       snapshot followed by exactly the Ready's {@code entries} (and later ones).</li>
 *   <li>After {@link #compact}, the driver persists {@link #snapshot()} (its own data, with the
 *       index, term and membership the core fills in) and may drop persisted entries up to it.</li>
 *   <li>On restart the driver restores its state machine from the persisted snapshot; the first
 *       Ready re-emits the committed entries after it.</li>
 * </ul>
 * Not thread-safe: one driver thread.
 */
public final class RaftNode implements ReplicatedLog<RaftMessage> {
    /** Largest snapshot a follower will assemble in memory. */
    static final long SNAPSHOT_BYTES_MAX = 1L << 30;

    private final NodeId id;
    private final RaftConfig config;
    private final RandomSource random;
    private final RaftLog log;

    private long term;
    private NodeId vote;
    private long commitIndex;
    /** Applied by the driver: the last committed entry of an advanced Ready (or the snapshot). */
    private long appliedIndex;
    /** Last committed entry handed out in a Ready, applied or not. */
    private long applyingIndex;
    private NodeId leader;
    private RaftRole role;

    private long nowTicks;
    private int electionElapsedTicks;
    private int randomizedElectionTimeoutTicks;
    /** Ticks since this node last heard from a live leader of its term (leader stickiness). */
    private long ticksSinceLeaderContact;
    /**
     * The group is idle and this replica runs no timer: a leader that quiesced it, or a follower
     * its leader told so. Any input but a tick wakes it (see {@link #wake}).
     */
    private boolean quiesced;

    private HardState offeredHardState;
    private Snapshot snapshotToInstall;
    private List<Envelope<RaftMessage>> outbox = new ArrayList<>();
    private List<ReadState> readStates = new ArrayList<>();
    private List<ReadRefusal> readsRefused = new ArrayList<>();
    private List<ProposalOutcome> proposalOutcomes = new ArrayList<>();
    private Ready<RaftMessage> outstanding;
    /** A follower's reads for its leader to confirm, sent in batches; empty in any other role. */
    private final ForwardedReads forwardedReads = new ForwardedReads();

    /**
     * A random stamp of this replica object, carried by the proposals and reads it forwards and
     * echoed in the answers: a restarted replica counts proposal ids (and its driver read ids)
     * from the start again, and must not take an answer meant for its previous life.
     */
    private final long incarnation;
    /** Proposal ids handed out by {@link #propose} for forwarded commands: 1, 2, 3, ... */
    private long lastProposalId;
    /**
     * The forwarded proposals this replica object took in each term it led (the latest
     * {@link #LED_TERMS_MAX}): after stepping down it can still tell a proposal it never
     * appended (refused with a hint) from a duplicate of one it did (not answered again).
     */
    private final TreeMap<Long, ForwardedProposals> forwardedByLedTerm = new TreeMap<>();
    static final int LED_TERMS_MAX = 4;

    /**
     * A replica restarting from what it persisted ({@code PersistentState.bootstrap(m)} for a new
     * one; a node to be added later starts from an empty membership and waits to be told).
     */
    public RaftNode(NodeId id, RaftConfig config, PersistentState persisted, RandomSource random) {
        this.id = Objects.requireNonNull(id, "id");
        this.config = Objects.requireNonNull(config, "config");
        this.random = Objects.requireNonNull(random, "random");
        this.log = new RaftLog(persisted.snapshot(), persisted.entries());
        HardState hs = persisted.hardState();
        check(hs.commit() <= log.lastIndex(), "persisted commit %d is within the persisted log (last %d)",
                hs.commit(), log.lastIndex());
        if (hs.term() >= log.lastTerm()) {
            this.term = hs.term();
            this.vote = hs.vote();
        } else {
            // A crash tore the Ready that carried both: its entries reached the disk, its hard
            // state (the new term) did not. Nothing that Ready sent went out (messages wait for
            // the fsync), so no vote was ever cast in that term: adopt it with no vote.
            this.term = log.lastTerm();
            this.vote = null;
        }
        this.commitIndex = Math.max(hs.commit(), log.snapshotIndex());
        this.offeredHardState = hs;
        // The driver restored its state machine from the snapshot; entries after it are re-applied.
        this.appliedIndex = log.snapshotIndex();
        this.applyingIndex = log.snapshotIndex();
        this.role = new Follower();
        // A restarted node cannot know whether it promised a leader, within the last election
        // timeout, not to elect anyone else; under leases it keeps that promise conservatively.
        this.ticksSinceLeaderContact = config.readMode() == ReadMode.LEASE ? 0 : config.electionTimeoutTicks();
        resetElectionTimer();
        this.incarnation = random.nextLong();
        checkInvariants();
    }

    // =====================================================================================
    // Inputs
    // =====================================================================================

    @Override
    public NodeId id() {
        return id;
    }

    @Override
    public void tick() {
        if (quiesced) {
            // No timer runs in a quiesced group, so a driver may skip its ticks altogether; the
            // clock stops with them (a quiescing leader forfeits its lease for that reason).
            return;
        }
        nowTicks++;
        if (role instanceof Leader l) {
            tickLeader(l);
        } else {
            tickElection();
        }
        checkInvariants();
    }

    @Override
    public void step(Envelope<RaftMessage> envelope) {
        if (envelope == null || envelope.message() == null || envelope.from() == null
                || !id.equals(envelope.to()) || id.equals(envelope.from())) {
            return;
        }
        if (!isIgnoredVoteFromOutsider(envelope.from(), envelope.message())) {
            wake();
        }
        stepMessage(envelope.from(), envelope.message());
        checkInvariants();
    }

    /**
     * A vote request from outside the membership, which a sticky replica ignores (thesis §4.2.3):
     * it need not wake a quiesced group. A removed server that never learnt of its removal keeps
     * campaigning, and would otherwise keep the group from ever staying quiesced.
     */
    private boolean isIgnoredVoteFromOutsider(NodeId from, RaftMessage m) {
        return m instanceof RequestVote && !log.membership().isMember(from) && isSticky();
    }

    /**
     * The driver's failure detector says {@code peer} cannot be reached (its link is down, or its
     * node stopped answering: node liveness). A quiesced follower whose leader that is wakes, so
     * that its election timer runs again and a group whose leader died while idle elects another
     * by a normal election (PreVote first). A quiesced leader one of whose voters that is wakes
     * too, so that CheckQuorum runs again: a leader that lost its quorum while idle steps down
     * instead of taking writes it can never commit. Nothing else changes (an active group's own
     * timers cover a lost peer).
     *
     * <p>The woken follower also stops being sticky (thesis §4.2.3): its count of ticks since it
     * heard from the leader stood still while quiesced, so it says nothing about the time that
     * passed, which the driver's detector says is long; and the promise stickiness keeps backs no
     * lease, since a leader voids its lease when it quiesces and any message of a woken leader
     * would have woken this follower. Its peers, told the same, then grant the first of them to
     * campaign at once, instead of refusing it for an election timeout. A follower told wrongly
     * (the leader is alive) costs one PreVote round: the leader, and any follower not told,
     * refuse it, the request wakes the leader, and its heartbeat brings the follower back
     * without a new term.
     */
    @Override
    public void reportUnreachable(NodeId peer) {
        if (quiesced && !(role instanceof Leader) && Objects.equals(peer, leader)
                && !config.has(RaftMutation.QUIESCED_FOLLOWER_IGNORES_UNREACHABLE)) { // MUTATION branch
            wake();
            ticksSinceLeaderContact = Math.max(ticksSinceLeaderContact, config.electionTimeoutTicks());
        } else if (role instanceof Leader l && l.progress.get(peer) instanceof Progress pr && !peer.equals(id)
                && log.membership().isVoter(peer)) {
            // counted inactive and keeping the group awake until it answers again, so that a
            // leader that lost its quorum while idle is deposed by CheckQuorum, not re-quiesced
            pr.recentActive = false;
            pr.reportedUnreachable = true;
            wake();
        }
        checkInvariants();
    }

    /** Whether the group is quiesced here: this replica runs no timer, so its driver may skip its ticks. */
    @Override
    public boolean isQuiesced() {
        return quiesced;
    }

    @Override
    public ProposeResult propose(byte[] command) {
        wake();
        byte[] data = command == null ? new byte[0] : command;
        if (!(role instanceof Leader l)) {
            return forwardProposal(data);
        }
        ProposeResult refused = refuseProposal(l, data.length);
        if (refused != null) {
            return refused;
        }
        Entry e = appendAsLeader(l, Entry.Kind.COMMAND, data);
        checkInvariants();
        return new ProposeResult.Accepted(e.index(), e.term());
    }

    /**
     * A follower that knows its leader relays the command (etcd-io/raft's MsgProp) rather than
     * sending the client elsewhere; the leader answers with a {@link ProposeOutcome}.
     */
    private ProposeResult forwardProposal(byte[] data) {
        if (!config.proposalForwarding() || leader == null) {
            return new ProposeResult.NotLeader(leader);
        }
        if (data.length + 24 > config.appendBytesMax()) {
            // The leader would refuse it too; save the hop.
            return new ProposeResult.Dropped("proposal of " + data.length + " bytes exceeds appendBytesMax");
        }
        long proposalId = ++lastProposalId;
        send(leader, new Propose(term, incarnation, proposalId, data));
        checkInvariants();
        return new ProposeResult.Forwarded(proposalId, leader);
    }

    @Override
    public ProposeResult proposeMembership(MembershipChange change) {
        wake();
        if (!(role instanceof Leader l)) {
            return new ProposeResult.NotLeader(leader);
        }
        byte[] data = change.encode();
        ProposeResult refused = refuseProposal(l, data.length);
        if (refused != null) {
            return refused;
        }
        // Thesis §4.1: one change at a time, so any two successive memberships share a majority.
        if (log.lastMembershipIndex() > commitIndex) {
            return new ProposeResult.Dropped("a membership change is still uncommitted");
        }
        // Ongaro, raft-dev 2015: a leader must commit an entry of its own term before a change,
        // or a change from a previous term's leader and this one can both commit with disjoint majorities.
        if (!l.committedInTerm) {
            return new ProposeResult.Dropped("leader has not yet committed an entry of its term");
        }
        Membership current = log.membership();
        Membership next;
        try {
            next = current.apply(change);
        } catch (IllegalArgumentException nonsense) {
            return new ProposeResult.Dropped(nonsense.getMessage());
        }
        if (next.equals(current)) {
            return new ProposeResult.Dropped("membership already is " + current);
        }
        if (next.voters().isEmpty()) {
            return new ProposeResult.Dropped("a group keeps at least one voter");
        }
        Entry e = appendAsLeader(l, Entry.Kind.MEMBERSHIP, data);
        checkInvariants();
        return new ProposeResult.Accepted(e.index(), e.term());
    }

    @Override
    public ProposeResult requestRead(long readId) {
        wake();
        if (!(role instanceof Leader l)) {
            if (!config.followerReads() || leader == null) {
                return new ProposeResult.NotLeader(leader);
            }
            // Thesis §6.4 ("reads from followers"): the leader confirms a read index for us; we
            // serve the read once we have applied up to it. Sent with the others of its batch by
            // the next Ready (see ForwardedReads).
            if (forwardedReads.size() >= config.readsPendingMax()) {
                return new ProposeResult.Dropped("readsPendingMax reached: " + config.readsPendingMax());
            }
            forwardedReads.add(readId);
            checkInvariants();
            return new ProposeResult.Forwarded(readId, leader);
        }
        if (config.has(RaftMutation.READ_INDEX_WITHOUT_QUORUM)) {
            // MUTATION READ_INDEX_WITHOUT_QUORUM: no leadership confirmation, no own-term commit.
            readStates.add(new ReadState(readId, commitIndex));
            return new ProposeResult.Accepted(0, 0);
        }
        if (l.readOnly.size() >= config.readsPendingMax()) {
            return new ProposeResult.Dropped("readsPendingMax reached: " + config.readsPendingMax());
        }
        registerRead(l, ReadRequest.own(readId));
        checkInvariants();
        return new ProposeResult.Accepted(0, 0);
    }

    @Override
    public ProposeResult transferLeadership(NodeId target) {
        wake();
        if (!(role instanceof Leader l)) {
            return new ProposeResult.NotLeader(leader);
        }
        if (id.equals(target)) {
            return new ProposeResult.Dropped("already the leader");
        }
        if (target == null || !log.membership().isVoter(target) || !l.progress.containsKey(target)) {
            return new ProposeResult.Dropped(target + " is not a voter");
        }
        if (target.equals(l.transferTarget)) {
            return new ProposeResult.Accepted(0, 0);
        }
        // Thesis §3.10: stop taking proposals, bring the target up to date, then tell it to campaign.
        l.transferTarget = target;
        l.transferElapsedTicks = 0;
        Progress pr = l.progress.get(target);
        if (pr.matchIndex == log.lastIndex()) {
            sendTimeoutNow(l, target);
        } else {
            sendAppend(l, target, true);
        }
        checkInvariants();
        return new ProposeResult.Accepted(0, 0);
    }

    @Override
    public void compact(long index, byte[] snapshotData) {
        checkArgument(index <= appliedIndex, "compact at %d beyond the applied index %d", index, appliedIndex);
        if (index <= log.snapshotIndex()) {
            return;
        }
        log.compact(index, snapshotData);
        checkInvariants();
    }

    /** Starts an election now, as if the election timeout had elapsed (PreVote still applies). */
    public void campaign() {
        wake();
        if (!(role instanceof Leader)) {
            campaign(false);
        }
        checkInvariants();
    }

    // =====================================================================================
    // Ready / advance
    // =====================================================================================

    @Override
    public boolean hasReady() {
        if (outstanding != null) {
            return false;
        }
        return !hardState().equals(offeredHardState) || snapshotToInstall != null || log.hasUnstable()
                || !outbox.isEmpty() || committedToApplyIndex() > applyingIndex || !readStates.isEmpty()
                || !readsRefused.isEmpty() || !proposalOutcomes.isEmpty()
                || (role instanceof Leader l && l.readOnly.roundNeeded()) || forwardedReads.readyToSend();
    }

    @Override
    public Ready<RaftMessage> ready() {
        check(outstanding == null, "one Ready at a time: advance the previous one first");
        if (role instanceof Leader l && l.readOnly.roundNeeded()) {
            // All reads registered since the last Ready share this heartbeat round.
            broadcastHeartbeat(l);
        }
        if (forwardedReads.readyToSend()) {
            // every read registered since the last request shares this one
            send(leader, new ReadIndexRequest(term, incarnation, forwardedReads.send(nowTicks)));
        }
        // The previous Ready was advanced, so its hard state is durable.
        long durableTerm = offeredHardState.term();
        HardState hs = hardState();
        HardState hsToPersist = hs.equals(offeredHardState) ? null : hs;
        offeredHardState = hs;
        Snapshot snap = snapshotToInstall;
        snapshotToInstall = null;
        List<Entry> entries = log.takeUnstable();
        long applyTo = committedToApplyIndex();
        List<Entry> committed = applyTo > applyingIndex
                ? log.slice(applyingIndex + 1, applyTo, Integer.MAX_VALUE, Long.MAX_VALUE) : List.of();
        applyingIndex = Math.max(applyingIndex, applyTo);
        // Thesis §10.2.1: a leader's messages go first, and may leave before this Ready's fsync.
        List<Envelope<RaftMessage>> messages = new ArrayList<>(outbox.size());
        List<Envelope<RaftMessage>> afterPersist = new ArrayList<>();
        for (Envelope<RaftMessage> e : outbox) {
            (isSafeBeforePersist(e.message(), durableTerm) ? messages : afterPersist).add(e);
        }
        int beforePersistCount = messages.size();
        messages.addAll(afterPersist);
        outbox = new ArrayList<>();
        List<ReadState> reads = readStates;
        readStates = new ArrayList<>();
        List<ReadRefusal> refused = readsRefused;
        readsRefused = new ArrayList<>();
        List<ProposalOutcome> outcomes = proposalOutcomes;
        proposalOutcomes = new ArrayList<>();
        outstanding = new Ready<>(hsToPersist, snap, entries, messages, beforePersistCount, committed, reads,
                refused, outcomes);
        checkInvariants();
        return outstanding;
    }

    /**
     * Whether {@code m} depends on nothing an unpersisted Ready holds, so a driver may send it
     * before that Ready's fsync (thesis §10.2.1): what a leader says to its followers (entries,
     * heartbeats, snapshot chunks, answers to forwarded proposals and reads) in a term whose hard
     * state is already durable. Its entries need not be durable here: the leader counts itself
     * toward a quorum only once they are ({@link #maybeCommit}). Never a vote or an
     * acknowledgement, which promise what this Ready persists.
     */
    private static boolean isSafeBeforePersist(RaftMessage m, long durableTerm) {
        boolean leaderSays = m instanceof AppendEntries || m instanceof Heartbeat || m instanceof InstallSnapshot
                || m instanceof Quiesce || m instanceof ProposeOutcome || m instanceof ReadIndexResponse;
        return leaderSays && m.term() == durableTerm;
    }

    @Override
    public void advance(Ready<RaftMessage> ready) {
        check(ready != null && ready == outstanding, "advance the Ready last returned by ready()");
        outstanding = null;
        if (!ready.entries().isEmpty()) {
            log.stableTo(ready.entries().get(ready.entries().size() - 1).index());
        }
        if (!ready.committed().isEmpty()) {
            appliedIndex = Math.max(appliedIndex, ready.committed().get(ready.committed().size() - 1).index());
        }
        if (role instanceof Candidate c && offeredHardState.term() == term && id.equals(offeredHardState.vote())) {
            // The hard state of the Ready just advanced, with our vote for ourselves, is durable.
            c.votes.record(id, true);
            tallyElection(c.votes);
        }
        if (role instanceof Leader l) {
            // The leader's own match is its durable last index (§10.2.1: it may send before it
            // persists, but it counts itself only once durable).
            maybeCommitAndBroadcast(l);
        }
        checkInvariants();
    }

    // =====================================================================================
    // Views
    // =====================================================================================

    @Override
    public LogStatus status() {
        return new LogStatus(id, publicRole(), term, leader, commitIndex, appliedIndex,
                log.snapshotIndex() + 1, log.lastIndex(), log.membership());
    }

    @Override
    public LogView log() {
        return log;
    }

    /** The snapshot the log starts after: the last compacted or installed one, with its data. */
    public Snapshot snapshot() {
        return log.snapshot();
    }

    /** The bounds this replica runs with. */
    public RaftConfig config() {
        return config;
    }

    /**
     * The membership in force at the commit index: what a quorum has agreed on, as opposed to
     * {@link LogStatus#membership()}, which already counts a change still in flight (thesis §4.1).
     */
    public Membership committedMembership() {
        return log.membershipAt(commitIndex);
    }

    /**
     * On a leader, how far each member's log is known to match this one (§5.3 matchIndex), this
     * leader's own entry being its durable last index; empty on any other role. For deciding
     * whether a learner has caught up (etcd promotes a learner only once it is in sync).
     */
    public Map<NodeId, Long> matchIndexes() {
        if (!(role instanceof Leader l)) {
            return Map.of();
        }
        var matches = new java.util.TreeMap<NodeId, Long>();
        matches.put(id, log.stableIndex());
        l.progress.forEach((node, pr) -> matches.put(node, pr.matchIndex));
        return java.util.Collections.unmodifiableMap(matches);
    }

    /** For tests and metrics: appends in flight from this leader to {@code follower}. */
    int inflightAppendsTo(NodeId follower) {
        return role instanceof Leader l && l.progress.containsKey(follower) ? l.progress.get(follower).inflightCount() : 0;
    }

    NodeId transferTarget() {
        return role instanceof Leader l ? l.transferTarget : null;
    }

    private Role publicRole() {
        return switch (role) {
            case Leader l -> Role.LEADER;
            case Candidate c -> Role.CANDIDATE;
            case PreCandidate p -> Role.PRE_CANDIDATE;
            case Follower f -> log.membership().learners().contains(id) ? Role.LEARNER : Role.FOLLOWER;
        };
    }

    private HardState hardState() {
        return new HardState(term, vote, commitIndex);
    }

    /** Committed entries are applied only once durable here. */
    private long committedToApplyIndex() {
        return Math.min(commitIndex, log.stableIndex());
    }

    // =====================================================================================
    // Time
    // =====================================================================================

    private void tickElection() {
        forwardedReads.retryIfLost(nowTicks, config.electionTimeoutTicks());
        electionElapsedTicks++;
        if (ticksSinceLeaderContact < Integer.MAX_VALUE) {
            ticksSinceLeaderContact++;
        }
        if (electionElapsedTicks >= randomizedElectionTimeoutTicks) {
            electionElapsedTicks = 0;
            if (isPromotable()) {
                campaign(false);
            }
        }
    }

    private void tickLeader(Leader l) {
        // A leader hears from itself: once deposed it keeps its followers' promise for a while too.
        ticksSinceLeaderContact = 0;
        electionElapsedTicks++;
        l.heartbeatElapsedTicks++;
        if (l.transferTarget != null && ++l.transferElapsedTicks >= config.electionTimeoutTicks()) {
            // Thesis §3.10: a transfer that does not finish within an election timeout is aborted.
            l.transferTarget = null;
        }
        if (electionElapsedTicks >= config.electionTimeoutTicks()) {
            electionElapsedTicks = 0;
            if (config.checkQuorum() && !quorumRecentlyActive(l)) {
                // Thesis §6.2: a leader cut off from a quorum steps down so clients find the real one.
                becomeFollower(term, null);
                ticksSinceLeaderContact = config.electionTimeoutTicks();
                return;
            }
            for (Progress pr : l.progress.values()) {
                pr.recentActive = false;
            }
        }
        if (config.quiesces()) {
            l.idleTicks = isIdle(l) ? l.idleTicks + 1 : 0;
            if (l.idleTicks >= config.quiesceIdleTicks()) {
                quiesce(l);
                return;
            }
        }
        if (l.heartbeatElapsedTicks >= config.heartbeatIntervalTicks()) {
            l.heartbeatElapsedTicks = 0;
            broadcastHeartbeat(l);
        }
    }

    /**
     * Whether nothing is under way in the group: an entry of this term is committed, every
     * entry is durable here and committed, every member (learners too) has acknowledged the
     * whole log, and no read, transfer or snapshot is pending. Then heartbeats carry no news,
     * and the group can quiesce. What the driver still has to persist, send or apply does not
     * count: Readies flow on in a quiesced group, and under load a tick often finds one pending
     * (two ticks in one batch of the runtime's loop), which must not keep a group from quiescing.
     */
    private boolean isIdle(Leader l) {
        long lastIndex = log.lastIndex();
        if (!l.committedInTerm || l.transferTarget != null || l.readOnly.size() > 0
                || commitIndex != lastIndex || log.stableIndex() != lastIndex) {
            return false;
        }
        for (Progress pr : l.progress.values()) {
            if (pr.matchIndex != lastIndex || pr.state == Progress.State.SNAPSHOT || pr.reportedUnreachable) {
                return false;
            }
        }
        return true;
    }

    /**
     * CockroachDB's quiescence: tell every member the group is idle and stop heartbeating.
     * The lease goes (unless a mutation keeps it): this replica's clock stops while quiesced,
     * so after waking it would count a lease from a round sent long ago in real time, while
     * its followers, woken by their drivers when this node went unreachable, may have elected
     * another leader. A read on a quiesced group wakes it and is confirmed by a heartbeat
     * round (ReadIndex), which also starts a new lease.
     */
    private void quiesce(Leader l) {
        quiesced = true;
        l.idleTicks = 0;
        if (!config.has(RaftMutation.QUIESCED_LEADER_KEEPS_LEASE)) { // MUTATION branch
            l.readOnly.voidLease();
        }
        for (NodeId member : l.progress.keySet()) {
            send(member, new Quiesce(term, commitIndex));
        }
    }

    /**
     * Any input but a tick ends quiescence. A follower's election timer starts again from zero;
     * a leader heartbeats again from the next interval, and its CheckQuorum round goes on where
     * it stopped (so a leader that lost its quorum while quiesced steps down within two election
     * timeouts of waking; resetting the round would, under load, depose leaders whose answers
     * are merely slow).
     */
    private void wake() {
        if (!quiesced) {
            return;
        }
        quiesced = false;
        if (role instanceof Leader l) {
            l.idleTicks = 0;
            l.heartbeatElapsedTicks = 0;
        } else {
            electionElapsedTicks = 0;
        }
    }

    private boolean quorumRecentlyActive(Leader l) {
        Membership m = log.membership();
        int active = 0;
        for (NodeId v : m.voters()) {
            if (v.equals(id) || (l.progress.containsKey(v) && l.progress.get(v).recentActive)) {
                active++;
            }
        }
        return active >= m.quorum();
    }

    private void resetElectionTimer() {
        electionElapsedTicks = 0;
        int timeoutTicks = config.electionTimeoutTicks();
        // §5.2: randomized timeouts in [T, 2T) make split votes rare.
        randomizedElectionTimeoutTicks = timeoutTicks + random.nextInt(timeoutTicks);
    }

    /**
     * Only a voter campaigns; a node outside the membership (or a learner) never does. One
     * exception keeps the group live: a voter whose own removal is in its log but not yet
     * committed still campaigns (votes are counted in its latest membership, which it is not
     * part of, as the thesis §4.2.2 leader does). Otherwise, if it holds the only copy of entries
     * the others need, no one could ever be elected.
     */
    private boolean isPromotable() {
        return log.membership().isVoter(id) || log.membershipAt(commitIndex).isVoter(id);
    }

    /**
     * Leader stickiness (thesis §4.2.3, §9.6): with CheckQuorum, a node that heard from a live
     * leader within the minimum election timeout (or is the leader) disregards vote requests, so
     * a removed or partitioned server cannot depose a working leader, and leases stay valid.
     */
    private boolean isSticky() {
        return config.checkQuorum()
                && (role instanceof Leader || ticksSinceLeaderContact < config.electionTimeoutTicks());
    }

    // =====================================================================================
    // Role transitions
    // =====================================================================================

    private void becomeFollower(long newTerm, NodeId newLeader) {
        check(newTerm >= term, "terms never go down: %d after %d", newTerm, term);
        if (newTerm > term) {
            term = newTerm;
            vote = null;
        }
        if (role instanceof Leader l) {
            // A deposed leader can no longer confirm reads: say so, so they fail fast.
            for (ReadRequest r : l.readOnly.takeAll()) {
                refuseRead(r, new ProposeResult.NotLeader(newLeader));
            }
        }
        if (!(role instanceof Follower)) {
            role = new Follower();
        }
        setLeader(newLeader);
        resetElectionTimer();
    }

    /**
     * Who this replica takes for its leader. A follower's forwarded reads follow a change: sent
     * again to a new leader (its read index serves them as well), refused when there is none to
     * ask, or when this replica leaves the follower's role (a candidate has no leader; a new
     * leader was a candidate first, so it holds none).
     */
    private void setLeader(NodeId newLeader) {
        if (!Objects.equals(newLeader, leader) || !(role instanceof Follower)) {
            if (newLeader == null || !(role instanceof Follower)) {
                for (long readId : forwardedReads.takeAll()) {
                    readsRefused.add(new ReadRefusal(readId, new ProposeResult.NotLeader(newLeader)));
                }
            } else {
                forwardedReads.requeue();
            }
        }
        leader = newLeader;
    }

    private void campaign(boolean leaderTransfer) {
        if (!isPromotable()) {
            return;
        }
        if (!config.preVote() || leaderTransfer) {
            startElection(leaderTransfer);
            return;
        }
        // §9.6: first ask whether we could win, without disturbing anyone's term.
        PreCandidate p = new PreCandidate();
        role = p;
        setLeader(null);
        resetElectionTimer();
        p.votes.record(id, true);
        if (tallyElection(p.votes)) {
            return;
        }
        requestVotes(term + 1, true, false);
    }

    private void startElection(boolean leaderTransfer) {
        Candidate c = new Candidate();
        role = c;
        term = term + 1;
        vote = id;
        setLeader(null);
        resetElectionTimer();
        // Our own vote counts once it is durable (see advance), like anyone's: a lone voter
        // that led a term it then lost in a crash could lead that same term again.
        requestVotes(term, false, leaderTransfer);
    }

    private void requestVotes(long voteTerm, boolean preVote, boolean leaderTransfer) {
        for (NodeId v : new TreeSet<>(log.membership().voters())) {
            if (!v.equals(id)) {
                send(v, new RequestVote(voteTerm, log.lastIndex(), log.lastTerm(), preVote, leaderTransfer));
            }
        }
    }

    /** Acts on the votes so far; returns whether the election is decided. */
    private boolean tallyElection(VoteTally tally) {
        Membership m = log.membership();
        switch (tally.result(m.voters(), m.quorum())) {
            case WON -> {
                if (role instanceof PreCandidate) {
                    startElection(false);
                } else {
                    becomeLeader();
                }
                return true;
            }
            case LOST -> {
                becomeFollower(term, null);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private void becomeLeader() {
        check(role instanceof Candidate, "only a candidate becomes leader");
        if (forwardedByLedTerm.size() >= LED_TERMS_MAX) {
            forwardedByLedTerm.pollFirstEntry();
        }
        ForwardedProposals forwarded = new ForwardedProposals();
        forwardedByLedTerm.put(term, forwarded);
        Leader l = new Leader(forwarded);
        role = l;
        setLeader(id);
        electionElapsedTicks = 0;
        refreshProgress(l);
        // §8 / thesis §6.4: a NOOP of the new term lets the leader commit, and learn the commit
        // index, without waiting for a client.
        appendAsLeader(l, Entry.Kind.NOOP, new byte[0]);
    }

    /** Progress for every member but this node, as the latest membership in the log says. */
    private void refreshProgress(Leader l) {
        Membership m = log.membership();
        l.progress.keySet().removeIf(n -> !m.isMember(n));
        for (NodeId n : m.sortedMembers()) {
            if (!n.equals(id) && !l.progress.containsKey(n)) {
                l.progress.put(n, new Progress(log.lastIndex() + 1, config.inflightAppendsMax()));
            }
        }
        if (l.transferTarget != null && !m.isVoter(l.transferTarget)) {
            l.transferTarget = null;
        }
    }

    // =====================================================================================
    // Messages
    // =====================================================================================

    private void stepMessage(NodeId from, RaftMessage m) {
        if (m.term() > term) {
            if (m instanceof RequestVote rv && !rv.leaderTransfer() && isSticky()) {
                // Thesis §4.2.3: we heard from a live leader within the minimum election timeout.
                return;
            }
            boolean preVoteRequest = m instanceof RequestVote rv && rv.preVote();
            boolean preVoteGranted = m instanceof VoteResponse vr && vr.preVote() && vr.granted();
            if (!preVoteRequest && !preVoteGranted) {
                // §5.1: a higher term makes us a follower; PreVote messages carry a term no one
                // has entered yet (§9.6) and so change nothing.
                boolean fromLeader = m instanceof AppendEntries || m instanceof Heartbeat || m instanceof InstallSnapshot
                        || m instanceof TimeoutNow || m instanceof Quiesce;
                int elapsedTicks = electionElapsedTicks;
                int timeoutTicks = randomizedElectionTimeoutTicks;
                becomeFollower(m.term(), fromLeader ? from : null);
                if (m instanceof RequestVote) {
                    // Figure 2: only a leader's message or a granted vote restarts the election
                    // timer; a candidate we may well reject must not hold back one that can win.
                    electionElapsedTicks = elapsedTicks;
                    randomizedElectionTimeoutTicks = timeoutTicks;
                }
            }
        } else if (m.term() < term && !isTermless(m)) {
            if ((config.checkQuorum() || config.preVote())
                    && (m instanceof AppendEntries || m instanceof Heartbeat || m instanceof Quiesce)) {
                // A stale leader would otherwise never learn of the new term: with PreVote and
                // CheckQuorum nobody else will raise its term for it.
                send(from, new HeartbeatResponse(term, 0));
            } else if (m instanceof RequestVote rv && rv.preVote()) {
                send(from, new VoteResponse(term, false, true));
            }
            return;
        }
        switch (m) {
            case AppendEntries a -> onAppendEntries(from, a);
            case AppendResponse r -> {
                if (role instanceof Leader l) {
                    onAppendResponse(l, from, r);
                }
            }
            case RequestVote rv -> onRequestVote(from, rv);
            case VoteResponse vr -> onVoteResponse(from, vr);
            case Heartbeat h -> onHeartbeat(from, h);
            case Quiesce q -> onQuiesce(from, q);
            case HeartbeatResponse hr -> {
                if (role instanceof Leader l) {
                    onHeartbeatResponse(l, from, hr);
                }
            }
            case InstallSnapshot s -> onInstallSnapshot(from, s);
            case SnapshotResponse sr -> {
                if (role instanceof Leader l) {
                    onSnapshotResponse(l, from, sr);
                }
            }
            case TimeoutNow t -> onTimeoutNow(from);
            case Propose p -> onPropose(from, p);
            case ProposeOutcome po -> onProposeOutcome(po);
            case ReadIndexRequest rr -> onReadIndexRequest(from, rr);
            case ReadIndexResponse rr -> onReadIndexResponse(rr);
        }
    }

    /**
     * Messages whose meaning does not depend on the receiver's term, so a lower term does not
     * make them stale: a proposal (answered by what this node knows of the term it was sent in,
     * see {@link #onPropose}), a read-index request (whoever leads now confirms it now) and the
     * answers to forwarded proposals and reads (an (index, term) placement, or a read index
     * confirmed after the request arrived, stays true).
     */
    private static boolean isTermless(RaftMessage m) {
        return m instanceof Propose || m instanceof ReadIndexRequest || m instanceof ProposeOutcome
                || m instanceof ReadIndexResponse;
    }

    /**
     * A message from the leader of our term: follow it. Returns false if we are the leader
     * ourselves (two leaders in a term cannot happen; such a message is forged).
     */
    private boolean followLeaderOfTerm(NodeId from) {
        if (role instanceof Leader) {
            return false;
        }
        if (!(role instanceof Follower)) {
            becomeFollower(term, from);
        }
        setLeader(from);
        electionElapsedTicks = 0;
        ticksSinceLeaderContact = 0;
        return true;
    }

    private void onAppendEntries(NodeId from, AppendEntries a) {
        if (!followLeaderOfTerm(from) || !isWellFormed(a)) {
            return;
        }
        if (a.prevIndex() < commitIndex) {
            // Everything up to our commit index matches the leader already (Log Matching): keep
            // only what lies beyond it, as if the append started there.
            long lastIndexSent = a.prevIndex() + a.entries().size();
            if (lastIndexSent <= commitIndex) {
                send(from, new AppendResponse(term, commitIndex, false, 0, 0));
                return;
            }
            int skip = (int) (commitIndex - a.prevIndex());
            a = new AppendEntries(a.term(), commitIndex, a.entries().get(skip - 1).term(),
                    a.entries().subList(skip, a.entries().size()), a.commitIndex());
        }
        boolean prevMatches = log.matchTerm(a.prevIndex(), a.prevTerm())
                && !(log.isUninitialized() && a.prevIndex() == 0);
        if (!prevMatches) {
            // §5.3 consistency check failed; tell the leader where our log may match (fast backtracking).
            RaftLog.Position hint = log.findConflictByTerm(Math.min(a.prevIndex(), log.lastIndex()), a.prevTerm());
            send(from, new AppendResponse(term, a.prevIndex(), true, Math.max(0, hint.index()), Math.max(0, hint.term())));
            return;
        }
        appendFromLeader(a.entries());
        long lastNewIndex = a.prevIndex() + a.entries().size();
        // §5.3: commit up to min(leaderCommit, index of last new entry).
        commitTo(Math.min(a.commitIndex(), lastNewIndex));
        send(from, new AppendResponse(term, lastNewIndex, false, 0, 0));
    }

    /** §5.3 receiver steps 3 and 4: drop a conflicting suffix, append what is new. */
    private void appendFromLeader(List<Entry> entries) {
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.index() <= log.lastIndex()) {
                if (config.has(RaftMutation.SKIP_TRUNCATE_ON_CONFLICT)) {
                    // MUTATION SKIP_TRUNCATE_ON_CONFLICT: "have an entry there" taken for "have this entry".
                    continue;
                }
                if (log.term(e.index()) == e.term()) {
                    continue;
                }
                check(e.index() > commitIndex, "committed entries are never overwritten: %d <= commit %d",
                        e.index(), commitIndex);
                log.truncateFrom(e.index());
            }
            log.append(e);
        }
    }

    /** Rejects forged or corrupted appends: entries must follow prevIndex with terms in order. */
    private boolean isWellFormed(AppendEntries a) {
        if (a.prevIndex() < 0 || a.prevTerm() < 0 || a.prevTerm() > a.term() || a.commitIndex() < 0) {
            return false;
        }
        long expectedIndex = a.prevIndex() + 1;
        long lastTerm = a.prevTerm();
        for (Entry e : a.entries()) {
            if (e == null || e.index() != expectedIndex || e.term() < lastTerm || e.term() > a.term()) {
                return false;
            }
            expectedIndex++;
            lastTerm = e.term();
        }
        return true;
    }

    private void onHeartbeat(NodeId from, Heartbeat h) {
        if (!followLeaderOfTerm(from)) {
            return;
        }
        // The leader sends min(its commit, our match), which we hold; clamp against forgery.
        commitTo(Math.min(h.commitIndex(), log.lastIndex()));
        send(from, new HeartbeatResponse(term, h.readContext()));
    }

    /**
     * The leader says the group is idle at {@code q.commitIndex()}, its last index, which this
     * node has acknowledged. With that index committed here, stop the election timer until an
     * input wakes us (a message, a proposal, a read, or the driver reporting the leader
     * unreachable); otherwise (a late Quiesce) answer, which wakes the leader, and stay awake.
     * Obeyed whatever this node's own quiesceIdleTicks: quiescing is the leader's decision.
     */
    private void onQuiesce(NodeId from, Quiesce q) {
        if (!followLeaderOfTerm(from)) {
            return;
        }
        // The leader sends it only once we matched its whole log; clamp against forgery as for heartbeats.
        commitTo(Math.min(q.commitIndex(), log.lastIndex()));
        if (forwardedReads.size() > 0) {
            // A leader quiesces with no read pending, so a request of ours in flight was lost (or
            // overtaken): stay awake and send the reads again, which wakes the leader.
            forwardedReads.requeue();
            return;
        }
        if (commitIndex == q.commitIndex()) {
            // We hold the leader's whole log: a snapshot still half received is of no use.
            ((Follower) role).incomingSnapshot = null;
            quiesced = true;
        } else {
            send(from, new HeartbeatResponse(term, 0));
        }
    }

    private void onRequestVote(NodeId from, RequestVote rv) {
        // §5.2: one vote per term; a PreVote for a future term binds nothing (§9.6).
        boolean canVote = from.equals(vote) || (vote == null && leader == null) || (rv.preVote() && rv.term() > term);
        // §5.4.1: only for a candidate whose log holds everything we might have helped commit.
        boolean upToDate = config.has(RaftMutation.VOTE_WITHOUT_LOG_CHECK) // MUTATION VOTE_WITHOUT_LOG_CHECK
                || log.isUpToDate(rv.lastIndex(), rv.lastTerm());
        if (canVote && upToDate) {
            // The vote goes into the HardState of the same Ready, persisted before the response is sent.
            send(from, new VoteResponse(rv.preVote() ? rv.term() : term, true, rv.preVote()));
            if (!rv.preVote()) {
                vote = from;
                electionElapsedTicks = 0;
            }
        } else {
            send(from, new VoteResponse(term, false, rv.preVote()));
        }
    }

    private void onVoteResponse(NodeId from, VoteResponse vr) {
        switch (role) {
            case PreCandidate p -> {
                // Granted PreVotes carry term + 1; rejections carry the voter's (our) term.
                boolean current = vr.granted() ? vr.term() == term + 1 : vr.term() == term;
                if (vr.preVote() && current && log.membership().isVoter(from)) {
                    p.votes.record(from, vr.granted());
                    tallyElection(p.votes);
                }
            }
            case Candidate c -> {
                if (!vr.preVote() && vr.term() == term && log.membership().isVoter(from)) {
                    c.votes.record(from, vr.granted());
                    tallyElection(c.votes);
                }
            }
            default -> {
            }
        }
    }

    private void onTimeoutNow(NodeId from) {
        // Thesis §3.10: the leader chose us; campaign at once, skipping PreVote and stickiness.
        if (role instanceof Follower && from.equals(leader)) {
            campaign(true);
        }
    }

    private void onInstallSnapshot(NodeId from, InstallSnapshot s) {
        if (!followLeaderOfTerm(from)) {
            return;
        }
        Follower f = (Follower) role;
        if (s.snapshotIndex() <= commitIndex && !log.isUninitialized()) {
            // We already have everything up to it committed, hence matching the leader.
            f.incomingSnapshot = null;
            send(from, new SnapshotResponse(term, s.snapshotIndex(), 0, true));
            return;
        }
        boolean wellFormed = s.membership() != null && s.snapshotIndex() >= 0 && s.snapshotTerm() >= 0
                && s.snapshotTerm() <= s.term() && s.snapshotBytes() >= 0 && s.snapshotBytes() <= SNAPSHOT_BYTES_MAX
                && s.offset() >= 0 && s.offset() + s.chunk().length <= s.snapshotBytes()
                && s.chunk().length <= Math.max(config.snapshotChunkBytesMax(), 1);
        if (!wellFormed) {
            return;
        }
        SnapshotReceiver rx = f.incomingSnapshot;
        if (rx == null || !rx.isFor(s.snapshotIndex(), s.snapshotTerm(), s.snapshotBytes())) {
            if (s.offset() != 0) {
                send(from, new SnapshotResponse(term, s.snapshotIndex(), 0, false));
                return;
            }
            rx = new SnapshotReceiver(s.snapshotIndex(), s.snapshotTerm(), s.membership(), (int) s.snapshotBytes());
            f.incomingSnapshot = rx;
        }
        // Chunks are taken strictly in order; a lost, duplicated or early chunk gets "send me nextOffset".
        if (s.offset() == rx.nextOffset) {
            rx.accept(s.chunk());
        }
        if (!rx.complete()) {
            send(from, new SnapshotResponse(term, s.snapshotIndex(), rx.nextOffset, false));
            return;
        }
        f.incomingSnapshot = null;
        installSnapshot(new Snapshot(rx.index, rx.term, rx.membership, rx.data));
        send(from, new SnapshotResponse(term, s.snapshotIndex(), rx.nextOffset, true));
    }

    private void installSnapshot(Snapshot snap) {
        check(snap.index() > commitIndex || log.isUninitialized(),
                "a snapshot only moves a replica forward: %d <= commit %d", snap.index(), commitIndex);
        log.restore(snap);
        commitIndex = snap.index();
        appliedIndex = snap.index();
        applyingIndex = snap.index();
        snapshotToInstall = snap;
    }

    // ---- forwarded proposals and follower reads ----

    /**
     * A follower relays a client's command (etcd-io/raft's MsgProp). The leader admits it exactly
     * as its own proposals, appends each (sender, incarnation, proposalId) at most once, and
     * answers with the placement before the AppendEntries that carry the entry, so on an ordered
     * link the proposer's waiter is in place before the entry can apply there.
     */
    private void onPropose(NodeId from, Propose p) {
        if (role instanceof Leader l && p.term() == term) {
            if (!log.membership().isMember(from)
                    || !l.forwarded.firstTime(from, p.incarnation(), p.proposalId())) {
                // A duplicate: its first copy was answered. Non-members do not propose.
                return;
            }
            ProposeResult refused = refuseProposal(l, p.data().length);
            if (refused != null) {
                send(from, new ProposeOutcome(term, p.incarnation(), p.proposalId(), refused));
                return;
            }
            long index = log.lastIndex() + 1;
            send(from, new ProposeOutcome(term, p.incarnation(), p.proposalId(), new ProposeResult.Accepted(index, term)));
            Entry e = appendAsLeader(l, Entry.Kind.COMMAND, p.data());
            check(e.index() == index && e.term() == term, "a forwarded proposal lands where its outcome says: %d@%d",
                    e.index(), e.term());
        } else if (neverAppended(from, p)) {
            send(from, new ProposeOutcome(term, p.incarnation(), p.proposalId(), new ProposeResult.NotLeader(leader)));
        }
        // Otherwise we may have appended this very proposal (a late duplicate, or a term we led
        // before a restart): a refusal could contradict the acceptance we sent then. Stay silent;
        // the proposer times out.
    }

    /**
     * Whether a proposal sent to us in {@code p.term()}, which we do not lead now, is certainly
     * not in any log: only the leader of a term appends in it, so it is if we led that term in
     * this life and never took it, or if we never led it at all (a leader votes for itself, so
     * a node without its own vote in its current term never led it).
     */
    private boolean neverAppended(NodeId from, Propose p) {
        ForwardedProposals led = forwardedByLedTerm.get(p.term());
        if (led != null) {
            return led.firstTime(from, p.incarnation(), p.proposalId());
        }
        return p.term() == term && !id.equals(vote);
    }

    private void onProposeOutcome(ProposeOutcome po) {
        if (po.incarnation() == incarnation && po.proposalId() > 0 && po.proposalId() <= lastProposalId) {
            proposalOutcomes.add(new ProposalOutcome(po.proposalId(), po.result()));
        }
    }

    /** A follower asks for a read index (thesis §6.4): confirmed exactly as the leader's own reads. */
    private void onReadIndexRequest(NodeId from, ReadIndexRequest rr) {
        ReadRequest request = new ReadRequest(from, rr.incarnation(), rr.readId());
        if (!(role instanceof Leader l)) {
            refuseRead(request, new ProposeResult.NotLeader(leader));
            return;
        }
        if (config.has(RaftMutation.FOLLOWER_READ_WITHOUT_QUORUM)) {
            // MUTATION FOLLOWER_READ_WITHOUT_QUORUM: no leadership confirmation, no own-term commit.
            answerRead(request, commitIndex);
            return;
        }
        if (l.readOnly.size() >= config.readsPendingMax()) {
            refuseRead(request, new ProposeResult.Dropped("readsPendingMax reached: " + config.readsPendingMax()));
            return;
        }
        registerRead(l, request);
    }

    private void onReadIndexResponse(ReadIndexResponse rr) {
        if (rr.incarnation() != incarnation) {
            return; // meant for this replica's previous life
        }
        // rr.readId() names the request; it answers every read of its batch
        for (long readId : forwardedReads.answered(rr.readId())) {
            if (rr.result() instanceof ProposeResult.Accepted a) {
                readStates.add(new ReadState(readId, a.index()));
            } else {
                readsRefused.add(new ReadRefusal(readId, rr.result()));
            }
        }
    }

    private void registerRead(Leader l, ReadRequest request) {
        if (!l.committedInTerm) {
            // §6.4 step 1: until an entry of its term commits, the leader's commit index may be
            // behind entries committed by its predecessors.
            l.readOnly.awaitTermCommit(request);
        } else {
            serveRead(l, request);
        }
    }

    /** A read confirmed at {@code readIndex}: a ReadState here, or the answer to the follower that asked. */
    private void answerRead(ReadRequest request, long readIndex) {
        if (request.isOwn()) {
            readStates.add(new ReadState(request.readId(), readIndex));
        } else {
            send(request.requester(), new ReadIndexResponse(term, request.incarnation(), request.readId(),
                    new ProposeResult.Accepted(readIndex, term)));
        }
    }

    private void refuseRead(ReadRequest request, ProposeResult refusal) {
        if (request.isOwn()) {
            readsRefused.add(new ReadRefusal(request.readId(), refusal));
        } else {
            send(request.requester(), new ReadIndexResponse(term, request.incarnation(), request.readId(), refusal));
        }
    }

    // ---- leader side ----

    private void onAppendResponse(Leader l, NodeId from, AppendResponse r) {
        Progress pr = l.progress.get(from);
        if (pr == null || r.index() > log.lastIndex() || r.index() < 0) {
            return;
        }
        pr.recentActive = true;
        pr.reportedUnreachable = false;
        if (r.reject()) {
            long matchHint = r.conflictTerm() > 0
                    ? log.findConflictByTerm(r.conflictIndex(), r.conflictTerm()).index()
                    : r.conflictIndex();
            if (pr.maybeDecrTo(r.index(), Math.max(0, matchHint))) {
                if (pr.state == Progress.State.REPLICATE) {
                    pr.becomeProbe();
                }
                if (r.index() <= log.snapshotIndex()) {
                    // Entries cannot repair a log that lacks our snapshot point (or an
                    // uninitialized node that does not know the bootstrap membership).
                    sendSnapshot(l, from, pr);
                } else {
                    sendAppend(l, from, true);
                }
            }
            return;
        }
        boolean wasPaused = pr.isPaused();
        if (pr.maybeUpdate(r.index()) || (pr.matchIndex == r.index() && pr.state == Progress.State.PROBE)) {
            switch (pr.state) {
                case PROBE -> pr.becomeReplicate();
                case SNAPSHOT -> {
                    if (pr.matchIndex >= log.snapshotIndex()) {
                        pr.becomeProbe();
                    }
                }
                case REPLICATE -> pr.freeInflightsTo(r.index());
            }
            if (maybeCommitAndBroadcast(l)) {
                if (!(role instanceof Leader)) {
                    return;
                }
            } else if (wasPaused) {
                sendAppend(l, from, true);
            }
            while (sendAppend(l, from, false)) {
                // Fill the REPLICATE window.
            }
            if (from.equals(l.transferTarget) && pr.matchIndex == log.lastIndex()) {
                sendTimeoutNow(l, from);
            }
        }
    }

    private void onHeartbeatResponse(Leader l, NodeId from, HeartbeatResponse hr) {
        Progress pr = l.progress.get(from);
        if (pr == null) {
            return;
        }
        pr.recentActive = true;
        pr.reportedUnreachable = false;
        pr.probeSent = false;
        if (hr.readContext() > 0) {
            l.readOnly.ack(from, hr.readContext());
            releaseReads(l);
        }
        if (pr.state == Progress.State.SNAPSHOT) {
            // A chunk or its answer may have been lost: send the one the follower last asked for.
            sendSnapshotChunk(l, from, pr);
        } else if (pr.matchIndex < log.lastIndex()) {
            if (pr.state == Progress.State.REPLICATE && pr.isPaused()) {
                pr.freeFirstInflight();
            }
            sendAppend(l, from, true);
        }
    }

    private void onSnapshotResponse(Leader l, NodeId from, SnapshotResponse sr) {
        Progress pr = l.progress.get(from);
        if (pr == null || sr.snapshotIndex() > log.lastIndex() || sr.snapshotIndex() < 0) {
            return;
        }
        pr.recentActive = true;
        pr.reportedUnreachable = false;
        if (sr.installed()) {
            pr.maybeUpdate(sr.snapshotIndex());
            if (pr.state == Progress.State.SNAPSHOT) {
                pr.becomeProbe();
            }
            if (maybeCommitAndBroadcast(l) && !(role instanceof Leader)) {
                return;
            }
            sendAppend(l, from, true);
        } else if (pr.state == Progress.State.SNAPSHOT && sr.snapshotIndex() == pr.snapshotIndex) {
            pr.snapshotOffset = sr.nextOffset();
            sendSnapshotChunk(l, from, pr);
        }
    }

    private Entry appendAsLeader(Leader l, Entry.Kind kind, byte[] data) {
        Entry e = new Entry(log.lastIndex() + 1, term, kind, data);
        log.append(e);
        if (kind == Entry.Kind.MEMBERSHIP) {
            // Thesis §4.1: the new membership takes effect as soon as it is in the log.
            refreshProgress(l);
        }
        broadcastAppend(l);
        // A leader alone is its own quorum once the entry is durable (see advance).
        return e;
    }

    private ProposeResult refuseProposal(Leader l, int dataBytes) {
        if (l.transferTarget != null) {
            return new ProposeResult.Dropped("leadership transfer to " + l.transferTarget + " in progress");
        }
        if (dataBytes + 24 > config.appendBytesMax()) {
            return new ProposeResult.Dropped("proposal of " + dataBytes + " bytes exceeds appendBytesMax");
        }
        if (log.lastIndex() - commitIndex >= config.uncommittedEntriesMax()) {
            return new ProposeResult.Dropped("uncommittedEntriesMax reached: " + config.uncommittedEntriesMax());
        }
        return null;
    }

    private void broadcastAppend(Leader l) {
        for (Map.Entry<NodeId, Progress> e : l.progress.entrySet()) {
            sendAppend(l, e.getKey(), true);
        }
    }

    /** Sends the follower what it needs next, if flow control allows; returns whether anything went out. */
    private boolean sendAppend(Leader l, NodeId to, boolean sendIfEmpty) {
        Progress pr = l.progress.get(to);
        if (pr == null || pr.isPaused()) {
            return false;
        }
        long prevIndex = pr.nextIndex - 1;
        long prevTerm = log.term(prevIndex);
        if (prevTerm < 0) {
            // §7: the entries it needs are compacted away.
            sendSnapshot(l, to, pr);
            return false;
        }
        List<Entry> entries = pr.nextIndex <= log.lastIndex()
                ? log.slice(pr.nextIndex, log.lastIndex(), config.appendEntriesMax(), config.appendBytesMax())
                : List.of();
        if (entries.isEmpty() && !sendIfEmpty) {
            return false;
        }
        send(to, new AppendEntries(term, prevIndex, prevTerm, entries, commitIndex));
        pr.sentAppend(entries.isEmpty() ? prevIndex : entries.get(entries.size() - 1).index(), !entries.isEmpty());
        return true;
    }

    /**
     * Thesis §3.10: tell the transfer target to campaign now. Its election skips the voters'
     * stickiness (§4.2.3), which is what a lease rests on (§6.4.1): from here on this term's
     * lease is void, even if the transfer is later aborted, since the message may still arrive.
     */
    private void sendTimeoutNow(Leader l, NodeId target) {
        l.leaseForfeited = true;
        send(target, new TimeoutNow(term));
    }

    private void sendSnapshot(Leader l, NodeId to, Progress pr) {
        pr.becomeSnapshot(log.snapshotIndex());
        sendSnapshotChunk(l, to, pr);
    }

    private void sendSnapshotChunk(Leader l, NodeId to, Progress pr) {
        Snapshot snap = log.snapshot();
        if (pr.snapshotIndex != snap.index()) {
            // We compacted again meanwhile: start over with the newer snapshot.
            pr.becomeSnapshot(snap.index());
        }
        byte[] data = snap.data();
        int offset = (int) Math.min(Math.max(pr.snapshotOffset, 0), data.length);
        int end = Math.min(data.length, offset + config.snapshotChunkBytesMax());
        byte[] chunk = Arrays.copyOfRange(data, offset, end);
        send(to, new InstallSnapshot(term, snap.index(), snap.term(), snap.membership(), data.length,
                offset, chunk, end == data.length));
    }

    private void broadcastHeartbeat(Leader l) {
        long round = l.readOnly.nextRound(nowTicks);
        for (Map.Entry<NodeId, Progress> e : l.progress.entrySet()) {
            long commit = Math.min(e.getValue().matchIndex, commitIndex);
            send(e.getKey(), new Heartbeat(term, commit, round));
        }
        releaseReads(l);
    }

    /**
     * §5.3/§5.4.2: commit the highest index a quorum of voters has durably stored, provided its
     * entry is from the current term. Returns whether the commit index moved.
     */
    private boolean maybeCommit(Leader l) {
        Membership m = log.membership();
        List<Long> matches = new ArrayList<>(m.voters().size());
        for (NodeId v : m.voters()) {
            if (v.equals(id)) {
                // Thesis §10.2.1: our appends may be out before our fsync; we count only what is
                // durable. (With one Ready in flight at a time, a commit counted early would only
                // leave in the next Ready, after the fsync; a driver that pipelines Readies, as
                // etcd's asynchronous storage writes do, needs this rule.)
                matches.add(log.stableIndex());
            } else {
                Progress pr = l.progress.get(v);
                matches.add(pr == null ? 0L : pr.matchIndex);
            }
        }
        if (matches.isEmpty()) {
            return false;
        }
        matches.sort((a, b) -> Long.compare(b, a));
        long quorumIndex = matches.get(m.quorum() - 1);
        if (quorumIndex <= commitIndex) {
            return false;
        }
        // Raft §5.4.2: a leader commits only entries of its own term by counting replicas;
        // earlier entries commit indirectly. Counting them is the Figure 8 bug.
        boolean ownTerm = log.term(quorumIndex) == term;
        if (!ownTerm && !config.has(RaftMutation.COMMIT_PRIOR_TERM_BY_COUNT)) { // MUTATION branch
            return false;
        }
        commitTo(quorumIndex);
        return true;
    }

    /** Commits what a quorum holds, then tells followers; returns whether the commit index moved. */
    private boolean maybeCommitAndBroadcast(Leader l) {
        if (!maybeCommit(l)) {
            return false;
        }
        if (!l.committedInTerm && log.term(commitIndex) == term) {
            l.committedInTerm = true;
            for (ReadRequest r : l.readOnly.takeAwaitingTermCommit()) {
                serveRead(l, r);
            }
        }
        Membership m = log.membership();
        if (!m.isVoter(id) && log.lastMembershipIndex() <= commitIndex) {
            // Thesis §4.2.2: a leader removed from the membership steps down once that commits.
            broadcastAppend(l);
            becomeFollower(term, null);
            return true;
        }
        broadcastAppend(l);
        return true;
    }

    private void serveRead(Leader l, ReadRequest request) {
        Membership m = log.membership();
        if (m.voters().size() == 1 && m.isVoter(id)) {
            // A leader alone is its own quorum.
            answerRead(request, commitIndex);
            return;
        }
        if (config.readMode() == ReadMode.LEASE && l.transferTarget == null && !l.leaseForfeited && leaseHolds(l)) {
            answerRead(request, commitIndex);
            return;
        }
        l.readOnly.add(request, commitIndex);
    }

    /**
     * Thesis §6.4.1: followers that acknowledged a heartbeat sent at tick s will not vote for
     * another leader before s + electionTimeoutTicks on their clocks (stickiness); allow for drift.
     */
    private boolean leaseHolds(Leader l) {
        long start = l.readOnly.leaseStartTick();
        if (start == Long.MIN_VALUE) {
            return false;
        }
        long durationTicks = config.has(RaftMutation.LEASE_IGNORES_DRIFT) // MUTATION LEASE_IGNORES_DRIFT
                ? 2L * config.electionTimeoutTicks()
                : config.electionTimeoutTicks() - config.leaseClockDriftTicksMax();
        return nowTicks < start + durationTicks;
    }

    private void releaseReads(Leader l) {
        Membership m = log.membership();
        for (ConfirmedRead r : l.readOnly.release(m.voters(), id, m.quorum())) {
            answerRead(r.request(), r.readIndex());
        }
    }

    // =====================================================================================
    // Common
    // =====================================================================================

    private void commitTo(long index) {
        if (index <= commitIndex) {
            return;
        }
        check(index <= log.lastIndex(), "commit %d within the log (last %d)", index, log.lastIndex());
        commitIndex = index;
    }

    private void send(NodeId to, RaftMessage m) {
        outbox.add(new Envelope<>(id, to, m));
    }

    private long lastCheckedCommit;
    private long lastCheckedTerm;

    /** Named invariants, checked after every input. */
    private void checkInvariants() {
        check(commitIndex >= lastCheckedCommit, "commit index never decreases: %d after %d", commitIndex, lastCheckedCommit);
        check(term >= lastCheckedTerm, "term never decreases: %d after %d", term, lastCheckedTerm);
        lastCheckedCommit = commitIndex;
        lastCheckedTerm = term;
        check(commitIndex <= log.lastIndex(), "commit %d within the log (last %d)", commitIndex, log.lastIndex());
        check(log.snapshotIndex() <= appliedIndex && appliedIndex <= applyingIndex && applyingIndex <= commitIndex,
                "snapshot %d <= applied %d <= applying %d <= commit %d",
                log.snapshotIndex(), appliedIndex, applyingIndex, commitIndex);
        check(log.stableIndex() <= log.offeredIndex() && log.offeredIndex() <= log.lastIndex(),
                "stable %d <= offered %d <= last %d", log.stableIndex(), log.offeredIndex(), log.lastIndex());
        check(term >= log.lastTerm(), "term %d >= last log term %d", term, log.lastTerm());
        check(!(role instanceof Leader) || id.equals(leader), "a leader knows it leads");
        check(!(role instanceof Candidate) || id.equals(vote), "a candidate votes for itself");
        check(forwardedReads.size() == 0 || (role instanceof Follower && leader != null),
                "only a follower that knows its leader holds forwarded reads");
        if (quiesced) {
            check(role instanceof Leader || (role instanceof Follower && leader != null),
                    "a quiesced replica leads or follows a known leader: %s", role.getClass().getSimpleName());
            check(!(role instanceof Leader l) || (l.transferTarget == null && l.readOnly.size() == 0),
                    "a quiesced leader has no transfer or read pending");
        }
    }
}
