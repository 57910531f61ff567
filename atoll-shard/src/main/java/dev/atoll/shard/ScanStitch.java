package dev.atoll.shard;

import dev.atoll.shard.replica.ReplicaMutation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

/**
 * One scan of a keyspace (the keys of a range in key order, at most a limit) stitched together
 * from its shards' parts. The server's Range, the Java client and the simulator all drive this
 * code, so the simulator checks what the product does. Pure: the driver sends each part to its
 * shard and feeds the answer back; rows are of any type the driver reads a key from.
 *
 * <p>There are two ways to stitch, depending on how the keyspace is sharded ({@link #inKeyOrder}):
 * <ul>
 *   <li><b>in key order</b> (range and geo keyspaces). A cursor starts at the range's start. The
 *       shard holding the cursor is asked for the range cut to its span
 *       ({@link #nextPart}), and for as many rows as are still wanted. A part that answers fewer
 *       rows than it was asked for moves the cursor to its end. If the shard refuses the part
 *       (stale route), the driver asks again from the same cursor, re-routed by a newer map;</li>
 *   <li><b>every shard at once</b> (hash and directory keyspaces, where each shard holds keys
 *       from all over the range). Every shard of one map is asked for the whole range
 *       ({@link #everyShardPart}) and the answers are merged in key order
 *       ({@link #acceptEveryShard}). If any part is refused, the map changed and the driver
 *       asks every shard of a newer map again, dropping the answers it had: answers read
 *       under two maps could hold a moved key twice or not at all.</li>
 * </ul>
 * One more row than the limit is wanted, so {@link #more} says whether the range holds keys
 * after the last one returned.
 *
 * <p>What the answer promises, given that each shard serves its part as one linearizable read at
 * the range version the driver routed it with: the rows are in strictly increasing key order,
 * inside the range, at most the limit. Each row is its key's value at some moment between the
 * scan's start and its end. Every key the answer {@link #covers} (the whole range, or up to the
 * last row when the limit cut it) that is absent from the rows was absent at some such moment.
 * The scan as a whole is <em>not</em> a snapshot: each part is read at its own moment, so two keys
 * of different shards may be seen at different points of the scan.
 */
public final class ScanStitch<R> {
    /** One shard's part of the scan: the keys of {@code range}, at most {@code limit} rows. */
    public record Part(KeyRange range, int limit) {
        public Part {
            Objects.requireNonNull(range, "range");
            checkArgument(limit >= 1, "a part asks for at least one row: %d", limit);
        }
    }

    private final KeyRange range;
    private final int limit;
    private final Function<R, Key> keyOf;
    private final Set<ReplicaMutation> mutations;
    private final List<R> found = new ArrayList<>();
    private Key cursor;
    private boolean done;

    public ScanStitch(KeyRange range, int limit, Function<R, Key> keyOf) {
        this(range, limit, keyOf, Set.of());
    }

    /** With deliberate bugs ({@link ReplicaMutation}) for the simulator; never in production. */
    public ScanStitch(KeyRange range, int limit, Function<R, Key> keyOf, Set<ReplicaMutation> mutations) {
        this.range = Objects.requireNonNull(range, "range");
        checkArgument(limit >= 1 && limit < Integer.MAX_VALUE, "a scan limit is at least 1: %d", limit);
        this.limit = limit;
        this.keyOf = Objects.requireNonNull(keyOf, "keyOf");
        this.mutations = Set.copyOf(mutations);
        this.cursor = range.start();
    }

    /** Whether a keyspace sharded so is stitched in key order (range, geo) rather than from every shard at once. */
    public static boolean inKeyOrder(Sharding sharding) {
        return switch (sharding) {
            case Sharding.Range r -> true;
            case Sharding.Geo g -> true;
            case Sharding.Hash h -> false;
            case Sharding.Directory d -> false;
        };
    }

    public KeyRange range() {
        return range;
    }

    public int limit() {
        return limit;
    }

    /** Every part is answered: {@link #rows} and {@link #more} hold the result. */
    public boolean done() {
        return done;
    }

    /** In key order: where the next part starts; route it to the shard holding this key. */
    public Key cursor() {
        return cursor;
    }

    // ---------------------------------------------------------------- in key order

