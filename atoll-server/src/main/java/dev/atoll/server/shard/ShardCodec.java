package dev.atoll.server.shard;

import com.google.protobuf.ByteString;
import dev.atoll.core.NodeId;
import dev.atoll.proto.shardmap.AddShardChange;
import dev.atoll.proto.shardmap.CreateKeyspaceChange;
import dev.atoll.proto.shardmap.DirectedSpan;
import dev.atoll.proto.shardmap.DirectoryEntryChange;
import dev.atoll.proto.shardmap.DirectoryEntryRecord;
import dev.atoll.proto.shardmap.DirectoryMatch;
import dev.atoll.proto.shardmap.DirectoryRecord;
import dev.atoll.proto.shardmap.DirectorySharding;
import dev.atoll.proto.shardmap.EpochRecord;
import dev.atoll.proto.shardmap.GeoSharding;
import dev.atoll.proto.shardmap.HashSharding;
import dev.atoll.proto.shardmap.HashSlotsRecord;
import dev.atoll.proto.shardmap.KeyRangeRecord;
import dev.atoll.proto.shardmap.KeyspaceSpecRecord;
import dev.atoll.proto.shardmap.LeaderObservedChange;
import dev.atoll.proto.shardmap.MergeChange;
import dev.atoll.proto.shardmap.MoveSlotsChange;
import dev.atoll.proto.shardmap.NodeList;
import dev.atoll.proto.shardmap.RangeSharding;
import dev.atoll.proto.shardmap.ReplicaRecord;
import dev.atoll.proto.shardmap.ShardChangeRecord;
import dev.atoll.proto.shardmap.ShardNodeChange;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.proto.shardmap.SlotRangeRecord;
import dev.atoll.proto.shardmap.SplitChange;
import dev.atoll.shard.Directory;
import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.KeyspaceSpec;
import dev.atoll.shard.Placement;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardChange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.Sharding;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The protobuf form of atoll-shard's records ({@code atoll/shardmap.proto}): every
 * {@link ShardChange}, descriptors, keyspace specs and directories, both ways. Decoding is
 * strict: a record that the domain types refuse (a bad name, an empty range, a missing field)
 * throws {@link MalformedShardRecord}, so the meta state machine refuses it alike on every
 * replica and the admin API answers it as bad input. Stateless and thread-safe.
 */
public final class ShardCodec {
    private ShardCodec() {
    }

