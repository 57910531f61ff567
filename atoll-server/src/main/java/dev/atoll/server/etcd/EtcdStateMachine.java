package dev.atoll.server.etcd;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.etcd.LeaseCheckpoint;
import dev.atoll.proto.log.Command;
import dev.atoll.server.runtime.StateMachine;
import dev.atoll.storage.mvcc.HistoryPage;
import dev.atoll.storage.mvcc.Lease;
import dev.atoll.storage.mvcc.LeaseGrantResponse;
import dev.atoll.storage.mvcc.LeaseTimeToLive;
import dev.atoll.storage.mvcc.LogPosition;
import dev.atoll.storage.mvcc.MvccConfig;
import dev.atoll.storage.mvcc.MvccError;
import dev.atoll.storage.mvcc.MvccStore;
import dev.atoll.storage.mvcc.Outcome;
import dev.atoll.storage.mvcc.RangeRequest;
import dev.atoll.storage.mvcc.RangeResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

import static dev.atoll.core.Check.check;

/**
 * The state machine of the {@code default} keyspace's Raft group: applies each committed
 * {@link Command} to the MVCC store at the entry's log position, then tells the watch hub and
 * the lease deadlines what changed. Apply is deterministic: a malformed command is refused the
 * same way on every replica (and still marks its index applied).
 *
 * <p>Threads: {@link #apply}, {@link #snapshotData} and {@link #install} run on the runtime's
 * loop thread; the read methods may be called from any thread and are excluded only while a
 * snapshot is installed or the store closed. Owns the store: {@link #close} closes it.
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
        LogPosition at = new LogPosition(entry.index(), entry.term());
        if (entry.kind() != Entry.Kind.COMMAND) {
            store.markApplied(at);
            return null;
        }
        Command command;
        try {
            command = Command.parseFrom(entry.data());
        } catch (InvalidProtocolBufferException e) {
            return malformed(at, "undecodable command: " + e.getMessage());
        }
        long revisionBefore = store.currentRevision();
        Result result;
        try {
            result = switch (command.getOpCase()) {
                case PUT -> result(store.put(EtcdCodec.toStore(command.getPut()), at));
                case DELETE_RANGE -> result(store.deleteRange(EtcdCodec.toStore(command.getDeleteRange()), at));
                case TXN -> result(store.txn(EtcdCodec.toStore(command.getTxn()), at));
                case COMPACTION -> result(store.compact(command.getCompaction().getRevision(), at));
                case LEASE_GRANT -> {
                    Result r = result(store.leaseGrant(command.getLeaseGrant().getID(),
                            command.getLeaseGrant().getTTL(), at));
                    if (r instanceof Applied(LeaseGrantResponse granted)) {
                        leaseDeadlines.granted(granted.id(), granted.ttlSeconds());
                    }
                    yield r;
                }
                case LEASE_REVOKE -> {
                    long id = command.getLeaseRevoke().getID();
                    Result r = result(store.leaseRevoke(id, at));
                    if (r instanceof Applied) {
                        leaseDeadlines.revoked(id);
                    }
                    yield r;
                }
                case LEASE_CHECKPOINT -> {
                    List<LeaseCheckpoint> checkpoints = command.getLeaseCheckpoint().getCheckpointsList();
                    if (checkpoints.size() != 1) {
                        // every store mutation takes its own log position: one lease per entry
                        yield malformed(at, "lease_checkpoint carries " + checkpoints.size() + " leases, not 1");
                    }
                    yield result(store.leaseCheckpoint(checkpoints.getFirst().getID(),
                            checkpoints.getFirst().getRemainingTTL(), at));
                }
                case LEASE_EXPIRE -> {
                    List<Long> ids = command.getLeaseExpire().getLeaseIdsList();
                    if (ids.size() != 1) {
                        yield malformed(at, "lease_expire carries " + ids.size() + " leases, not 1");
                    }
                    Result r = result(store.leaseRevoke(ids.getFirst(), at));
                    // a lease already gone is skipped: a retried or duplicated expiry is harmless
                    leaseDeadlines.revoked(ids.getFirst());
                    yield r;
                }
                case OP_NOT_SET -> malformed(at, "command without an op");
            };
        } catch (EtcdCodec.MalformedRequestException e) {
            result = malformed(at, e.getMessage());
        }
        long revisionAfter = store.currentRevision();
        if (revisionAfter != revisionBefore) {
            watchHub.publish(revisionAfter);
        }
        return result;
    }

    private Result malformed(LogPosition at, String detail) {
        if (!store.markApplied(at)) {
            return new Replayed(store.appliedPosition());
        }
        log.warn("command_malformed index={} term={} detail={}", at.index(), at.term(), detail);
        return new Malformed(detail);
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
        Path checkpoint = scratchDir.resolve("checkpoint-" + (++scratchSequence));
        try {
            Files.createDirectories(scratchDir);
            store.checkpoint(checkpoint);
            return CheckpointArchive.pack(checkpoint);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + scratchDir, e);
        } finally {
            deleteTree(checkpoint);
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
