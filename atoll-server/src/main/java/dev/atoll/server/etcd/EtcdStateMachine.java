package dev.atoll.server.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.etcd.LeaseCheckpoint;
import dev.atoll.proto.log.Command;
import dev.atoll.server.runtime.SnapshotCapture;
import dev.atoll.server.runtime.StateMachine;
import dev.atoll.storage.mvcc.CheckpointInfo;
import dev.atoll.storage.mvcc.HistoryPage;
import dev.atoll.storage.mvcc.Lease;
import dev.atoll.storage.mvcc.LeaseGrantResponse;
import dev.atoll.storage.mvcc.LeaseTimeToLive;
import dev.atoll.storage.mvcc.LogPosition;
import dev.atoll.storage.mvcc.MvccConfig;
import dev.atoll.storage.mvcc.MvccError;
import dev.atoll.storage.mvcc.MvccStore;
import dev.atoll.storage.mvcc.Mutation;
import dev.atoll.storage.mvcc.Outcome;
import dev.atoll.storage.mvcc.RangeRequest;
import dev.atoll.storage.mvcc.RangeResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

import static dev.atoll.core.Check.check;

/**
 * The state machine of the {@code default} keyspace's Raft group: applies each round of committed
 * {@link Command}s to the MVCC store at their log positions (one RocksDB write per round), then
 * tells the watch hub and the lease deadlines what changed. Apply is deterministic: a malformed command is refused the
 * same way on every replica (and still marks its index applied).
 *
 * <p>Threads: {@link #apply}, {@link #applyAll}, {@link #captureSnapshot} and {@link #install} run on
 * the runtime's loop thread, {@link #prepareSnapshot} and packing a capture on its snapshot
 * thread; the read methods may be called from any thread and are excluded only while a snapshot
 * is installed or the store closed. Owns the store: {@link #close} closes it.
 */
public final class EtcdStateMachine implements StateMachine {
    private static final Logger log = LoggerFactory.getLogger(EtcdStateMachine.class);

    /** What applying one command came to; handed to the proposer. */
    public sealed interface Result permits Applied, Refused, Malformed, Replayed {
    }

    /** Done: the store's response record (PutResponse, TxnResponse, LeaseGrantResponse, ...). */
    public record Applied(Object response) implements Result {
    }

    /** The store refused the command; nothing changed. */
    public record Refused(MvccError error, String detail) implements Result {
    }

    /** The entry held no decodable command; nothing changed. */
    public record Malformed(String detail) implements Result {
    }

    /** The entry was applied before (restart replay); nothing changed. */
    public record Replayed(LogPosition applied) implements Result {
    }

    private final Path storeDir;
    private final Path scratchDir;
    private final MvccStore store;
    private final ReentrantReadWriteLock storeLock = new ReentrantReadWriteLock();
    private final WatchHub watchHub;
    private final LeaseDeadlines leaseDeadlines;
    private long scratchSequence;

    /**
     * Opens (or creates) the store in {@code storeDir}; checkpoints for snapshots are built next
     * to it (same file system, so installs are renames). {@code executor} runs watch catch-ups
     * (the one {@link EtcdApi} is given); {@code leaseDeadlines} is fed every lease grant and revocation.
     */
    public EtcdStateMachine(Path storeDir, MvccConfig config, EtcdOptions options, Executor executor,
                            LeaseDeadlines leaseDeadlines) {
        this.storeDir = storeDir;
        this.scratchDir = storeDir.resolveSibling(storeDir.getFileName() + ".scratch");
        deleteTree(scratchDir);
        this.store = MvccStore.open(storeDir, config);
        this.leaseDeadlines = leaseDeadlines;
        leaseDeadlines.reset(store.leases());
        this.watchHub = new WatchHub(new WatchHub.Store() {
            @Override
            public Outcome<HistoryPage> history(long fromRevision, long fromSub, int eventsMax, boolean prevKv) {
                return EtcdStateMachine.this.history(fromRevision, fromSub, eventsMax, prevKv);
            }

            @Override
            public long currentRevision() {
                return EtcdStateMachine.this.currentRevision();
            }

            @Override
            public long compactedRevision() {
                return EtcdStateMachine.this.compactedRevision();
            }
        }, executor, options.watchEventsQueuedMax(), options.watchHistoryPageEventsMax());
    }

