package dev.atoll.shard;

import dev.atoll.core.NodeId;
import dev.atoll.shard.ChangeResult.Applied;
import dev.atoll.shard.ChangeResult.Rejected;
import dev.atoll.shard.ChangeResult.StaleEpoch;
import dev.atoll.shard.ChangeResult.UnknownKeyspace;
import dev.atoll.shard.ChangeResult.UnknownShard;
import dev.atoll.shard.ShardChange.AddLearner;
import dev.atoll.shard.ShardChange.AddShard;
import dev.atoll.shard.ShardChange.CreateKeyspace;
import dev.atoll.shard.ShardChange.LeaderObserved;
import dev.atoll.shard.ShardChange.Merge;
import dev.atoll.shard.ShardChange.MoveSlots;
import dev.atoll.shard.ShardChange.PromoteLearner;
import dev.atoll.shard.ShardChange.PutDirectoryEntry;
import dev.atoll.shard.ShardChange.RemoveDirectoryEntry;
import dev.atoll.shard.ShardChange.RemoveReplica;
import dev.atoll.shard.ShardChange.Split;
import dev.atoll.shard.ShardChange.TransferLeader;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;

/**
 * The cluster's shard map: keyspaces, their shards and directory tables. Immutable and
 * versioned: {@link #apply} returns a new map with the next version, or the reason it refused
 * the change as a value. Every keyspace's shards tile it (every key in exactly one shard),
 * which is checked whenever a keyspace changes. Lookup by key is O(log n) in the keyspace's
 * shards. Safe to share between threads.
 */
public final class ShardMap {
    public static final int KEYSPACES_MAX = 4096;
    public static final int SHARDS_MAX = 1 << 20;
    /** Longest key a range shard may start at: split keys come from data and are kept in every router. */
    public static final int BOUNDARY_KEY_BYTES_MAX = 4096;

    private final long version;
    private final long nextShardId;
    private final NavigableMap<String, KeyspaceSpec> keyspaces;
    private final NavigableMap<ShardId, ShardDescriptor> shards;
    private final NavigableMap<String, Directory> directories;
    private final NavigableMap<String, Partitioner> partitioners;

    private ShardMap(long version, long nextShardId, NavigableMap<String, KeyspaceSpec> keyspaces,
                     NavigableMap<ShardId, ShardDescriptor> shards, NavigableMap<String, Directory> directories,
                     NavigableMap<String, Partitioner> partitioners) {
        this.version = version;
        this.nextShardId = nextShardId;
        this.keyspaces = Collections.unmodifiableNavigableMap(keyspaces);
        this.shards = Collections.unmodifiableNavigableMap(shards);
        this.directories = Collections.unmodifiableNavigableMap(directories);
        this.partitioners = Collections.unmodifiableNavigableMap(partitioners);
        check(keyspaces.size() <= KEYSPACES_MAX, "at most %d keyspaces", KEYSPACES_MAX);
        check(shards.size() <= SHARDS_MAX, "at most %d shards", SHARDS_MAX);
        check(shards.isEmpty() || shards.lastKey().value() < nextShardId, "shard ids are allocated below %d",
                nextShardId);
        check(partitioners.keySet().equals(keyspaces.keySet()), "every keyspace has a partitioner");
    }

