package dev.atoll.shard;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;
import static dev.atoll.core.Check.checkArgument;

/**
 * A directory keyspace's routing table: exact keys and key prefixes mapped to shards, and a
 * default rule for the rest (a jump hash over the default shards). An exact entry beats any
 * prefix; a longer prefix beats a shorter one. Immutable; {@link #put} and {@link #remove}
 * return the edited table and the {@link DataMove}s that make the data follow the table.
 */
public final class Directory {
    public static final int ENTRIES_MAX = 65536;
    public static final int ENTRY_KEY_BYTES_MAX = 1024;

    /** What an entry matches. */
    public sealed interface Match permits Exact, Prefix {
        /** Every key the entry matches. */
        KeyRange range();
    }

    /** One key. */
    public record Exact(Key key) implements Match {
        public Exact {
            Objects.requireNonNull(key, "key");
            checkArgument(!key.isEnd(), "END is not a key");
        }

        @Override
        public KeyRange range() {
            return KeyRange.ofKey(key);
        }
    }

    /** Every key starting with {@code prefix}; never empty (that is the default rule's job). */
    public record Prefix(Key prefix) implements Match {
        public Prefix {
            Objects.requireNonNull(prefix, "prefix");
            checkArgument(!prefix.isEnd() && prefix.lengthBytes() > 0, "a directory prefix is not empty");
        }

        @Override
        public KeyRange range() {
            return KeyRange.ofPrefix(prefix);
        }
    }

    /** A table after an edit, and the data moves the edit requires. */
    public record Edit(Directory directory, List<DataMove> moves) {
        public Edit {
            moves = List.copyOf(moves);
        }
    }

    private final NavigableMap<Key, ShardId> exact;
    private final NavigableMap<Key, ShardId> prefixes;
    /** Distinct prefix lengths present, longest first, with their entry counts. */
    private final NavigableMap<Integer, Integer> prefixLengths;
    private final List<ShardId> defaultShards;

    private Directory(NavigableMap<Key, ShardId> exact, NavigableMap<Key, ShardId> prefixes, List<ShardId> defaultShards) {
        this.exact = Collections.unmodifiableNavigableMap(exact);
        this.prefixes = Collections.unmodifiableNavigableMap(prefixes);
        var lengths = new TreeMap<Integer, Integer>(Collections.reverseOrder());
        for (Key p : prefixes.keySet()) {
            lengths.merge(p.lengthBytes(), 1, Integer::sum);
        }
        this.prefixLengths = Collections.unmodifiableNavigableMap(lengths);
        this.defaultShards = List.copyOf(defaultShards);
        check(!this.defaultShards.isEmpty(), "a directory has a default rule");
        check(exact.size() + prefixes.size() <= ENTRIES_MAX, "a directory holds at most %d entries", ENTRIES_MAX);
    }

    /** An empty table whose default rule spreads keys over {@code defaultShards} by jump hash. */
    public static Directory withDefault(List<ShardId> defaultShards) {
        checkArgument(!defaultShards.isEmpty(), "the default rule needs a shard");
        checkArgument(new TreeSet<>(defaultShards).size() == defaultShards.size(), "distinct default shards: %s",
                defaultShards);
        return new Directory(new TreeMap<>(), new TreeMap<>(), defaultShards);
    }

    public List<ShardId> defaultShards() {
        return defaultShards;
    }

    public NavigableMap<Key, ShardId> exactEntries() {
        return exact;
    }

    public NavigableMap<Key, ShardId> prefixEntries() {
        return prefixes;
    }

    public int entryCount() {
        return exact.size() + prefixes.size();
    }

    public Optional<ShardId> entry(Match match) {
        return Optional.ofNullable(switch (match) {
            case Exact e -> exact.get(e.key());
            case Prefix p -> prefixes.get(p.prefix());
        });
    }

    /** Every shard the table or its default rule can route to, sorted. */
    public SortedSet<ShardId> referencedShards() {
        var all = new TreeSet<>(defaultShards);
        all.addAll(exact.values());
        all.addAll(prefixes.values());
        return all;
    }

    /** The shard holding {@code key}: its exact entry, else its longest prefix entry, else the default rule. */
    public ShardId shardFor(Key key) {
        ShardId e = exact.get(key);
        if (e != null) {
            return e;
        }
        return longestPrefixEntry(key, key.lengthBytes()).orElseGet(() -> byDefault(key));
    }

    /** Whether no entry matches {@code key}, so the default rule routes it. */
    public boolean routesByDefault(Key key) {
        return !exact.containsKey(key) && longestPrefixEntry(key, key.lengthBytes()).isEmpty();
    }

    /** The default rule alone: jump hash of the key over the default shards. */
    public ShardId byDefault(Key key) {
        return defaultShards.get(KeyHash.jump(KeyHash.hash64(key), defaultShards.size()));
    }

    /** Routes {@code match}'s keys to {@code target}, replacing its entry if there is one. */
    public Edit put(Match match, ShardId target) {
        Objects.requireNonNull(target, "target");
        checkEntryKey(match);
        var newExact = new TreeMap<>(exact);
        var newPrefixes = new TreeMap<>(prefixes);
        switch (match) {
            case Exact e -> newExact.put(e.key(), target);
            case Prefix p -> newPrefixes.put(p.prefix(), target);
        }
        checkArgument(newExact.size() + newPrefixes.size() <= ENTRIES_MAX, "a directory holds at most %d entries",
                ENTRIES_MAX);
        var after = new Directory(newExact, newPrefixes, defaultShards);
        return new Edit(after, movesFor(match, after));
    }

