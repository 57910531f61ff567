package dev.atoll.server.shard;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.server.runtime.SnapshotCapture;
import dev.atoll.server.runtime.StateMachine;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.replica.Handoff;
import dev.atoll.shard.replica.Intake;
import dev.atoll.shard.replica.MalformedShardData;
import dev.atoll.shard.replica.PendingMerge;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCodec;
import dev.atoll.shard.replica.ShardCommand;
import dev.atoll.shard.replica.ShardReplica;
import dev.atoll.shard.replica.ShardResult;
import dev.atoll.shard.replica.ShardSnapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import static dev.atoll.core.Check.check;

/**
 * The server's driver of one shard replica: applies the group's committed entries to the pure
 * {@link ShardReplica} (commands encoded by its {@link ShardCodec}) over the replica's prefix of
 * the node's {@link ShardStore}, writing whole entries' rows together with the replica's state
 * after them (bounds, applied index, merge state) in one atomic batch (a round of puts in one).
 * A restart resumes from that state and the runtime replays the log past it, so after a crash
 * (kill -9 or power loss: RocksDB's WAL is not synced, the Raft log is) the store equals what a
 * prefix of the log says. Snapshots are the replica's ({@link ShardCodec#encode(ShardSnapshot)}).
 *
 * <p>A split's new shard gets its first rows and state in the same batch as the parent's cut,
 * then {@code onSplit} is told (on the loop thread), for the node to host the new group.
 *
 * <p>Threads: apply, snapshot and install on the runtime's loop thread; {@link #get},
 * {@link #scan} and {@link #bounds} from any thread, which see only what a whole entry wrote.
 */
public final class ShardStateMachine implements StateMachine {
    /** What applying a command came to, handed to the proposer (refusals are the replica's {@link ShardResult}). */
    public sealed interface Result permits Written, Deleted {
    }

    /** The put was applied at {@code index}. */
    public record Written(long index) implements Result {
    }

    /** The delete was applied at {@code index}; {@code existed} says whether the key was there. */
    public record Deleted(boolean existed, long index) implements Result {
    }

    private static final int MEDIAN_PAGE_ROWS = 1024;

    private final ShardStore store;
    private final ShardStore.Replica data;
    private final long keyspaceId;
    private final Consumer<ShardResult.Split> onSplit;
    /** Null until the replica has its bounds (a learner before its first snapshot). */
    private ShardReplica replica;
    /** What readers may serve: null while a snapshot replaces everything. */
    private volatile ShardBounds bounds;
    private volatile PendingMerge pendingMerge;
    /** Keys in flight to or from other shards (data moves), which readers refuse; set with {@link #bounds}. */
    private volatile List<Handoff> handoffs = List.of();
    private volatile List<Intake> intakes = List.of();
    private volatile long appliedIndex;
    private volatile boolean closed;

    /**
     * The replica of {@code shard}: resumed from what its store holds, else started from
     * {@code bootstrap} (a founding replica, or a split's new shard) and written at once, else
     * (a learner) without bounds until it installs the leader's snapshot.
     */
    public ShardStateMachine(ShardStore store, ShardId shard, long keyspaceId, ShardSnapshot bootstrap,
                             Consumer<ShardResult.Split> onSplit) {
        this.store = store;
        this.data = store.replica(shard, keyspaceId);
        this.keyspaceId = keyspaceId;
        this.onSplit = onSplit;
        ShardStore.Applied applied = data.applied();
        if (applied.replicaState().length > 0) {
            replica = ShardReplica.resume(ShardCodec.decodeSnapshot(applied.replicaState()), data, Set.of());
        } else if (bootstrap != null) {
            check(bootstrap.bounds().shard().equals(shard), "a replica starts from its own shard's snapshot: %s",
                    bootstrap.bounds());
            replica = ShardReplica.restore(bootstrap, data, Set.of());
            data.commit(state(0));
        }
        if (replica != null) {
            publishMoves();
            bounds = replica.bounds();
            pendingMerge = replica.pendingMerge().orElse(null);
            appliedIndex = replica.appliedIndex();
        }
    }