    public static ShardMap empty() {
        return new ShardMap(0, 1, new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
    }

    /**
     * A map rebuilt from its parts, as a snapshot of the meta group records them: the keyspaces,
     * every shard and each directory keyspace's table. Checks, as {@link #apply} does, that every
     * keyspace's shards tile it; throws {@link dev.atoll.core.InvariantViolation} otherwise.
     */
    public static ShardMap restore(long version, long nextShardId, Collection<KeyspaceSpec> keyspaces,
                                   Collection<ShardDescriptor> shards, java.util.Map<String, Directory> directories) {
        var specs = new TreeMap<String, KeyspaceSpec>();
        keyspaces.forEach(k -> specs.put(k.name(), k));
        var byId = new TreeMap<ShardId, ShardDescriptor>();
        for (ShardDescriptor s : shards) {
            check(specs.containsKey(s.keyspace()), "%s belongs to a keyspace of the map", s.id());
            check(byId.put(s.id(), s) == null, "shard %s listed once", s.id());
        }
        var dirs = new TreeMap<String, Directory>(directories);
        var partitioners = new TreeMap<String, Partitioner>();
        for (KeyspaceSpec spec : specs.values()) {
            var own = byId.values().stream().filter(s -> s.keyspace().equals(spec.name())).toList();
            partitioners.put(spec.name(), Partitioner.of(spec, own, dirs.get(spec.name())));
        }
        return new ShardMap(version, nextShardId, specs, byId, dirs, partitioners);
    }

    /**
     * This map without keyspace {@code name}, its shards and its directory, at the next version;
     * {@link ChangeResult.UnknownKeyspace} if there is no such keyspace. Shard ids are never
     * reused, so the dropped shards' ids stay allocated.
     */
    public ChangeResult dropKeyspace(String name) {
        if (!keyspaces.containsKey(name)) {
            return new UnknownKeyspace(name);
        }
        var nextKeyspaces = new TreeMap<>(keyspaces);
        nextKeyspaces.remove(name);
        var nextShards = new TreeMap<>(shards);
        var removed = new ArrayList<ShardId>();
        for (ShardDescriptor s : shards.values()) {
            if (s.keyspace().equals(name)) {
                nextShards.remove(s.id());
                removed.add(s.id());
            }
        }
        var nextDirectories = new TreeMap<>(directories);
        nextDirectories.remove(name);
        var nextPartitioners = new TreeMap<>(partitioners);
        nextPartitioners.remove(name);
        var next = new ShardMap(version + 1, nextShardId, nextKeyspaces, nextShards, nextDirectories,
                nextPartitioners);
        return new Applied(next, List.of(), removed, List.of());
    }

    /** Goes up by one with every applied change. */
    public long version() {
        return version;
    }

    /** The id the next new shard will get. */
    public long nextShardId() {
        return nextShardId;
    }

    public NavigableMap<String, KeyspaceSpec> keyspaces() {
        return keyspaces;
    }

    public Optional<KeyspaceSpec> keyspace(String name) {
        return Optional.ofNullable(keyspaces.get(name));
    }

    public Optional<ShardDescriptor> shard(ShardId id) {
        return Optional.ofNullable(shards.get(id));
    }

    /** Every shard, by id. */
    public Collection<ShardDescriptor> shards() {
        return shards.values();
    }

    /** The keyspace's shards, by id. */
    public List<ShardDescriptor> shards(String keyspace) {
        return shards.values().stream().filter(s -> s.keyspace().equals(keyspace)).toList();
    }

    public Optional<Partitioner> partitioner(String keyspace) {
        return Optional.ofNullable(partitioners.get(keyspace));
    }

    public Optional<Directory> directory(String keyspace) {
        return Optional.ofNullable(directories.get(keyspace));
    }

    /** The shard holding {@code key}, or empty if there is no such keyspace. */
    public Optional<ShardDescriptor> lookup(String keyspace, Key key) {
        Partitioner p = partitioners.get(keyspace);
        if (p == null) {
            return Optional.empty();
        }
        ShardDescriptor s = shards.get(p.shardFor(key));
        check(s != null, "the partitioner of %s routes %s to a shard that exists", keyspace, key);
        return Optional.of(s);
    }

    /**
     * Whether a request for {@code key} sent to {@code shard} at {@code epoch} (from the client's
     * cached map) reached the shard that holds the key now, at the same range version.
     */
    public RouteCheck checkRoute(String keyspace, Key key, ShardId shard, ShardEpoch epoch) {
        Optional<ShardDescriptor> owner = lookup(keyspace, key);
        if (owner.isEmpty()) {
            return new RouteCheck.UnknownKeyspace(keyspace);
        }
        ShardDescriptor o = owner.get();
        boolean current = o.id().equals(shard) && o.epoch().rangeVersion() == epoch.rangeVersion();
        return current ? new RouteCheck.Current(o) : new RouteCheck.ShardMoved(o);
    }

    /** For a geo keyspace's shard, the region its replicas must live in; empty for other keyspaces. */
    public Optional<String> regionOf(ShardDescriptor shard) {
        return partitioners.get(shard.keyspace()) instanceof GeoPartitioner g
                ? Optional.of(g.regionOf(shard)) : Optional.empty();
    }

    /**
     * The spans of a new keyspace's shards. Range keyspaces with more than one shard are cut at
     * evenly spaced first bytes, a guess the split planner corrects once there is data; hash
     * keyspaces get equal runs of slots; geo keyspaces one shard per region segment.
     */
    public static List<ShardSpan> initialSpans(KeyspaceSpec spec) {
        int n = spec.initialShardCount();
        var spans = new ArrayList<ShardSpan>();
        switch (spec.sharding()) {
            case Sharding.Range r -> {
                Key start = Key.MIN;
                for (int i = 1; i < n; i++) {
                    Key boundary = Key.of(new byte[]{(byte) (i * 256 / n)});
                    spans.add(new KeyRange(start, boundary));
                    start = boundary;
                }
                spans.add(new KeyRange(start, Key.END));
            }
            case Sharding.Hash h -> {
                for (int i = 0; i < n; i++) {
                    spans.add(HashSlots.of(new SlotRange(
                            (int) ((long) i * h.slotCount() / n), (int) ((long) (i + 1) * h.slotCount() / n))));
                }
            }
            case Sharding.Directory d -> {
                for (int i = 0; i < n; i++) {
                    spans.add(new ShardSpan.Directed());
                }
            }
            case Sharding.Geo g -> {
                for (GeoRegions.Segment s : new GeoRegions(g).segments()) {
                    spans.add(s.range());
                }
            }
        }
        return spans;
    }

    /** This map with {@code change} applied, or why not. Never throws for a change that makes no sense. */
    public ChangeResult apply(ShardChange change) {
        return switch (change) {
            case CreateKeyspace c -> createKeyspace(c);
            case AddLearner c -> confChange(c.shard(), c.epoch(), c.node(), c);
            case PromoteLearner c -> confChange(c.shard(), c.epoch(), c.node(), c);
            case RemoveReplica c -> confChange(c.shard(), c.epoch(), c.node(), c);
            case TransferLeader c -> transferLeader(c);
            case Split c -> split(c);
            case Merge c -> merge(c);
            case LeaderObserved c -> leaderObserved(c);
            case AddShard c -> addShard(c);
            case MoveSlots c -> moveSlots(c);
            case PutDirectoryEntry c -> editDirectory(c.keyspace(), c.match(), c.target());
            case RemoveDirectoryEntry c -> editDirectory(c.keyspace(), c.match(), null);
        };
    }

    private ChangeResult createKeyspace(CreateKeyspace c) {
        KeyspaceSpec spec = c.spec();
        if (keyspaces.containsKey(spec.name())) {
            return new Rejected("keyspace " + spec.name() + " exists");
        }
        if (keyspaces.size() >= KEYSPACES_MAX) {
            return new Rejected("at most " + KEYSPACES_MAX + " keyspaces");
        }
        List<ShardSpan> spans = initialSpans(spec);
        if (c.voters().size() != spans.size()) {
            return new Rejected("keyspace " + spec.name() + " starts with " + spans.size() + " shards, given voters for "
                    + c.voters().size());
        }
        if (shards.size() + spans.size() > SHARDS_MAX) {
            return new Rejected("at most " + SHARDS_MAX + " shards");
        }
        var created = new ArrayList<ShardDescriptor>();
        long id = nextShardId;
        for (int i = 0; i < spans.size(); i++) {
            Optional<String> bad = badVoters(c.voters().get(i), spec.replicationFactor());
            if (bad.isPresent()) {
                return new Rejected(bad.get());
            }
            created.add(new ShardDescriptor(ShardId.of(id++), spec.name(), spans.get(i),
                    c.voters().get(i).stream().map(Replica::voter).toList(), null, ShardEpoch.INITIAL));
        }
        Directory directory = spec.sharding() instanceof Sharding.Directory
                ? Directory.withDefault(created.stream().map(ShardDescriptor::id).toList()) : null;
        return new Edit(spec, directory).put(created).applied(id, List.of());
    }

    private static Optional<String> badVoters(List<NodeId> voters, int replicationFactor) {
        if (voters.isEmpty() || voters.size() > replicationFactor || new HashSet<>(voters).size() != voters.size()) {
            return Optional.of("1 to " + replicationFactor + " distinct voters: " + voters);
        }
        return Optional.empty();
    }

    /** A conf change: the epoch must be current; the conf version goes up. */
    private ChangeResult confChange(ShardId id, ShardEpoch epoch, NodeId node, ShardChange c) {
        ShardDescriptor s = shards.get(id);
        if (s == null) {
            return new UnknownShard(id);
        }
        if (!s.epoch().equals(epoch)) {
            return new StaleEpoch(s);
        }
        Optional<Replica> existing = s.replicaOn(node);
        var replicas = new ArrayList<>(s.replicas());
        NodeId leader = s.leaderHint();
        switch (c) {
            case AddLearner a -> {
                if (existing.isPresent()) {
                    return new Rejected(id + " already has a replica on " + node);
                }
                if (replicas.size() >= ShardDescriptor.REPLICAS_MAX) {
                    return new Rejected(id + " has " + ShardDescriptor.REPLICAS_MAX + " replicas");
                }
                replicas.add(Replica.learner(node));
            }
            case PromoteLearner p -> {
                if (existing.isEmpty() || existing.get().isVoter()) {
                    return new Rejected(id + " has no learner on " + node);
                }
                replicas.set(replicas.indexOf(existing.get()), Replica.voter(node));
            }
            case RemoveReplica r -> {
                if (existing.isEmpty()) {
                    return new Rejected(id + " has no replica on " + node);
                }
                if (existing.get().isVoter() && s.voters().size() == 1) {
                    return new Rejected(id + " would have no voter left");
                }
                replicas.remove(existing.get());
                if (node.equals(leader)) {
                    leader = null;
                }
            }
            default -> throw new IllegalStateException("not a conf change: " + c);
        }
        ShardDescriptor next = s.withReplicas(replicas, leader, epoch.nextConf());
        return new Edit(s.keyspace()).put(List.of(next)).applied(nextShardId, List.of());
    }

    private ChangeResult transferLeader(TransferLeader c) {
        ShardDescriptor s = shards.get(c.shard());
        if (s == null) {
            return new UnknownShard(c.shard());
        }
        if (!s.epoch().equals(c.epoch())) {
            return new StaleEpoch(s);
        }
        return setLeader(s, c.node());
    }

    private ChangeResult leaderObserved(LeaderObserved c) {
        ShardDescriptor s = shards.get(c.shard());
        return s == null ? new UnknownShard(c.shard()) : setLeader(s, c.leader());
    }

    private ChangeResult setLeader(ShardDescriptor s, NodeId leader) {
        if (!s.voters().contains(leader)) {
            return new Rejected(leader + " is not a voter of " + s.id());
        }
        return new Edit(s.keyspace()).put(List.of(s.withLeaderHint(leader))).applied(nextShardId, List.of());
    }

    private ChangeResult split(Split c) {
        ShardDescriptor s = shards.get(c.shard());
        if (s == null) {
            return new UnknownShard(c.shard());
        }
        if (!s.epoch().equals(c.epoch())) {
            return new StaleEpoch(s);
        }
        if (shards.size() >= SHARDS_MAX) {
            return new Rejected("at most " + SHARDS_MAX + " shards");
        }
        ShardSpan lower;
        ShardSpan upper;
        switch (s.span()) {
            case KeyRange r -> {
                if (!(c.at() instanceof SplitPoint.AtKey(Key k))) {
                    return new Rejected(s.id() + " holds a key range and splits at a key");
                }
                if (!r.contains(k) || k.equals(r.start())) {
                    return new Rejected("split key " + k + " is not strictly inside " + r);
                }
                if (k.lengthBytes() > BOUNDARY_KEY_BYTES_MAX) {
                    return new Rejected("split key longer than " + BOUNDARY_KEY_BYTES_MAX + " bytes");
                }
                lower = new KeyRange(r.start(), k);
                upper = new KeyRange(k, r.end());
            }
            case HashSlots h -> {
                if (!(c.at() instanceof SplitPoint.AtSlot(int slot))) {
                    return new Rejected(s.id() + " holds hash slots and splits at a slot");
                }
                HashSlots below = h.below(slot);
                HashSlots above = h.atOrAbove(slot);
                if (below.isEmpty() || above.isEmpty()) {
                    return new Rejected("split slot " + slot + " leaves one side of " + h + " empty");
                }
                lower = below;
                upper = above;
            }
            case ShardSpan.Directed d -> {
                return new Rejected("directory shards are not split; edit the directory");
            }
        }
        ShardEpoch epoch = s.epoch().nextRange();
        ShardDescriptor left = s.withSpan(lower, epoch);
        ShardDescriptor right = new ShardDescriptor(ShardId.of(nextShardId), s.keyspace(), upper, s.replicas(),
                s.leaderHint(), epoch);
        return new Edit(s.keyspace()).put(List.of(left, right)).applied(nextShardId + 1, List.of());
    }

    private ChangeResult merge(Merge c) {
        ShardDescriptor left = shards.get(c.shard());
        ShardDescriptor right = shards.get(c.right());
        if (left == null) {
            return new UnknownShard(c.shard());
        }
        if (right == null) {
            return new UnknownShard(c.right());
        }
        if (!left.epoch().equals(c.epoch())) {
            return new StaleEpoch(left);
        }
        if (!right.epoch().equals(c.rightEpoch())) {
            return new StaleEpoch(right);
        }
        if (!left.keyspace().equals(right.keyspace())) {
            return new Rejected(left.id() + " and " + right.id() + " are in different keyspaces");
        }
        if (!left.replicas().equals(right.replicas()) || !left.learners().isEmpty()) {
            return new Rejected("merge needs the same voters on the same nodes and no learners: "
                    + left.replicas() + " vs " + right.replicas());
        }
        ShardSpan merged;
        switch (left.span()) {
            case KeyRange l -> {
                KeyRange r = right.keyRange();
                if (!l.end().equals(r.start())) {
                    return new Rejected(right.id() + " does not follow " + left.id() + ": " + l + " " + r);
                }
                merged = new KeyRange(l.start(), r.end());
                if (partitioners.get(left.keyspace()) instanceof GeoPartitioner g
                        && g.regions().regionOf((KeyRange) merged).isEmpty()) {
                    return new Rejected(left.id() + " and " + right.id() + " are in different regions");
                }
            }
            case HashSlots h -> merged = h.plus(right.hashSlots());
            case ShardSpan.Directed d -> {
                return new Rejected("directory shards are not merged; edit the directory");
            }
        }
        ShardDescriptor next = left.withSpan(merged, ShardEpoch.merged(left.epoch(), right.epoch()));
        return new Edit(left.keyspace()).put(List.of(next)).remove(right.id()).applied(nextShardId, List.of());
    }

    private ChangeResult addShard(AddShard c) {
        KeyspaceSpec spec = keyspaces.get(c.keyspace());
        if (spec == null) {
            return new UnknownKeyspace(c.keyspace());
        }
        ShardSpan span = switch (spec.sharding()) {
            case Sharding.Hash h -> HashSlots.NONE;
            case Sharding.Directory d -> new ShardSpan.Directed();
            case Sharding.Range r -> null;
            case Sharding.Geo g -> null;
        };
        if (span == null) {
            return new Rejected("range and geo keyspaces grow by splitting");
        }
        Optional<String> bad = badVoters(c.voters(), spec.replicationFactor());
        if (bad.isPresent()) {
            return new Rejected(bad.get());
        }
        if (shards.size() >= SHARDS_MAX) {
            return new Rejected("at most " + SHARDS_MAX + " shards");
        }
        var created = new ShardDescriptor(ShardId.of(nextShardId), spec.name(), span,
                c.voters().stream().map(Replica::voter).toList(), null, ShardEpoch.INITIAL);
        return new Edit(spec.name()).put(List.of(created)).applied(nextShardId + 1, List.of());
    }

    private ChangeResult moveSlots(MoveSlots c) {
        ShardDescriptor from = shards.get(c.from());
        ShardDescriptor to = shards.get(c.to());
        if (from == null) {
            return new UnknownShard(c.from());
        }
        if (to == null) {
            return new UnknownShard(c.to());
        }
        if (!from.epoch().equals(c.fromEpoch())) {
            return new StaleEpoch(from);
        }
        if (!to.epoch().equals(c.toEpoch())) {
            return new StaleEpoch(to);
        }
        if (from.id().equals(to.id()) || !from.keyspace().equals(to.keyspace())
                || !(from.span() instanceof HashSlots fromSlots) || !(to.span() instanceof HashSlots toSlots)) {
            return new Rejected("slots move between two shards of one hash keyspace");
        }
        if (c.slots().isEmpty() || !fromSlots.containsAll(c.slots())) {
            return new Rejected(from.id() + " does not own all of " + c.slots());
        }
        var nextFrom = from.withSpan(fromSlots.minus(c.slots()), from.epoch().nextRange());
        var nextTo = to.withSpan(toSlots.plus(c.slots()), to.epoch().nextRange());
        return new Edit(from.keyspace()).put(List.of(nextFrom, nextTo))
                .applied(nextShardId, List.of(new DataMove(c.slots(), from.id(), to.id())));
    }

    private ChangeResult editDirectory(String keyspace, Directory.Match match, ShardId target) {
        Directory directory = directories.get(keyspace);
        if (!keyspaces.containsKey(keyspace)) {
            return new UnknownKeyspace(keyspace);
        }
        if (directory == null) {
            return new Rejected(keyspace + " is not a directory keyspace");
        }
        Directory.Edit edit;
        if (target == null) {
            if (directory.entry(match).isEmpty()) {
                return new Rejected("no directory entry " + match);
            }
            edit = directory.remove(match);
        } else {
            ShardDescriptor t = shards.get(target);
            if (t == null || !t.keyspace().equals(keyspace)) {
                return new Rejected(target + " is not a shard of " + keyspace);
            }
            Key k = match instanceof Directory.Exact e ? e.key() : ((Directory.Prefix) match).prefix();
            if (k.lengthBytes() > Directory.ENTRY_KEY_BYTES_MAX) {
                return new Rejected("a directory entry key is at most " + Directory.ENTRY_KEY_BYTES_MAX + " bytes");
            }
            if (directory.entry(match).isEmpty() && directory.entryCount() >= Directory.ENTRIES_MAX) {
                return new Rejected("a directory holds at most " + Directory.ENTRIES_MAX + " entries");
            }
            edit = directory.put(match, target);
        }
        // every shard whose keys change takes the next range version: a request routed with the table
        // before the edit is refused by the shard (stale epoch), never served from data that moved
        var touched = new TreeSet<ShardId>();
        edit.moves().forEach(m -> {
            touched.add(m.source());
            touched.add(m.target());
        });
        var bumped = touched.stream().map(shards::get).map(d -> d.withSpan(d.span(), d.epoch().nextRange())).toList();
        return new Edit(keyspaces.get(keyspace), edit.directory()).put(bumped).applied(nextShardId, edit.moves());
    }

    /** The shards and directory of one keyspace being replaced; {@link #applied} checks it still tiles. */
    private final class Edit {
        private final KeyspaceSpec spec;
        private final Directory directory;
        private final NavigableMap<ShardId, ShardDescriptor> nextShards = new TreeMap<>(shards);
        private final List<ShardDescriptor> changed = new ArrayList<>();
        private final List<ShardId> removed = new ArrayList<>();

        Edit(String keyspace) {
            this(keyspaces.get(keyspace), directories.get(keyspace));
        }

        Edit(KeyspaceSpec spec, Directory directory) {
            this.spec = spec;
            this.directory = directory;
        }

        Edit put(List<ShardDescriptor> descriptors) {
            for (ShardDescriptor d : descriptors) {
                check(d.keyspace().equals(spec.name()), "an edit stays in its keyspace");
                nextShards.put(d.id(), d);
                changed.add(d);
            }
            return this;
        }

        Edit remove(ShardId id) {
            check(nextShards.remove(id) != null, "a removed shard existed");
            removed.add(id);
            return this;
        }

        Applied applied(long nextId, List<DataMove> moves) {
            var nextKeyspaces = new TreeMap<>(keyspaces);
            nextKeyspaces.put(spec.name(), spec);
            var nextDirectories = new TreeMap<>(directories);
            if (directory != null) {
                nextDirectories.put(spec.name(), directory);
            }
            var own = nextShards.values().stream().filter(s -> s.keyspace().equals(spec.name())).toList();
            var nextPartitioners = new TreeMap<>(partitioners);
            nextPartitioners.put(spec.name(), Partitioner.of(spec, own, directory));
            var ids = new TreeSet<ShardId>();
            own.forEach(s -> ids.add(s.id()));
            check(ids.containsAll(changed.stream().map(ShardDescriptor::id).toList()), "changed shards are in the map");
            var next = new ShardMap(version + 1, nextId, nextKeyspaces, nextShards, nextDirectories, nextPartitioners);
            return new Applied(next, changed, removed, moves);
        }
    }

    @Override
    public String toString() {
        return "ShardMap{v" + version + " keyspaces=" + keyspaces.keySet() + " shards=" + shards.size() + "}";
    }
}