    /** A record that does not decode into a valid domain value. */
    public static final class MalformedShardRecord extends RuntimeException {
        public MalformedShardRecord(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ------------------------------------------------------------------ changes

    public static ShardChangeRecord encode(ShardChange change) {
        var b = ShardChangeRecord.newBuilder();
        switch (change) {
            case ShardChange.CreateKeyspace c -> {
                var cb = CreateKeyspaceChange.newBuilder().setSpec(encode(c.spec()));
                c.voters().forEach(v -> cb.addVoters(NodeList.newBuilder().addAllNodes(names(v))));
                b.setCreateKeyspace(cb);
            }
            case ShardChange.AddLearner c -> b.setAddLearner(nodeChange(c.shard(), c.epoch(), c.node()));
            case ShardChange.PromoteLearner c -> b.setPromoteLearner(nodeChange(c.shard(), c.epoch(), c.node()));
            case ShardChange.RemoveReplica c -> b.setRemoveReplica(nodeChange(c.shard(), c.epoch(), c.node()));
            case ShardChange.TransferLeader c -> b.setTransferLeader(nodeChange(c.shard(), c.epoch(), c.node()));
            case ShardChange.Split c -> {
                var sb = SplitChange.newBuilder().setShard(c.shard().value()).setEpoch(encode(c.epoch()));
                switch (c.at()) {
                    case SplitPoint.AtKey k -> sb.setKey(ByteString.copyFrom(k.key().toBytes()));
                    case SplitPoint.AtSlot s -> sb.setSlot(s.slot());
                }
                b.setSplit(sb);
            }
            case ShardChange.Merge c -> b.setMerge(MergeChange.newBuilder().setShard(c.shard().value())
                    .setEpoch(encode(c.epoch())).setRight(c.right().value()).setRightEpoch(encode(c.rightEpoch())));
            case ShardChange.LeaderObserved c -> b.setLeaderObserved(LeaderObservedChange.newBuilder()
                    .setShard(c.shard().value()).setLeader(c.leader().value()));
            case ShardChange.AddShard c -> b.setAddShard(AddShardChange.newBuilder().setKeyspace(c.keyspace())
                    .addAllVoters(names(c.voters())));
            case ShardChange.MoveSlots c -> b.setMoveSlots(MoveSlotsChange.newBuilder().setFrom(c.from().value())
                    .setFromEpoch(encode(c.fromEpoch())).setTo(c.to().value()).setToEpoch(encode(c.toEpoch()))
                    .setSlots(encode(c.slots())));
            case ShardChange.PutDirectoryEntry c -> b.setPutDirectoryEntry(DirectoryEntryChange.newBuilder()
                    .setKeyspace(c.keyspace()).setMatch(encode(c.match())).setTarget(c.target().value()));
            case ShardChange.RemoveDirectoryEntry c -> b.setRemoveDirectoryEntry(DirectoryEntryChange.newBuilder()
                    .setKeyspace(c.keyspace()).setMatch(encode(c.match())));
        }
        return b.build();
    }

    public static ShardChange decode(ShardChangeRecord r) {
        try {
            return switch (r.getChangeCase()) {
                case CREATE_KEYSPACE -> new ShardChange.CreateKeyspace(decode(r.getCreateKeyspace().getSpec()),
                        r.getCreateKeyspace().getVotersList().stream().map(v -> nodes(v.getNodesList())).toList());
                case ADD_LEARNER -> new ShardChange.AddLearner(shard(r.getAddLearner().getShard()),
                        decode(r.getAddLearner().getEpoch()), node(r.getAddLearner().getNode()));
                case PROMOTE_LEARNER -> new ShardChange.PromoteLearner(shard(r.getPromoteLearner().getShard()),
                        decode(r.getPromoteLearner().getEpoch()), node(r.getPromoteLearner().getNode()));
                case REMOVE_REPLICA -> new ShardChange.RemoveReplica(shard(r.getRemoveReplica().getShard()),
                        decode(r.getRemoveReplica().getEpoch()), node(r.getRemoveReplica().getNode()));
                case TRANSFER_LEADER -> new ShardChange.TransferLeader(shard(r.getTransferLeader().getShard()),
                        decode(r.getTransferLeader().getEpoch()), node(r.getTransferLeader().getNode()));
                case SPLIT -> new ShardChange.Split(shard(r.getSplit().getShard()), decode(r.getSplit().getEpoch()),
                        switch (r.getSplit().getAtCase()) {
                            case KEY -> new SplitPoint.AtKey(Key.of(r.getSplit().getKey().toByteArray()));
                            case SLOT -> new SplitPoint.AtSlot(r.getSplit().getSlot());
                            case AT_NOT_SET -> throw malformed("a split names its point");
                        });
                case MERGE -> new ShardChange.Merge(shard(r.getMerge().getShard()), decode(r.getMerge().getEpoch()),
                        shard(r.getMerge().getRight()), decode(r.getMerge().getRightEpoch()));
                case LEADER_OBSERVED -> new ShardChange.LeaderObserved(shard(r.getLeaderObserved().getShard()),
                        node(r.getLeaderObserved().getLeader()));
                case ADD_SHARD -> new ShardChange.AddShard(r.getAddShard().getKeyspace(),
                        nodes(r.getAddShard().getVotersList()));
                case MOVE_SLOTS -> new ShardChange.MoveSlots(shard(r.getMoveSlots().getFrom()),
                        decode(r.getMoveSlots().getFromEpoch()), shard(r.getMoveSlots().getTo()),
                        decode(r.getMoveSlots().getToEpoch()), decode(r.getMoveSlots().getSlots()));
                case PUT_DIRECTORY_ENTRY -> new ShardChange.PutDirectoryEntry(r.getPutDirectoryEntry().getKeyspace(),
                        decode(r.getPutDirectoryEntry().getMatch()), shard(r.getPutDirectoryEntry().getTarget()));
                case REMOVE_DIRECTORY_ENTRY -> new ShardChange.RemoveDirectoryEntry(
                        r.getRemoveDirectoryEntry().getKeyspace(), decode(r.getRemoveDirectoryEntry().getMatch()));
                case CHANGE_NOT_SET -> throw malformed("a shard change names its kind");
            };
        } catch (IllegalArgumentException | NullPointerException bad) {
            throw new MalformedShardRecord("malformed shard change: " + bad.getMessage(), bad);
        }
    }

    private static ShardNodeChange nodeChange(ShardId shard, ShardEpoch epoch, NodeId node) {
        return ShardNodeChange.newBuilder().setShard(shard.value()).setEpoch(encode(epoch)).setNode(node.value())
                .build();
    }

    // ------------------------------------------------------------------ keyspaces

    public static KeyspaceSpecRecord encode(KeyspaceSpec spec) {
        var b = KeyspaceSpecRecord.newBuilder().setName(spec.name())
                .setReplicationFactor(spec.replicationFactor()).setInitialShardCount(spec.initialShardCount())
                .addAllPlacementRegions(spec.placement().regions())
                .setReplicaPerRegion(spec.placement().replicaPerRegion());
        switch (spec.sharding()) {
            case Sharding.Range r -> b.setRange(RangeSharding.getDefaultInstance());
            case Sharding.Hash h -> b.setHash(HashSharding.newBuilder().setSlotCount(h.slotCount()));
            case Sharding.Directory d -> b.setDirectory(DirectorySharding.getDefaultInstance());
            case Sharding.Geo g -> b.setGeo(GeoSharding.newBuilder().setDelimiter(g.delimiter() & 0xFF)
                    .addAllRegions(g.regions()).setHomeRegion(g.homeRegion()));
        }
        return b.build();
    }

    /** Throws MalformedShardRecord for a spec the domain refuses (its message says why). */
    public static KeyspaceSpec decode(KeyspaceSpecRecord r) {
        try {
            Sharding sharding = switch (r.getShardingCase()) {
                case RANGE -> new Sharding.Range();
                case HASH -> new Sharding.Hash(r.getHash().getSlotCount());
                case DIRECTORY -> new Sharding.Directory();
                case GEO -> {
                    if (r.getGeo().getDelimiter() > 0xFF) {
                        throw malformed("a geo delimiter is one byte: " + r.getGeo().getDelimiter());
                    }
                    yield new Sharding.Geo((byte) r.getGeo().getDelimiter(), r.getGeo().getRegionsList(),
                            r.getGeo().getHomeRegion());
                }
                case SHARDING_NOT_SET -> throw malformed("a keyspace names its sharding");
            };
            return new KeyspaceSpec(r.getName(), sharding, r.getReplicationFactor(), r.getInitialShardCount(),
                    new Placement(r.getPlacementRegionsList(), r.getReplicaPerRegion()));
        } catch (IllegalArgumentException | NullPointerException bad) {
            throw new MalformedShardRecord(bad.getMessage(), bad);
        }
    }

    /** The sharding's name as the admin API and the CLI spell it. */
    public static String shardingName(Sharding sharding) {
        return switch (sharding) {
            case Sharding.Range r -> "range";
            case Sharding.Hash h -> "hash";
            case Sharding.Directory d -> "directory";
            case Sharding.Geo g -> "geo";
        };
    }

    // ------------------------------------------------------------------ descriptors

    public static ShardRecord encode(ShardDescriptor d) {
        var b = ShardRecord.newBuilder().setId(d.id().value()).setKeyspace(d.keyspace()).setEpoch(encode(d.epoch()))
                .setLeaderHint(d.leaderHint() == null ? "" : d.leaderHint().value());
        switch (d.span()) {
            case KeyRange r -> b.setRange(encode(r));
            case HashSlots h -> b.setSlots(encode(h));
            case ShardSpan.Directed x -> b.setDirected(DirectedSpan.getDefaultInstance());
        }
        for (Replica r : d.replicas()) {
            b.addReplicas(ReplicaRecord.newBuilder().setNode(r.node().value()).setLearner(!r.isVoter()));
        }
        return b.build();
    }

    public static ShardDescriptor decode(ShardRecord r) {
        try {
            ShardSpan span = switch (r.getSpanCase()) {
                case RANGE -> decode(r.getRange());
                case SLOTS -> decode(r.getSlots());
                case DIRECTED -> new ShardSpan.Directed();
                case SPAN_NOT_SET -> throw malformed("a shard names its span");
            };
            var replicas = new ArrayList<Replica>();
            for (ReplicaRecord rr : r.getReplicasList()) {
                replicas.add(rr.getLearner() ? Replica.learner(node(rr.getNode())) : Replica.voter(node(rr.getNode())));
            }
            return new ShardDescriptor(shard(r.getId()), r.getKeyspace(), span, replicas,
                    r.getLeaderHint().isEmpty() ? null : node(r.getLeaderHint()), decode(r.getEpoch()));
        } catch (IllegalArgumentException | NullPointerException bad) {
            throw new MalformedShardRecord("malformed shard: " + bad.getMessage(), bad);
        }
    }

    public static EpochRecord encode(ShardEpoch e) {
        return EpochRecord.newBuilder().setRangeVersion(e.rangeVersion()).setConfVersion(e.confVersion()).build();
    }

    public static ShardEpoch decode(EpochRecord e) {
        return new ShardEpoch(e.getRangeVersion(), e.getConfVersion());
    }

    static KeyRangeRecord encode(KeyRange r) {
        var b = KeyRangeRecord.newBuilder().setStart(ByteString.copyFrom(r.start().toBytes()));
        if (!r.end().isEnd()) {
            b.setEnd(ByteString.copyFrom(r.end().toBytes()));
        }
        return b.build();
    }

    static KeyRange decode(KeyRangeRecord r) {
        return new KeyRange(Key.of(r.getStart().toByteArray()), r.hasEnd() ? Key.of(r.getEnd().toByteArray()) : Key.END);
    }

    static HashSlotsRecord encode(HashSlots h) {
        var b = HashSlotsRecord.newBuilder();
        h.ranges().forEach(s -> b.addRanges(SlotRangeRecord.newBuilder().setStart(s.start()).setEnd(s.end())));
        return b.build();
    }

    static HashSlots decode(HashSlotsRecord r) {
        return new HashSlots(r.getRangesList().stream().map(s -> new SlotRange(s.getStart(), s.getEnd())).toList());
    }

    // ------------------------------------------------------------------ directories

    public static DirectoryRecord encode(String keyspace, Directory d) {
        var b = DirectoryRecord.newBuilder().setKeyspace(keyspace);
        d.defaultShards().forEach(s -> b.addDefaultShards(s.value()));
        d.exactEntries().forEach((k, s) -> b.addEntries(DirectoryEntryRecord.newBuilder()
                .setMatch(encode(new Directory.Exact(k))).setShard(s.value())));
        d.prefixEntries().forEach((k, s) -> b.addEntries(DirectoryEntryRecord.newBuilder()
                .setMatch(encode(new Directory.Prefix(k))).setShard(s.value())));
        return b.build();
    }

    public static Map.Entry<String, Directory> decode(DirectoryRecord r) {
        try {
            Directory d = Directory.withDefault(r.getDefaultShardsList().stream().map(ShardId::of).toList());
            for (DirectoryEntryRecord e : r.getEntriesList()) {
                d = d.put(decode(e.getMatch()), shard(e.getShard())).directory();
            }
            return Map.entry(r.getKeyspace(), d);
        } catch (IllegalArgumentException | NullPointerException bad) {
            throw new MalformedShardRecord("malformed directory: " + bad.getMessage(), bad);
        }
    }

    static DirectoryMatch encode(Directory.Match m) {
        return switch (m) {
            case Directory.Exact e -> DirectoryMatch.newBuilder().setExact(ByteString.copyFrom(e.key().toBytes())).build();
            case Directory.Prefix p -> DirectoryMatch.newBuilder().setPrefix(ByteString.copyFrom(p.prefix().toBytes()))
                    .build();
        };
    }

    static Directory.Match decode(DirectoryMatch m) {
        return switch (m.getMatchCase()) {
            case EXACT -> new Directory.Exact(Key.of(m.getExact().toByteArray()));
            case PREFIX -> new Directory.Prefix(Key.of(m.getPrefix().toByteArray()));
            case MATCH_NOT_SET -> throw malformed("a directory entry names exact or prefix");
        };
    }

    // ------------------------------------------------------------------ small parts

    static ShardId shard(long id) {
        if (id <= 0) {
            throw new MalformedShardRecord("a shard id is positive: " + id, null);
        }
        return ShardId.of(id);
    }

    static NodeId node(String name) {
        if (name.isEmpty()) {
            throw new MalformedShardRecord("a node is named", null);
        }
        return NodeId.of(name);
    }

    static List<NodeId> nodes(List<String> names) {
        return names.stream().map(ShardCodec::node).toList();
    }

    private static List<String> names(List<NodeId> nodes) {
        return nodes.stream().map(NodeId::value).toList();
    }

    private static IllegalArgumentException malformed(String why) {
        return new IllegalArgumentException(why);
    }
}