    /** Readers see the moves in flight before the bounds that go with them (both are volatile). */
    private void publishMoves() {
        handoffs = replica == null ? List.of() : replica.handoffs();
        intakes = replica == null ? List.of() : replica.intakes();
    }

    /** The keys this replica handed off and still keeps (data moves in flight). Any thread. */
    public List<Handoff> handoffs() {
        return handoffs;
    }

    /** The keys this replica is taking over and has not all the rows of. Any thread. */
    public List<Intake> intakes() {
        return intakes;
    }

    /**
     * A chunk of the rows this replica handed off to {@code target} in {@code relocation}, from
     * {@code from}, about {@code bytesMax} bytes; empty unless it applied that HandOff and has not
     * released it. On the loop thread only (through {@code NodeRuntime.query}): the rows handed
     * off no longer change, but a snapshot may replace them.
     */
    public Optional<ShardReplica.Chunk> handedOffRows(long relocation, ShardId target, Key from, long bytesMax) {
        return replica == null ? Optional.empty()
                : ShardReplica.handedOffRows(replica.state(), data, relocation, target, from, bytesMax);
    }

    /** Present once the replica applied a PrepareMerge: it is frozen for a merge into another shard. Any thread. */
    public Optional<PendingMerge> pendingMerge() {
        return Optional.ofNullable(pendingMerge);
    }

    /**
     * The frozen replica's whole state, rows included, for the target's leader to carry in its
     * CommitMerge; empty unless it applied a PrepareMerge. On the loop thread only (through
     * {@code NodeRuntime.query}): its rows no longer change, but a snapshot may replace them.
     */
    public Optional<ShardSnapshot> frozenSnapshot() {
        return replica == null || replica.pendingMerge().isEmpty() ? Optional.empty() : Optional.of(replica.snapshot());
    }

    public ShardId shardId() {
        return data.shardId();
    }

    /** The bounds the replica holds now; empty before its first snapshot or while one is installed. */
    public Optional<ShardBounds> bounds() {
        return Optional.ofNullable(bounds);
    }

    /** The store view, for deleting the replica's data once it left this node. */
    public ShardStore.Replica data() {
        return data;
    }

    // ------------------------------------------------------------------ apply (loop thread)

    @Override
    public Object apply(Entry entry) {
        return applyAll(List.of(entry)).getFirst();
    }

    /**
     * Applies a round: puts and deletes (and entries that change no rows) accumulate in one
     * batch, written with the replica's state as of the last of them; the batch is written
     * first whenever an entry is about to read the store (a delete, a get, a scan, a split or
     * merge), so reads see every earlier entry and each write holds whole entries only.
     */
    @Override
    public List<Object> applyAll(List<Entry> entries) {
        var results = new ArrayList<>(entries.size());
        long term = 0;
        boolean pending = false;
        for (Entry entry : entries) {
            if (entry.index() <= replicaIndex()) {
                results.add(null); // replayed after a restart: applied before
                continue;
            }
            check(replica != null, "%s applies entry %d only once it has its bounds", data.shardId(), entry.index());
            ShardCommand command = null;
            if (entry.kind() == Entry.Kind.COMMAND) {
                try {
                    command = ShardCodec.decodeCommand(entry.data());
                } catch (MalformedShardData bad) {
                    results.add(replica.apply(entry.index(), entry.data())); // refused: changes nothing
                    term = entry.term();
                    pending = true;
                    continue;
                }
            }
            boolean reads = command != null && !(command instanceof ShardCommand.Put);
            if (reads && pending) {
                data.commit(state(term)); // the replica's state is still that of the previous entry here
                pending = false;
            }
            term = entry.term();
            if (command == null) {
                replica.skip(entry.index());
                results.add(null);
                pending = true;
                continue;
            }
            results.add(applyCommand(entry, command));
            pending = !reads;
            if (reads) {
                publishMoves();
                bounds = replica.bounds();
                appliedIndex = entry.index();
            }
        }
        if (pending) {
            data.commit(state(term));
        }
        publishMoves();
        bounds = replica == null ? null : replica.bounds();
        pendingMerge = replica == null ? null : replica.pendingMerge().orElse(null);
        appliedIndex = replicaIndex();
        return results;
    }