    /** Drops {@code match}'s entry: its keys fall back to a shorter prefix or the default rule. */
    public Edit remove(Match match) {
        var newExact = new TreeMap<>(exact);
        var newPrefixes = new TreeMap<>(prefixes);
        switch (match) {
            case Exact e -> newExact.remove(e.key());
            case Prefix p -> newPrefixes.remove(p.prefix());
        }
        var after = new Directory(newExact, newPrefixes, defaultShards);
        return new Edit(after, movesFor(match, after));
    }

    private static void checkEntryKey(Match match) {
        Key k = switch (match) {
            case Exact e -> e.key();
            case Prefix p -> p.prefix();
        };
        checkArgument(k.lengthBytes() <= ENTRY_KEY_BYTES_MAX, "a directory entry key is at most %d bytes: %d",
                ENTRY_KEY_BYTES_MAX, k.lengthBytes());
    }

    /**
     * The moves for an edit of {@code match}: the keys whose route changed are those the entry
     * matches minus those a more specific entry claims; they all went (and now go) by the same
     * rule, this entry's or the nearest one above it. An exact key moves from the one shard that
     * held it to the one that holds it now.
     */
    private List<DataMove> movesFor(Match match, Directory after) {
        if (match instanceof Exact e) {
            // one key: one shard held it, one holds it now (the default rule hashes it to exactly one)
            ShardId from = shardFor(e.key());
            ShardId to = after.shardFor(e.key());
            return from.equals(to) ? List.of() : List.of(new DataMove(e.range(), from, to));
        }
        List<ShardId> sources = this.resolutionOf(match);
        List<ShardId> targets = after.resolutionOf(match);
        if (sources.equals(targets)) {
            return List.of();
        }
        var moves = new ArrayList<DataMove>();
        for (KeyRange piece : uncoveredPieces(match)) {
            for (ShardId source : sources) {
                for (ShardId target : targets) {
                    if (!source.equals(target)) {
                        moves.add(new DataMove(piece, source, target));
                    }
                }
            }
        }
        return moves;
    }

    /**
     * The shards the keys of {@code match} that no more specific entry claims are routed to:
     * one shard if an entry decides, else every default shard (the hash decides per key).
     */
    private List<ShardId> resolutionOf(Match match) {
        Optional<ShardId> decided = switch (match) {
            case Exact e -> Optional.ofNullable(exact.get(e.key()))
                    .or(() -> longestPrefixEntry(e.key(), e.key().lengthBytes()));
            case Prefix p -> Optional.ofNullable(prefixes.get(p.prefix()))
                    .or(() -> longestPrefixEntry(p.prefix(), p.prefix().lengthBytes() - 1));
        };
        return decided.map(List::of).orElse(defaultShards);
    }

    /** The parts of {@code match}'s range that no more specific entry (of this table) claims. */
    private List<KeyRange> uncoveredPieces(Match match) {
        if (match instanceof Exact e) {
            return List.of(e.range());
        }
        Key prefix = ((Prefix) match).prefix();
        KeyRange whole = match.range();
        var claimed = new ArrayList<KeyRange>();
        for (Key k : subMap(exact, whole).keySet()) {
            claimed.add(KeyRange.ofKey(k));
        }
        for (Key q : subMap(prefixes, whole).keySet()) {
            if (!q.equals(prefix)) {
                claimed.add(KeyRange.ofPrefix(q));
            }
        }
        claimed.sort((a, b) -> a.start().compareTo(b.start()));
        var pieces = new ArrayList<KeyRange>();
        Key cursor = whole.start();
        for (KeyRange c : claimed) {
            if (cursor.compareTo(c.start()) < 0) {
                pieces.add(new KeyRange(cursor, c.start()));
            }
            if (cursor.compareTo(c.end()) < 0) {
                cursor = c.end();
            }
        }
        if (cursor.compareTo(whole.end()) < 0) {
            pieces.add(new KeyRange(cursor, whole.end()));
        }
        return pieces;
    }

    private static NavigableMap<Key, ShardId> subMap(NavigableMap<Key, ShardId> map, KeyRange range) {
        return range.end().isEnd() ? map.tailMap(range.start(), true) : map.subMap(range.start(), true, range.end(), false);
    }

    /** The entry of the longest prefix of {@code key} that is at most {@code lengthBytesMax} long. */
    private Optional<ShardId> longestPrefixEntry(Key key, int lengthBytesMax) {
        for (Map.Entry<Integer, Integer> length : prefixLengths.tailMap(lengthBytesMax, true).entrySet()) {
            ShardId s = prefixes.get(key.prefix(length.getKey()));
            if (s != null) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Directory d && exact.equals(d.exact) && prefixes.equals(d.prefixes)
                && defaultShards.equals(d.defaultShards);
    }

    @Override
    public int hashCode() {
        return Objects.hash(exact, prefixes, defaultShards);
    }

    @Override
    public String toString() {
        return "directory{exact=" + exact + " prefixes=" + prefixes + " default=" + defaultShards + "}";
    }
}
