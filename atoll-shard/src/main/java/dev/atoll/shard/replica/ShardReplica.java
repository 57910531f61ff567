package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
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
import java.util.function.Predicate;

import static dev.atoll.core.Check.check;

/**
 * The state machine of one shard's Raft group, as each replica applies it, entry by entry:
 * reads and writes inside its span, splits, the two steps of a merge, the steps of a data move,
 * snapshots. Deterministic:
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
    /** Keys handed off to other shards whose rows are still here (data moves in flight), in command order. */
    private List<Handoff> handoffs = List.of();
    /** Keys being taken over from other shards, refused until their rows arrived. */
    private List<Intake> intakes = List.of();

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
        r.handoffs = state.handoffs();
        r.intakes = state.intakes();
        return r;
    }

    /** The replica's state without its rows (bounds, applied index, merge and move state), for {@link #resume}. */
    public ShardSnapshot state() {
        return new ShardSnapshot(bounds, appliedIndex, pendingMerge, handoffs, intakes, List.of());
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

    /** The keys handed off whose rows this replica still keeps, one entry per target and relocation. */
    public List<Handoff> handoffs() {
        return handoffs;
    }

    /** The keys being taken over whose rows have not all arrived, one entry per source and relocation. */
    public List<Intake> intakes() {
        return intakes;
    }

    /** Whether this replica serves {@code key} now: inside its bounds, neither handed off nor still arriving. */
    public boolean serves(Key key) {
        return serves(bounds, handoffs, intakes, key);
    }

    /** {@link #serves(Key)} for a replica with these bounds and moves. */
    public static boolean serves(ShardBounds bounds, List<Handoff> handoffs, List<Intake> intakes, Key key) {
        if (!bounds.contains(key)) {
            return false;
        }
        for (Handoff h : handoffs) {
            if (h.contains(key)) {
                return false;
            }
        }
        for (Intake i : intakes) {
            if (i.contains(key)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The rows of {@code relocation}'s keys handed off to {@code target} in [{@code from}, END),
     * in key order, until about {@code bytesMax} bytes of keys and values (at least one row when
     * there is one); with where the next chunk resumes (END when these were the last). Empty when
     * this replica has no such handoff (it has not applied the HandOff, or released it).
     */
    public static Optional<Chunk> handedOffRows(ShardSnapshot state, ShardStore rows, long relocation, ShardId target,
                                                Key from, long bytesMax) {
        Optional<Handoff> handoff = state.handoffs().stream()
                .filter(h -> h.relocation() == relocation && h.target().equals(target)).findFirst();
        if (handoff.isEmpty()) {
            return Optional.empty();
        }
        KeyRange scan = null;
        for (MovedKeys k : handoff.get().keys()) {
            KeyRange r = k.scanRange();
            scan = scan == null ? r : new KeyRange(min(scan.start(), r.start()), max(scan.end(), r.end()));
        }
        if (from.compareTo(scan.start()) > 0) {
            if (from.compareTo(scan.end()) >= 0) {
                return Optional.of(new Chunk(List.of(), Key.END));
            }
            scan = new KeyRange(from, scan.end());
        }
        var out = new ArrayList<KeyValue>();
        long[] bytes = {0};
        Key[] resume = {Key.END};
        forEachRow(rows, scan, handoff.get()::contains, kv -> {
            if (bytes[0] >= bytesMax) {
                if (resume[0].isEnd()) {
                    resume[0] = kv.key();
                }
                return false;
            }
            out.add(kv);
            bytes[0] += kv.key().lengthBytes() + kv.value().length;
            return true;
        });
        return Optional.of(new Chunk(out, resume[0]));
    }

    /** Rows handed off, in key order, and where the next chunk resumes (END: none left). */
    public record Chunk(List<KeyValue> rows, Key resumeAt) {
        public Chunk {
            rows = List.copyOf(rows);
        }
    }

    private static Key min(Key a, Key b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Key max(Key a, Key b) {
        return a.compareTo(b) >= 0 ? a : b;
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
        handoffs = snapshot.handoffs();
        intakes = snapshot.intakes();
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
        KeyRange range = state.bounds().span() instanceof KeyRange r && state.handoffs().isEmpty() ? r : KeyRange.ALL;
        forEachRow(rows, range, k -> ShardSnapshot.holds(state.bounds(), state.handoffs(), k), kv -> out.add(kv) || true);
        return new ShardSnapshot(state.bounds(), state.appliedIndex(), state.pendingMerge(), state.handoffs(),
                state.intakes(), out);
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
            case ShardCommand.HandOff c -> handOff(c);
            case ShardCommand.Receive c -> receive(c);
            case ShardCommand.TakeOver c -> takeOver(c);
            case ShardCommand.Release c -> release(c);
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
            case ShardCommand.HandOff c -> moveStep(c);
            case ShardCommand.Receive c -> moveStep(c);
            case ShardCommand.TakeOver c -> moveStep(c);
            case ShardCommand.Release c -> moveStep(c);
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
        if (key != null) {
            // keys in flight: handed off (their target serves them once it has their rows), or still arriving
            for (Handoff h : handoffs) {
                if (h.contains(key)) {
                    return Optional.of(new ShardResult.ShardMoved(bounds, h.target()));
                }
            }
            for (Intake i : intakes) {
                if (i.contains(key)) {
                    return Optional.of(new ShardResult.ShardMoved(bounds, null));
                }
            }
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
        if (movesOverlap(range)) {
            // part of the range is in flight to or from another shard: no answer would hold every key once
            return new ShardResult.ShardMoved(bounds, null);
        }
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
        if (!handoffs.isEmpty() || !intakes.isEmpty()) {
            return Optional.of(new ShardResult.Rejected(Code.MOVING, bounds.shard() + " has keys moving to or from"
                    + " another shard"));
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

    // ---------------------------------------------------------------- data moves

    /** The check every data move step passes first: this shard, the range version planned against, not frozen. */
    private Optional<ShardResult> moveStep(ShardCommand c) {
        if (!c.shard().equals(bounds.shard())) {
            return Optional.of(new ShardResult.ShardMoved(bounds, null));
        }
        if (c.epoch().rangeVersion() != bounds.epoch().rangeVersion()) {
            return Optional.of(new ShardResult.StaleEpoch(bounds));
        }
        if (pendingMerge != null) {
            return Optional.of(new ShardResult.Rejected(Code.FROZEN, bounds.shard() + " is frozen for a merge into "
                    + pendingMerge.target()));
        }
        return Optional.empty();
    }

    private ShardResult handOff(ShardCommand.HandOff c) {
        return relocate(c, c.next(), c.handoffs().stream().map(Handoff::keys).toList(), false, () -> {
            var next = new ArrayList<>(handoffs);
            next.addAll(c.handoffs());
            handoffs = List.copyOf(next);
        });
    }

    private ShardResult receive(ShardCommand.Receive c) {
        return relocate(c, c.next(), c.intakes().stream().map(Intake::keys).toList(), true, () -> {
            var next = new ArrayList<>(intakes);
            next.addAll(c.intakes());
            intakes = List.copyOf(next);
        });
    }

    /**
     * The first step of a data move on either side: {@code keys} leave (or join) the span, the
     * epoch becomes {@code next} and {@code record} notes the keys in flight; nothing changes when
     * a check fails.
     */
    private ShardResult relocate(ShardCommand c, ShardEpoch next, List<List<MovedKeys>> keys, boolean joining,
                                 Runnable record) {
        Optional<ShardResult> refused = moveStep(c);
        if (refused.isPresent()) {
            return refused.get();
        }
        if (!handoffs.isEmpty() || !intakes.isEmpty()) {
            // one relocation at a time, as for a split or merge: a Receive of keys still handed off
            // would have them deleted by the older Release, a HandOff of keys still arriving would
            // give rows that are not here yet
            return new ShardResult.Rejected(Code.MOVING, bounds.shard() + " has keys moving to or from another shard");
        }
        ShardSpan span = bounds.span();
        for (List<MovedKeys> part : keys) {
            for (MovedKeys k : part) {
                ShardSpan moved = withMoved(span, k, joining);
                if (moved == null) {
                    return new ShardResult.Rejected(Code.BAD_MOVE, k + (joining ? " cannot join " : " is not held by ")
                            + bounds);
                }
                span = moved;
            }
        }
        record.run();
        bounds = bounds.with(span, next);
        return new ShardResult.Relocated(bounds, true);
    }

    /**
     * {@code span} once {@code keys} leave it (or join it): hash slots leave or join the shard's
     * slots; a key range stays (a directory shard's replica spans every key, the table routes).
     * Null when the keys do not fit: slots the shard does not hold (or already holds), slots of
     * another slot count, a key range for a hash shard.
     */
    private ShardSpan withMoved(ShardSpan span, MovedKeys keys, boolean joining) {
        return switch (keys) {
            case MovedKeys.Slots s -> {
                if (!(span instanceof HashSlots own) || s.slotCount() != bounds.slotCount()) {
                    yield null;
                }
                if (joining) {
                    yield own.plus(s.slots()).slotCount() == own.slotCount() + s.slots().slotCount()
                            ? own.plus(s.slots()) : null;
                }
                yield own.containsAll(s.slots()) ? own.minus(s.slots()) : null;
            }
            case MovedKeys.Range r -> span instanceof KeyRange own && own.contains(r.range()) ? span : null;
            case MovedKeys.HashedRange r -> span instanceof KeyRange own && own.contains(r.range()) ? span : null;
        };
    }

    private ShardResult takeOver(ShardCommand.TakeOver c) {
        Optional<ShardResult> refused = moveStep(c);
        if (refused.isPresent()) {
            return refused.get();
        }
        int at = -1;
        for (int i = 0; i < intakes.size(); i++) {
            if (intakes.get(i).relocation() == c.relocation() && intakes.get(i).source().equals(c.source())) {
                at = i;
            }
        }
        if (at < 0) {
            return new ShardResult.Rejected(Code.BAD_MOVE, bounds.shard() + " takes nothing over from " + c.source()
                    + " in relocation " + c.relocation());
        }
        Intake intake = intakes.get(at);
        if (!intake.resumeAt().equals(c.from())) {
            return new ShardResult.Rejected(Code.BAD_MOVE, "a chunk from " + c.from() + ", the intake resumes at "
                    + intake.resumeAt());
        }
        for (KeyValue kv : c.rows()) {
            if (!intake.contains(kv.key())) {
                return new ShardResult.Rejected(Code.BAD_MOVE, kv.key() + " is not one of the keys taken over");
            }
        }
        for (KeyValue kv : c.rows()) {
            store.put(kv.key(), kv.value());
        }
        var next = new ArrayList<>(intakes);
        if (c.resumeAt().isEnd()) {
            next.remove(at);
        } else {
            next.set(at, intake.resumingAt(c.resumeAt()));
        }
        intakes = List.copyOf(next);
        return new ShardResult.Relocated(bounds, intakes.stream().anyMatch(i -> i.relocation() == c.relocation()));
    }

    private ShardResult release(ShardCommand.Release c) {
        Optional<ShardResult> refused = moveStep(c);
        if (refused.isPresent()) {
            return refused.get();
        }
        List<Handoff> released = handoffs.stream().filter(h -> h.relocation() == c.relocation()).toList();
        if (released.isEmpty()) {
            return new ShardResult.Rejected(Code.BAD_MOVE, bounds.shard() + " holds nothing handed off in relocation "
                    + c.relocation());
        }
        // every read first, then the deletes: a driver's store may hold writes back until the entry is done
        var ranges = new ArrayList<KeyRange>();
        var gone = new ArrayList<Key>();
        for (Handoff h : released) {
            for (MovedKeys k : h.keys()) {
                if (k instanceof MovedKeys.Range r) {
                    ranges.add(r.range());
                } else {
                    forEachRow(store, k.scanRange(), k::contains, kv -> gone.add(kv.key()));
                }
            }
        }
        ranges.forEach(store::deleteRange);
        gone.forEach(store::delete);
        handoffs = handoffs.stream().filter(h -> h.relocation() != c.relocation()).toList();
        return new ShardResult.Relocated(bounds, false);
    }

    /** Whether keys in flight (handed off or arriving) may lie in {@code range}. */
    private boolean movesOverlap(KeyRange range) {
        return movesOverlap(handoffs, intakes, range);
    }

    /** Whether keys of {@code handoffs} or {@code intakes} may lie in {@code range}. */
    public static boolean movesOverlap(List<Handoff> handoffs, List<Intake> intakes, KeyRange range) {
        for (Handoff h : handoffs) {
            for (MovedKeys k : h.keys()) {
                if (k.scanRange().overlaps(range)) {
                    return true;
                }
            }
        }
        for (Intake i : intakes) {
            for (MovedKeys k : i.keys()) {
                if (k.scanRange().overlaps(range)) {
                    return true;
                }
            }
        }
        return false;
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
        KeyRange range = b.span() instanceof KeyRange r ? r : KeyRange.ALL;
        forEachRow(store, range, b::contains, kv -> {
            action.accept(kv);
            return true;
        });
    }

    /**
     * Every row of {@code range} whose key passes {@code keep}, in key order, a page at a time,
     * until {@code action} answers false.
     */
    private static void forEachRow(ShardStore store, KeyRange range, Predicate<Key> keep,
                                   Predicate<KeyValue> action) {
        Key from = range.start();
        while (true) {
            List<KeyValue> page = store.scan(new KeyRange(from, range.end()), PAGE_ROWS);
            for (KeyValue kv : page) {
                if (keep.test(kv.key()) && !action.test(kv)) {
                    return;
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