    private long replicaIndex() {
        return replica == null ? appliedIndex : replica.appliedIndex();
    }

    /** Applies one command; any but a put is written at once (with whatever the batch held before it). */
    private Object applyCommand(Entry entry, ShardCommand command) {
        // the store is read before the entry writes: the replica never reads after writing in one command
        boolean existed = command instanceof ShardCommand.Delete d && replica.route(d).isEmpty()
                && data.get(d.key()) != null;
        ShardResult result = replica.apply(entry.index(), command);
        switch (result) {
            case ShardResult.Split split -> {
                // readers see the narrower span before the moved rows leave the store
                publishMoves();
                bounds = replica.bounds();
                commitSplit(entry.term(), split.child());
                onSplit.accept(split);
            }
            case ShardResult.Relocated moved when command instanceof ShardCommand.Release -> {
                // readers stop seeing the released rows as the source's before they leave the store
                publishMoves();
                bounds = replica.bounds();
                data.commit(state(entry.term()));
            }
            default -> {
                if (!(command instanceof ShardCommand.Put)) {
                    data.commit(state(entry.term()));
                }
            }
        }
        return switch (result) {
            case ShardResult.Written w -> command instanceof ShardCommand.Delete
                    ? new Deleted(existed, entry.index()) : new Written(entry.index());
            default -> result;
        };
    }

    /**
     * The parent's cut and the new shard's first rows, in one batch. A new shard whose replica
     * already has a state on this node (it installed a snapshot of the new group, which is newer
     * than the split) keeps it: the split's rows for it are stale.
     */
    private void commitSplit(long term, ShardSnapshot child) {
        ShardStore.Replica childData = store.replica(child.bounds().shard(), keyspaceId);
        if (childData.applied().replicaState().length > 0) {
            data.commit(state(term));
            return;
        }
        var childState = new ShardSnapshot(child.bounds(), child.appliedIndex(), null, List.of());
        data.commit(state(term), childData, child.rows(),
                new ShardStore.Applied(child.appliedIndex(), 0, ShardCodec.encode(childState)));
    }

    private ShardStore.Applied state(long term) {
        return new ShardStore.Applied(replica.appliedIndex(), term, ShardCodec.encode(replica.state()));
    }

    @Override
    public long appliedIndex() {
        return appliedIndex;
    }

    @Override
    public byte[] snapshotData() {
        check(replica != null, "%s has no state to snapshot before its first snapshot", data.shardId());
        return ShardCodec.encode(replica.snapshot());
    }

    /**
     * The replica's state (bounds, applied index, merge state) and a RocksDB snapshot of its rows,
     * both as of the applied index; reading and encoding the rows, the expensive part for a large
     * shard, happens when materialized, off the loop thread. Closing it releases the RocksDB snapshot.
     */
    @Override
    public SnapshotCapture captureSnapshot() {
        check(replica != null, "%s has no state to snapshot before its first snapshot", data.shardId());
        ShardSnapshot state = replica.state();
        ShardStore.Replica.FrozenRows rows = data.freeze();
        return new SnapshotCapture() {
            @Override
            public long index() {
                return state.appliedIndex();
            }

            @Override
            public byte[] materialize() {
                return ShardCodec.encode(ShardReplica.withRows(state, rows));
            }

            @Override
            public void close() {
                rows.close();
            }
        };
    }

