package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.ShardResult.Code;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import static dev.atoll.core.Check.check;

/**
 * The state machine of one shard's Raft group, as each replica applies it, entry by entry:
 * reads and writes inside its span, splits, the two steps of a merge, snapshots. Deterministic:
 * replicas that apply the same entries hold the same bounds and rows and return the same
 * results. A command routed with another range version, or for a key outside the span, is
 * refused as a value and changes nothing. Pure and not thread-safe: the driver owns it and
 * its {@link ShardStore}.
 */
public final class ShardReplica {
    /**
     * Index of a shard group's bootstrap snapshot, which holds the shard's first bounds and rows;
     * the log starts after it. Not 0, so that a replica added later always installs a snapshot
     * (and so learns its bounds) instead of replaying the log from an empty state.
     */
    public static final long INITIAL_INDEX = 1;
    /** Most bytes of rows a {@link ShardCommand.CommitMerge} carries: merges are for small shards. */
    public static final long MERGE_BYTES_MAX = 4L << 20;
    private static final int PAGE_ROWS = 256;

    private final ShardStore store;
    private final Set<ReplicaMutation> mutations;
    private ShardBounds bounds;
    private long appliedIndex;
    private PendingMerge pendingMerge;

    private ShardReplica(ShardStore store, Set<ReplicaMutation> mutations) {
        this.store = Objects.requireNonNull(store, "store");
        this.mutations = mutations.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(mutations));
    }

    /** A replica holding {@code snapshot}: the store is cleared and filled with its rows. */
    public static ShardReplica restore(ShardSnapshot snapshot, ShardStore store, Set<ReplicaMutation> mutations) {
        var r = new ShardReplica(store, mutations);
        r.install(snapshot);
        return r;
    }

    /**
     * A replica whose store already holds its rows, with the state recorded alongside them
     * ({@code state}: a snapshot without rows, as {@link #state()} made it): a restart of a
     * driver that writes each entry's rows and state to durable storage at once.
     */
    public static ShardReplica resume(ShardSnapshot state, ShardStore store, Set<ReplicaMutation> mutations) {
        check(state.rows().isEmpty(), "a resumed replica's rows are in its store, not in its state: %s",
                state.bounds());
        var r = new ShardReplica(store, mutations);
        r.bounds = state.bounds();
        r.appliedIndex = state.appliedIndex();
        r.pendingMerge = state.pendingMerge();
        return r;
    }

    /** The replica's state without its rows (bounds, applied index, merge state), for {@link #resume}. */
    public ShardSnapshot state() {
        return new ShardSnapshot(bounds, appliedIndex, pendingMerge, List.of());
    }

    /** The bootstrap snapshot of a new, empty shard. */
    public static ShardSnapshot initial(ShardBounds bounds) {
        return new ShardSnapshot(bounds, INITIAL_INDEX, null, List.of());
    }

    public ShardBounds bounds() {
        return bounds;
    }

    public long appliedIndex() {
        return appliedIndex;
    }

    /** Present once a PrepareMerge froze this shard. */
    public Optional<PendingMerge> pendingMerge() {
        return Optional.ofNullable(pendingMerge);
    }

    /** Replaces the whole state by {@code snapshot} (a learner catching up, a restart). */
    public void install(ShardSnapshot snapshot) {
        check(bounds == null || snapshot.bounds().shard().equals(bounds.shard()),
                "a replica installs snapshots of its own shard: %s into %s", snapshot.bounds(), bounds);
        store.deleteRange(KeyRange.ALL);
        for (KeyValue kv : snapshot.rows()) {
            store.put(kv.key(), kv.value());
        }
        bounds = snapshot.bounds();
        appliedIndex = snapshot.appliedIndex();
        pendingMerge = snapshot.pendingMerge();
    }

    /** The replica's state as of its applied index: bounds, merge state and every row of its span. */
    public ShardSnapshot snapshot() {
        return withRows(state(), store);
    }

    /**
     * {@code state} (a snapshot without rows, as {@link #state()} made it) with every row of its
     * span read from {@code rows}: a view of the replica's store frozen when the state was taken,
     * so that a driver takes the state on its apply thread and reads the rows on another.
     */
    public static ShardSnapshot withRows(ShardSnapshot state, ShardStore rows) {
        check(state.rows().isEmpty(), "a state to fill carries no rows: %s", state.bounds());
        var out = new ArrayList<KeyValue>();
        forEachRow(rows, state.bounds(), out::add);
        return new ShardSnapshot(state.bounds(), state.appliedIndex(), state.pendingMerge(), out);
    }

    /** An entry that carries no shard command (a no-op or a membership change) was applied. */
    public void skip(long index) {
        advanceTo(index);
    }

    /** Decodes and applies the command entry at {@code index}; undecodable bytes are refused, changing nothing. */
    public ShardResult apply(long index, byte[] data) {
        ShardCommand command;
        try {
            command = ShardCodec.decodeCommand(data);
        } catch (MalformedShardData e) {
            advanceTo(index);
            return new ShardResult.Rejected(Code.MALFORMED_COMMAND, e.getMessage());
        }
        return apply(index, command);
    }

    /** Applies the command at {@code index}, the next index after the applied one. */
    public ShardResult apply(long index, ShardCommand command) {
        advanceTo(index);
        return switch (command) {
            case ShardCommand.Put c -> write(c, c.key(), () -> store.put(c.key(), c.value()));
            case ShardCommand.Delete c -> write(c, c.key(), () -> store.delete(c.key()));
            case ShardCommand.Get c -> route(c, c.key()).orElseGet(() -> new ShardResult.Value(store.get(c.key())));
            case ShardCommand.Scan c -> scan(c);
            case ShardCommand.Split c -> split(c);
            case ShardCommand.PrepareMerge c -> prepareMerge(c);
            case ShardCommand.CommitMerge c -> commitMerge(c);
        };
    }

    /**
     * Whether this replica would refuse {@code command} now (the answer it would give), for a
     * driver that turns a request away before proposing it. Applying decides; this only saves a
     * round through the log.
     */
    public Optional<ShardResult> route(ShardCommand command) {
        return switch (command) {
            case ShardCommand.Put c -> route(c, c.key());
            case ShardCommand.Delete c -> route(c, c.key());
            case ShardCommand.Get c -> route(c, c.key());
            case ShardCommand.Scan c -> route(c, bounds.isHash() ? null : c.range().start());
            case ShardCommand.Split c -> admin(c);
            case ShardCommand.PrepareMerge c -> admin(c);
            case ShardCommand.CommitMerge c -> admin(c);
        };
    }

    // ---------------------------------------------------------------- data commands

    private ShardResult write(ShardCommand c, Key key, Runnable effect) {
        Optional<ShardResult> refused = route(c, key);
        if (refused.isPresent()) {
            return refused.get();
        }
        effect.run();
        return new ShardResult.Written();
    }

    /** The route check of a data command: not frozen, this shard, this range version, a key of the span. */
    private Optional<ShardResult> route(ShardCommand c, Key key) {
        if (pendingMerge != null && !mutations.contains(ReplicaMutation.MERGE_WITHOUT_FREEZE)) {
            return Optional.of(new ShardResult.ShardMoved(bounds, pendingMerge.target()));
        }
        if (!c.shard().equals(bounds.shard())) {
            return Optional.of(new ShardResult.ShardMoved(bounds, null));
        }
        if (mutations.contains(ReplicaMutation.IGNORE_EPOCH)) {
            return Optional.empty(); // MUTATION IGNORE_EPOCH: no epoch or span check
        }
        if (c.epoch().rangeVersion() != bounds.epoch().rangeVersion()) {
            return Optional.of(new ShardResult.StaleEpoch(bounds));
        }
        if (key != null && !bounds.contains(key)) {
            return Optional.of(new ShardResult.ShardMoved(bounds, null));
        }
        return Optional.empty();
    }

    private ShardResult scan(ShardCommand.Scan c) {
        Optional<ShardResult> refused = route(c, bounds.isHash() ? null : c.range().start());
        if (refused.isPresent()) {
            return refused.get();
        }
        KeyRange range = c.range();
        if (bounds.span() instanceof KeyRange own && !mutations.contains(ReplicaMutation.IGNORE_EPOCH)
                && own.end().compareTo(range.end()) < 0) {
            List<KeyValue> rows = store.scan(new KeyRange(range.start(), own.end()), c.limit());
            return new ShardResult.Rows(rows, rows.size() == c.limit() ? rows.getLast().key().successor() : own.end());
        }
        if (!bounds.isHash()) {
            List<KeyValue> rows = store.scan(range, c.limit());
            return new ShardResult.Rows(rows, rows.size() == c.limit() ? rows.getLast().key().successor() : null);
        }
        // A hash shard's keys are scattered over the key space: page through the range, keep its own.
        var rows = new ArrayList<KeyValue>();
        Key from = range.start();
        while (rows.size() < c.limit()) {
            List<KeyValue> page = store.scan(new KeyRange(from, range.end()), PAGE_ROWS);
            for (KeyValue kv : page) {
                if (rows.size() < c.limit() && bounds.contains(kv.key())) {
                    rows.add(kv);
                }
            }
            if (page.size() < PAGE_ROWS) {
                return new ShardResult.Rows(rows, null);
            }
            from = page.getLast().key().successor();
            if (from.compareTo(range.end()) >= 0) {
                return new ShardResult.Rows(rows, null);
            }
        }
        return new ShardResult.Rows(rows, rows.getLast().key().successor());
    }

    // ---------------------------------------------------------------- admin commands

    /** The check every admin command passes first: this shard, not frozen, the range version planned against. */
    private Optional<ShardResult> admin(ShardCommand c) {
        if (!c.shard().equals(bounds.shard())) {
            return Optional.of(new ShardResult.ShardMoved(bounds, null));
        }
        if (c.epoch().rangeVersion() != bounds.epoch().rangeVersion()) {
            return Optional.of(new ShardResult.StaleEpoch(bounds));
        }
        if (pendingMerge != null) {
            return Optional.of(c instanceof ShardCommand.PrepareMerge p && p.target().equals(pendingMerge.target())
                    ? new ShardResult.MergePrepared(pendingMerge)
                    : new ShardResult.Rejected(Code.FROZEN, bounds.shard() + " is frozen for a merge into "
                    + pendingMerge.target()));
        }
        return Optional.empty();
    }

    private ShardResult split(ShardCommand.Split c) {
        Optional<ShardResult> refused = admin(c);
        if (refused.isPresent()) {
            return refused.get();
        }
        ShardSpan lower;
        ShardSpan upper;
        switch (bounds.span()) {
            case KeyRange r when c.at() instanceof SplitPoint.AtKey(Key k) && r.contains(k) && !k.equals(r.start()) -> {
                lower = new KeyRange(r.start(), k);
                upper = new KeyRange(k, r.end());
            }
            case HashSlots h when c.at() instanceof SplitPoint.AtSlot(int slot)
                    && !h.below(slot).isEmpty() && !h.atOrAbove(slot).isEmpty() -> {
                lower = h.below(slot);
                upper = h.atOrAbove(slot);
            }
            default -> {
                return new ShardResult.Rejected(Code.BAD_SPLIT, c.at() + " is not strictly inside " + bounds);
            }
        }
        ShardEpoch next = c.epoch().nextRange();
        ShardBounds child = new ShardBounds(c.child(), upper, next, bounds.slotCount());
        var rows = new ArrayList<KeyValue>();
        forEachRow(child, rows::add);
        // The new shard starts from exactly this replica's rows at this log position; they leave this store.
        if (upper instanceof KeyRange r) {
            store.deleteRange(r);
        } else {
            rows.forEach(kv -> store.delete(kv.key()));
        }
        bounds = bounds.with(lower, next);
        return new ShardResult.Split(bounds, new ShardSnapshot(child, INITIAL_INDEX, null, rows));
    }

    private ShardResult prepareMerge(ShardCommand.PrepareMerge c) {
        Optional<ShardResult> refused = admin(c);
        if (refused.isPresent()) {
            return refused.get();
        }
        pendingMerge = new PendingMerge(c.target(), c.targetEpoch());
        return new ShardResult.MergePrepared(pendingMerge);
    }

    private ShardResult commitMerge(ShardCommand.CommitMerge c) {
        Optional<ShardResult> refused = admin(c);
        if (refused.isPresent()) {
            return refused.get();
        }
        ShardSnapshot source = c.source();
        PendingMerge pm = source.pendingMerge();
        ShardBounds sb = source.bounds();
        if (pm == null || !pm.target().equals(bounds.shard())
                || pm.targetEpoch().rangeVersion() != bounds.epoch().rangeVersion()) {
            return new ShardResult.Rejected(Code.BAD_MERGE, sb + " is not frozen for a merge into " + bounds);
        }
        if (sb.epoch().rangeVersion() != c.sourceEpoch().rangeVersion() || sb.slotCount() != bounds.slotCount()) {
            return new ShardResult.Rejected(Code.BAD_MERGE, sb + " is not the source at " + c.sourceEpoch());
        }
        if (source.dataBytes() > MERGE_BYTES_MAX) {
            return new ShardResult.Rejected(Code.BAD_MERGE, sb + " holds more than " + MERGE_BYTES_MAX + " bytes");
        }
        ShardSpan joined = join(bounds.span(), sb.span());
        if (joined == null) {
            return new ShardResult.Rejected(Code.BAD_MERGE, sb.span() + " does not join " + bounds.span());
        }
        for (KeyValue kv : source.rows()) {
            store.put(kv.key(), kv.value());
        }
        bounds = bounds.with(joined, ShardEpoch.merged(c.epoch(), c.sourceEpoch()));
        return new ShardResult.Merged(bounds);
    }

    /** Adjacent key ranges, or disjoint slot sets, joined; null if they do not join. */
    private static ShardSpan join(ShardSpan a, ShardSpan b) {
        if (a instanceof KeyRange l && b instanceof KeyRange r) {
            if (l.end().equals(r.start())) {
                return new KeyRange(l.start(), r.end());
            }
            return r.end().equals(l.start()) ? new KeyRange(r.start(), l.end()) : null;
        }
        if (a instanceof HashSlots l && b instanceof HashSlots r) {
            return l.plus(r).slotCount() == l.slotCount() + r.slotCount() ? l.plus(r) : null;
        }
        return null;
    }

    // ---------------------------------------------------------------- helpers

    private void advanceTo(long index) {
        check(index == appliedIndex + 1, "a shard replica applies entries in order without gaps: %d after %d",
                index, appliedIndex);
        appliedIndex = index;
    }

    /** Every row of the store inside {@code b}, in key order, a page at a time. */
    private void forEachRow(ShardBounds b, Consumer<KeyValue> action) {
        forEachRow(store, b, action);
    }

    private static void forEachRow(ShardStore store, ShardBounds b, Consumer<KeyValue> action) {
        KeyRange range = b.span() instanceof KeyRange r ? r : KeyRange.ALL;
        Key from = range.start();
        while (true) {
            List<KeyValue> page = store.scan(new KeyRange(from, range.end()), PAGE_ROWS);
            for (KeyValue kv : page) {
                if (b.contains(kv.key())) {
                    action.accept(kv);
                }
            }
            if (page.size() < PAGE_ROWS) {
                return;
            }
            from = page.getLast().key().successor();
            if (from.compareTo(range.end()) >= 0) {
                return;
            }
        }
    }

    @Override
    public String toString() {
        return "ShardReplica{" + bounds + " applied=" + appliedIndex
                + (pendingMerge == null ? "" : " merging into " + pendingMerge.target()) + "}";
    }
}