    /**
     * The next part in key order, for the shard whose span ({@code ownerSpan}) holds the
     * cursor: from the cursor to the span's end or the range's, whichever is first, for the
     * rows still wanted. Changes nothing, so a refused part is simply asked again.
     */
    public Part nextPart(KeyRange ownerSpan) {
        check(!done, "a finished scan asks for no more parts");
        checkArgument(ownerSpan.contains(cursor), "the part's shard %s holds the cursor %s", ownerSpan, cursor);
        Key end = ownerSpan.end().compareTo(range.end()) < 0 ? ownerSpan.end() : range.end();
        return new Part(new KeyRange(cursor, end), wanted() - found.size());
    }

    /** The answer to {@code part} (from {@link #nextPart}): its rows in key order, inside it, at most its limit. */
    public void accept(Part part, List<R> rows) {
        check(!done, "a finished scan takes no more answers");
        check(part.range().start().equals(cursor) && part.limit() == wanted() - found.size(),
                "the answer is to the part asked now: %s, cursor %s", part, cursor);
        checkRows(part, rows);
        found.addAll(rows);
        if (rows.size() == part.limit() || part.range().end().compareTo(range.end()) >= 0) {
            done = true;
            return;
        }
        Key next = part.range().end();
        if (mutations.contains(ReplicaMutation.SCAN_SKIPS_BOUNDARY_KEY)) {
            next = next.successor(); // MUTATION: the next shard's first possible key is never asked for
        }
        cursor = next;
        done = cursor.compareTo(range.end()) >= 0;
    }

    // ---------------------------------------------------------------- every shard at once

    /** The part every shard of the keyspace is asked for: the whole range, one row more than the limit. */
    public Part everyShardPart() {
        check(!done, "a finished scan asks for no more parts");
        return new Part(range, wanted());
    }

    /**
     * The answers of every shard of one map to {@link #everyShardPart}, each in key order; the
     * scan is then done. A key answered by two shards is a bug of the shards' routing and throws.
     */
    public void acceptEveryShard(List<List<R>> answers) {
        check(!done, "a finished scan takes no more answers");
        Part part = everyShardPart();
        var all = new ArrayList<R>();
        for (int i = 0; i < answers.size(); i++) {
            checkRows(part, answers.get(i));
            if (i == answers.size() - 1 && i > 0 && mutations.contains(ReplicaMutation.SCAN_DROPS_A_SHARD)) {
                continue; // MUTATION: the last shard's answer is left out
            }
            all.addAll(answers.get(i));
        }
        all.sort(Comparator.comparing(keyOf));
        for (int i = 1; i < all.size(); i++) {
            check(keyOf.apply(all.get(i - 1)).compareTo(keyOf.apply(all.get(i))) < 0,
                    "every key is one shard's: %s was answered by two", keyOf.apply(all.get(i)));
        }
        found.addAll(all);
        done = true;
    }

    // ---------------------------------------------------------------- the result

    /** The rows of the range in key order, at most the limit. */
    public List<R> rows() {
        check(done, "a scan has rows once done");
        return List.copyOf(found.subList(0, Math.min(limit, found.size())));
    }

    /** The range holds keys after the last row returned (the limit cut the scan). */
    public boolean more() {
        check(done, "a scan knows whether there is more once done");
        return found.size() > limit;
    }

    /**
     * Whether the answer speaks for {@code key}: it is in the range and, when the limit cut the
     * scan, not after the last row. Such a key that is not among the rows was absent when its
     * shard was read.
     */
    public boolean covers(Key key) {
        return range.contains(key) && (!more() || key.compareTo(keyOf.apply(found.get(limit - 1))) <= 0);
    }

    private int wanted() {
        return limit + 1;
    }

    private void checkRows(Part part, List<R> rows) {
        check(rows.size() <= part.limit(), "a part answers at most %d rows: %d", part.limit(), rows.size());
        Key previous = null;
        for (R row : rows) {
            Key k = keyOf.apply(row);
            check(part.range().contains(k), "a part answers keys of %s only: %s", part.range(), k);
            check(previous == null || previous.compareTo(k) < 0, "a part answers in key order: %s after %s", k,
                    previous);
            previous = k;
        }
    }

    @Override
    public String toString() {
        return "scan " + range + " limit " + limit + (done ? " done rows=" + found.size() : " at " + cursor);
    }
}