    @Override
    public void install(Snapshot snapshot) {
        ShardSnapshot s;
        try {
            s = ShardCodec.decodeSnapshot(snapshot.data());
        } catch (MalformedShardData damaged) {
            throw new IllegalStateException("SNAPSHOT_CORRUPT: shard " + data.shardId() + " snapshot does not decode",
                    damaged);
        }
        check(s.appliedIndex() == snapshot.index(), "a shard snapshot holds the state at its log index: %d at %d",
                s.appliedIndex(), snapshot.index());
        bounds = null; // readers refuse until the new state is whole
        if (replica == null) {
            replica = ShardReplica.restore(s, data, Set.of());
        } else {
            replica.install(s);
        }
        data.commit(state(snapshot.term()));
        publishMoves();
        bounds = replica.bounds();
        pendingMerge = replica.pendingMerge().orElse(null);
        appliedIndex = snapshot.index();
    }

    @Override
    public void close() {
        // the store is the node's, shared by every shard; the replica's data is deleted after this
        closed = true;
    }

    /** A read raced with the replica's removal from this node: its data may be gone, so the read says nothing. */
    public static final class ReplicaGone extends RuntimeException {
        ReplicaGone(String message) {
            super(message, null, false, false);
        }
    }

    /** The replica does not serve the keys read (now): they are another shard's, or it installs a snapshot. */
    public static final class NotServed extends RuntimeException {
        NotServed(String message) {
            super(message, null, false, false);
        }
    }

    // ------------------------------------------------------------------ reads (any thread)

    /**
     * The key's value; throws {@link NotServed} when the key is not in the replica's span (before
     * or after the read: a split may have moved it meanwhile), {@link ReplicaGone} once the
     * replica is removed from this node.
     */
    public Optional<byte[]> get(byte[] key) {
        ShardBounds before = servedBounds(Key.of(key));
        byte[] value = data.read(key);
        checkUnchanged(before);
        return Optional.ofNullable(value);
    }

    /**
     * The keys in [start, end) (end null: to the end of the key space) that are this replica's,
     * in key order, at most {@code limit}: a range shard cuts the range to its own. Throws as
     * {@link #get}.
     */
    public List<ShardStore.KeyValue> scan(byte[] start, byte[] end, int limit) {
        return scan(start, end, limit, false);
    }

    /**
     * One shard's part of a Range: as {@link #scan}, but refused ({@link NotServed}) unless this
     * replica holds the whole of [start, end) and is not frozen for a merge. A range replica that
     * applied a split its node's map does not show yet would otherwise answer only the keys before
     * the split, and the stitched range would miss the rest.
     */
    public List<ShardStore.KeyValue> scanPart(byte[] start, byte[] end, int limit) {
        return scan(start, end, limit, true);
    }

    private List<ShardStore.KeyValue> scan(byte[] start, byte[] end, int limit, boolean whole) {
        ShardBounds before = bounds;
        checkOpen();
        if (before == null) {
            throw new NotServed(data.shardId() + " installs a snapshot");
        }
        Key scanEnd = end == null ? Key.END : Key.of(end);
        if (whole) {
            refuseIfFrozen();
        }
        if (whole && before.span() instanceof KeyRange own
                && (own.start().compareTo(Key.of(start)) > 0 || own.end().compareTo(scanEnd) < 0)) {
            throw new NotServed(data.shardId() + " holds " + own + ", not all of [" + Key.of(start) + ", " + scanEnd
                    + ")");
        }
        if (Key.of(start).compareTo(scanEnd) < 0
                && ShardReplica.movesOverlap(handoffs, intakes, new KeyRange(Key.of(start), scanEnd))) {
            throw new NotServed(data.shardId() + " has keys of this range in flight to or from another shard");
        }
        byte[] from = start;
        byte[] to = end;
        if (before.span() instanceof KeyRange own) {
            if (Key.of(from).compareTo(own.start()) < 0) {
                from = own.start().toBytes();
            }
            if (!own.end().isEnd() && (to == null || Key.of(to).compareTo(own.end()) > 0)) {
                to = own.end().toBytes();
            }
        }
        List<ShardStore.KeyValue> found = data.scanRows(from, to, limit);
        checkUnchanged(before);
        return found;
    }