    public WatchHub watchHub() {
        return watchHub;
    }

    public LeaseDeadlines leaseDeadlines() {
        return leaseDeadlines;
    }

    // ------------------------------------------------------------------ apply (loop thread)

    @Override
    public Object apply(Entry entry) {
        return applyAll(List.of(entry)).getFirst();
    }

    /**
     * Applies a round: decodes every entry, hands them to the store in one
     * {@link MvccStore#applyAll} (one RocksDB write per store batch), then, in log order, tells
     * the lease deadlines what was granted and revoked, and the watch hub that the revision
     * moved. The results are those of {@link #apply} one entry at a time. A compaction starts a
     * new store call: the watch hub must read the events before it from history before the
     * compaction puts them out of reach.
     */
    @Override
    public List<Object> applyAll(List<Entry> entries) {
        List<Object> results = new ArrayList<>(entries.size());
        List<Decoded> pending = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            Decoded decoded = decode(entry);
            if (decoded.mutation() instanceof Mutation.Compact && !pending.isEmpty()) {
                applyDecoded(pending, results);
                pending.clear();
            }
            pending.add(decoded);
        }
        applyDecoded(pending, results);
        return results;
    }

    /** A committed entry, decoded: the store mutation it stands for, and how its outcome is read. */
    private sealed interface Decoded {
        Mutation mutation();
    }

    /** NOOP and MEMBERSHIP entries only move the applied index; their result is null. */
    private record NoCommand(Mutation mutation) implements Decoded {
    }

    /** An entry every replica refuses to decode alike; it only moves the applied index. */
    private record Undecodable(Mutation mutation, String detail) implements Decoded {
    }

    /** What the lease deadlines learn from a command once it is applied. */
    private enum LeaseEffect { NONE, GRANTED, REVOKED, EXPIRED }

    private record StoreCommand(Mutation mutation, LeaseEffect leaseEffect) implements Decoded {
    }

    private static Decoded decode(Entry entry) {
        LogPosition at = new LogPosition(entry.index(), entry.term());
        if (entry.kind() != Entry.Kind.COMMAND) {
            return new NoCommand(new Mutation.MarkApplied(at));
        }
        Command command;
        try {
            command = Command.parseFrom(entry.data());
        } catch (InvalidProtocolBufferException e) {
            return undecodable(at, "undecodable command: " + e.getMessage());
        }
        try {
            return switch (command.getOpCase()) {
                case PUT -> new StoreCommand(new Mutation.Put(EtcdCodec.toStore(command.getPut()), at), LeaseEffect.NONE);
                case DELETE_RANGE -> new StoreCommand(
                        new Mutation.DeleteRange(EtcdCodec.toStore(command.getDeleteRange()), at), LeaseEffect.NONE);
                case TXN -> new StoreCommand(new Mutation.Txn(EtcdCodec.toStore(command.getTxn()), at), LeaseEffect.NONE);
                case COMPACTION -> new StoreCommand(new Mutation.Compact(command.getCompaction().getRevision(), at),
                        LeaseEffect.NONE);
                case LEASE_GRANT -> new StoreCommand(new Mutation.LeaseGrant(command.getLeaseGrant().getID(),
                        command.getLeaseGrant().getTTL(), at), LeaseEffect.GRANTED);
                case LEASE_REVOKE -> new StoreCommand(new Mutation.LeaseRevoke(command.getLeaseRevoke().getID(), at),
                        LeaseEffect.REVOKED);
                case LEASE_CHECKPOINT -> {
                    List<LeaseCheckpoint> checkpoints = command.getLeaseCheckpoint().getCheckpointsList();
                    if (checkpoints.size() != 1) {
                        // every store mutation takes its own log position: one lease per entry
                        yield undecodable(at, "lease_checkpoint carries " + checkpoints.size() + " leases, not 1");
                    }
                    yield new StoreCommand(new Mutation.LeaseCheckpoint(checkpoints.getFirst().getID(),
                            checkpoints.getFirst().getRemainingTTL(), at), LeaseEffect.NONE);
                }
                case LEASE_EXPIRE -> {
                    List<Long> ids = command.getLeaseExpire().getLeaseIdsList();
                    if (ids.size() != 1) {
                        yield undecodable(at, "lease_expire carries " + ids.size() + " leases, not 1");
                    }
                    yield new StoreCommand(new Mutation.LeaseRevoke(ids.getFirst(), at), LeaseEffect.EXPIRED);
                }
                case OP_NOT_SET -> undecodable(at, "command without an op");
            };
        } catch (EtcdCodec.MalformedRequestException e) {
            return undecodable(at, e.getMessage());
        }
    }

    private static Decoded undecodable(LogPosition at, String detail) {
        return new Undecodable(new Mutation.MarkApplied(at), detail);
    }

    /** One store call for {@code pending}; its results appended to {@code results}, then the watch hub told. */
    private void applyDecoded(List<Decoded> pending, List<Object> results) {
        if (pending.isEmpty()) {
            return;
        }
        long revisionBefore = store.currentRevision();
        List<Mutation> mutations = new ArrayList<>(pending.size());
        for (Decoded d : pending) {
            mutations.add(d.mutation());
        }
        List<Outcome<?>> outcomes = store.applyAll(mutations);
        check(outcomes.size() == pending.size(), "the store answers every mutation");
        for (int i = 0; i < pending.size(); i++) {
            results.add(result(pending.get(i), outcomes.get(i)));
        }
        long revisionAfter = store.currentRevision();
        if (revisionAfter != revisionBefore) {
            // the batch is in RocksDB: watchers get its events in revision order, one response per revision
            watchHub.publish(revisionAfter);
        }
    }

    private Object result(Decoded decoded, Outcome<?> outcome) {
        return switch (decoded) {
            case NoCommand n -> null;
            case Undecodable u -> {
                if (outcome instanceof Outcome.AlreadyApplied<?> a) {
                    yield new Replayed(a.applied());
                }
                LogPosition at = u.mutation().at();
                log.warn("command_malformed index={} term={} detail={}", at.index(), at.term(), u.detail());
                yield new Malformed(u.detail());
            }
            case StoreCommand c -> {
                Result r = result(outcome);
                switch (c.leaseEffect()) {
                    case GRANTED -> {
                        if (r instanceof Applied(LeaseGrantResponse granted)) {
                            leaseDeadlines.granted(granted.id(), granted.ttlSeconds());
                        }
                    }
                    case REVOKED -> {
                        if (r instanceof Applied) {
                            leaseDeadlines.revoked(((Mutation.LeaseRevoke) c.mutation()).id());
                        }
                    }
                    // a lease already gone is skipped: a retried or duplicated expiry is harmless
                    case EXPIRED -> leaseDeadlines.revoked(((Mutation.LeaseRevoke) c.mutation()).id());
                    case NONE -> { }
                }
                yield r;
            }
        };
    }

    private static Result result(Outcome<?> outcome) {
        return switch (outcome) {
            case Outcome.Done<?> d -> new Applied(d.response());
            case Outcome.Refused<?> r -> new Refused(r.error(), r.detail());
            case Outcome.AlreadyApplied<?> a -> new Replayed(a.applied());
        };
    }

    @Override
    public long appliedIndex() {
        return store.appliedIndex();
    }

    // ------------------------------------------------------------------ snapshots (loop thread)

    @Override
    public byte[] snapshotData() {
        try (SnapshotCapture capture = captureSnapshot()) {
            return capture.materialize();
        }
    }

    /**
     * Flushes the store's memtables on the snapshot thread, while entries apply: the checkpoint of
     * {@link #captureSnapshot}, on the loop thread, then flushes only what was written since (with
     * 100,000 puts of 256 bytes in the memtable its flush held the loop for about 0.4 s). Holds
     * the read lock, so an install or close waits for the flush rather than swap the store under it.
     */
    @Override
    public void prepareSnapshot() {
        storeLock.readLock().lock();
        try {
            store.flushMemtables();
        } finally {
            storeLock.readLock().unlock();
        }
    }

    /**
     * A RocksDB checkpoint of the store (hard links to its files, after a memtable flush): cheap,
     * and consistent with {@link #appliedIndex()} since apply runs on this same thread. Packing it
     * into the snapshot's archive, the expensive part, is left to {@link SnapshotCapture#materialize},
     * which reads only the checkpoint's files and so may run while later entries apply, or after
     * a snapshot is installed or the store closed. Closing the capture deletes the checkpoint.
     */
    @Override
    public SnapshotCapture captureSnapshot() {
        Path checkpoint = scratchDir.resolve("checkpoint-" + (++scratchSequence));
        try {
            Files.createDirectories(scratchDir);
            CheckpointInfo info = store.checkpoint(checkpoint);
            return new CheckpointCapture(info.applied().index(), checkpoint);
        } catch (IOException e) {
            deleteTree(checkpoint);
            throw new UncheckedIOException("cannot create " + scratchDir, e);
        } catch (RuntimeException e) {
            deleteTree(checkpoint);
            throw e;
        }
    }

    /** A checkpoint directory of the store at {@code index}, packed when materialized. */
    private record CheckpointCapture(long index, Path dir) implements SnapshotCapture {
        @Override
        public byte[] materialize() {
            return CheckpointArchive.pack(dir);
        }

        @Override
        public void close() {
            deleteTree(dir);
        }
    }

    @Override
    public void install(Snapshot snapshot) {
        if (snapshot.data().length == 0) {
            // A joining replica first receives the group's bootstrap snapshot (index 0, no data):
            // the empty store it starts with already is that state.
            check(snapshot.index() == 0 && store.appliedIndex() == 0,
                    "only the bootstrap snapshot is empty, and only an empty store takes it: index %d, applied %d",
                    snapshot.index(), store.appliedIndex());
            return;
        }
        Path target = scratchDir.resolve("install-" + snapshot.index() + "-" + (++scratchSequence));
        CheckpointArchive.unpack(snapshot.data(), target);
        storeLock.writeLock().lock();
        try {
            store.installCheckpoint(target);
            check(store.appliedIndex() == snapshot.index(), "an installed snapshot holds its own index: %d != %d",
                    store.appliedIndex(), snapshot.index());
        } finally {
            storeLock.writeLock().unlock();
            deleteTree(target);
        }
        leaseDeadlines.reset(store.leases());
        watchHub.reset();
        log.info("snapshot_installed store={} index={} revision={}", storeDir, snapshot.index(),
                store.currentRevision());
    }

    // ------------------------------------------------------------------ reads (any thread)

    public Outcome<RangeResponse> range(RangeRequest request) {
        storeLock.readLock().lock();
        try {
            return store.range(request);
        } finally {
            storeLock.readLock().unlock();
        }
    }

    public Outcome<HistoryPage> history(long fromRevision, long fromSubRevision, int eventsMax, boolean prevKv) {
        storeLock.readLock().lock();
        try {
            return store.history(fromRevision, fromSubRevision, eventsMax, prevKv);
        } finally {
            storeLock.readLock().unlock();
        }
    }

    public Outcome<LeaseTimeToLive> leaseTimeToLive(long id) {
        storeLock.readLock().lock();
        try {
            return store.leaseTimeToLive(id);
        } finally {
            storeLock.readLock().unlock();
        }
    }

    public List<Lease> leases() {
        storeLock.readLock().lock();
        try {
            return store.leases();
        } finally {
            storeLock.readLock().unlock();
        }
    }

    public long currentRevision() {
        return store.currentRevision();
    }

    public long compactedRevision() {
        return store.compactedRevision();
    }

    /** Bytes the store's files occupy on disk. */
    public long storeBytes() {
        storeLock.readLock().lock();
        try (Stream<Path> files = Files.walk(storeDir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0; // a file RocksDB deleted meanwhile
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot measure " + storeDir, e);
        } finally {
            storeLock.readLock().unlock();
        }
    }

    @Override
    public void close() {
        storeLock.writeLock().lock();
        try {
            store.close();
        } finally {
            storeLock.writeLock().unlock();
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