    /**
     * The median key of the replica's rows (the row at half their count), a split key that
     * leaves half the rows on each side; empty with fewer than two rows. Two passes over the
     * committed rows: a write meanwhile moves the answer a little, never out of the span.
     */
    public Optional<Key> medianKey() {
        long count = 0;
        byte[] from = new byte[0];
        for (List<ShardStore.KeyValue> page = scan(from, null, MEDIAN_PAGE_ROWS); !page.isEmpty();
             page = page.size() < MEDIAN_PAGE_ROWS ? List.of() : scan(next(page), null, MEDIAN_PAGE_ROWS)) {
            count += page.size();
        }
        if (count < 2) {
            return Optional.empty();
        }
        long skip = count / 2;
        for (List<ShardStore.KeyValue> page = scan(from, null, MEDIAN_PAGE_ROWS); !page.isEmpty();
             page = page.size() < MEDIAN_PAGE_ROWS ? List.of() : scan(next(page), null, MEDIAN_PAGE_ROWS)) {
            if (skip < page.size()) {
                return Optional.of(Key.of(page.get((int) skip).key()));
            }
            skip -= page.size();
        }
        return Optional.empty(); // rows were deleted between the passes
    }

    /** What {@link #dataBytes} counts per row besides its key and value: about its encoding's overhead. */
    public static final int ROW_OVERHEAD_BYTES = 16;

    /**
     * The bytes of the replica's rows (keys, values and {@link #ROW_OVERHEAD_BYTES} each), counted
     * until they reach {@code max} (then at least {@code max}): whether a merge source's rows fit
     * in one log entry. Throws as {@link #scan}.
     */
    public long dataBytes(long max) {
        long bytes = 0;
        for (List<ShardStore.KeyValue> page = scan(new byte[0], null, MEDIAN_PAGE_ROWS); !page.isEmpty() && bytes < max;
             page = page.size() < MEDIAN_PAGE_ROWS ? List.of() : scan(next(page), null, MEDIAN_PAGE_ROWS)) {
            for (ShardStore.KeyValue kv : page) {
                bytes += kv.key().length + kv.value().length + ROW_OVERHEAD_BYTES;
            }
        }
        return bytes;
    }

    private static byte[] next(List<ShardStore.KeyValue> page) {
        return Key.of(page.getLast().key()).successor().toBytes();
    }

    /** The bounds a read of {@code key} may be served with: the replica has them and they hold the key. */
    private ShardBounds servedBounds(Key key) {
        ShardBounds b = bounds;
        checkOpen();
        if (b == null || !ShardReplica.serves(b, handoffs, intakes, key)) {
            throw new NotServed(data.shardId() + " does not serve " + key + " now");
        }
        refuseIfFrozen();
        return b;
    }

    /**
     * A replica frozen for a merge serves no reads, as the pure replica refuses them: once the
     * target has taken the merge, its keys are written there, and a node whose map still names
     * this shard would read values older than writes already acknowledged.
     */
    private void refuseIfFrozen() {
        PendingMerge frozen = pendingMerge;
        if (frozen != null) {
            throw new NotServed(data.shardId() + " is frozen for a merge into " + frozen.target());
        }
    }

    private void checkUnchanged(ShardBounds before) {
        checkOpen();
        if (bounds != before) {
            throw new NotServed(data.shardId() + " changed its span during the read: " + before + " -> " + bounds);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new ReplicaGone(data.shardId() + " left this node");
        }
    }

    /** The command that puts {@code value} at {@code key}, routed to {@code shard} at {@code epoch}. */
    public static byte[] put(ShardId shard, ShardEpoch epoch, byte[] key, byte[] value) {
        return ShardCodec.encode(new ShardCommand.Put(shard, epoch, Key.of(key), value));
    }

    /** The command that deletes {@code key}, routed to {@code shard} at {@code epoch}. */
    public static byte[] delete(ShardId shard, ShardEpoch epoch, byte[] key) {
        return ShardCodec.encode(new ShardCommand.Delete(shard, epoch, Key.of(key)));
    }
}
