package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.proto.shardmap.KeyspaceSpecRecord;
import dev.atoll.proto.shardmap.ShardChangeRecord;
import dev.atoll.proto.shardmap.ShardNodeChange;
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
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every shard change, spec and descriptor survives the trip through protobuf unchanged. */
class ShardCodecTest {
    private static final ShardId S1 = ShardId.of(1);
    private static final ShardId S2 = ShardId.of(2);
    private static final ShardEpoch E = new ShardEpoch(3, 4);
    private static final NodeId N1 = NodeId.of("n1");
    private static final NodeId N2 = NodeId.of("n2");

    @Test
    void everyKindOfChangeRoundTrips() {
        List<ShardChange> changes = List.of(
                new ShardChange.CreateKeyspace(KeyspaceSpec.hash("carts", 2, 2), List.of(List.of(N1, N2), List.of(N2))),
                new ShardChange.CreateKeyspace(new KeyspaceSpec("geo1",
                        new Sharding.Geo((byte) '/', List.of("eu", "us"), "us"), 3, 1, Placement.ANYWHERE),
                        List.of(List.of(N1))),
                new ShardChange.CreateKeyspace(new KeyspaceSpec("dir", new Sharding.Directory(), 1, 2,
                        Placement.replicaPerRegion(List.of("r1"))), List.of(List.of(N1), List.of(N2))),
                new ShardChange.AddLearner(S1, E, N1),
                new ShardChange.PromoteLearner(S1, E, N1),
                new ShardChange.RemoveReplica(S1, E, N2),
                new ShardChange.TransferLeader(S1, E, N2),
                new ShardChange.Split(S1, E, new SplitPoint.AtKey(Key.utf8("m"))),
                new ShardChange.Split(S1, E, new SplitPoint.AtSlot(77)),
                new ShardChange.Merge(S1, E, S2, ShardEpoch.INITIAL),
                new ShardChange.LeaderObserved(S2, N1),
                new ShardChange.AddShard("carts", List.of(N1, N2)),
                new ShardChange.MoveSlots(S1, E, S2, ShardEpoch.INITIAL,
                        new HashSlots(List.of(new SlotRange(0, 10), new SlotRange(20, 21)))),
                new ShardChange.PutDirectoryEntry("dir", new Directory.Prefix(Key.utf8("tenant/")), S2),
                new ShardChange.RemoveDirectoryEntry("dir", new Directory.Exact(Key.utf8("k"))));

        for (ShardChange c : changes) {
            assertThat(ShardCodec.decode(ShardCodec.encode(c))).as(c.toString()).isEqualTo(c);
        }
    }

    @Test
    void descriptorsOfEverySpanRoundTrip() {
        List<ShardSpan> spans = List.of(KeyRange.ALL, new KeyRange(Key.utf8("a"), Key.utf8("b")),
                new KeyRange(Key.MIN, Key.utf8("q")), HashSlots.NONE, HashSlots.of(new SlotRange(5, 9)),
                new ShardSpan.Directed());
        for (ShardSpan span : spans) {
            var d = new ShardDescriptor(S2, "ks", span, List.of(Replica.voter(N1), Replica.learner(N2)), N1, E);
            assertThat(ShardCodec.decode(ShardCodec.encode(d))).isEqualTo(d);
        }
        var noLeader = new ShardDescriptor(S1, "ks", KeyRange.ALL, List.of(Replica.voter(N1)), null, E);
        assertThat(ShardCodec.decode(ShardCodec.encode(noLeader))).isEqualTo(noLeader);
    }

    @Test
    void aSpecTheDomainRefusesIsMalformedWithTheReason() {
        var badName = ShardCodec.encode(KeyspaceSpec.range("ok", 1)).toBuilder().setName("Bad Name").build();
        assertThatThrownBy(() -> ShardCodec.decode(badName)).isInstanceOf(ShardCodec.MalformedShardRecord.class)
                .hasMessageContaining("keyspace name");
        assertThatThrownBy(() -> ShardCodec.decode(KeyspaceSpecRecord.newBuilder().setName("x").build()))
                .isInstanceOf(ShardCodec.MalformedShardRecord.class).hasMessageContaining("sharding");
    }

    @Test
    void aChangeWithMissingPartsIsMalformed() {
        assertThatThrownBy(() -> ShardCodec.decode(ShardChangeRecord.getDefaultInstance()))
                .isInstanceOf(ShardCodec.MalformedShardRecord.class);
        var noNode = ShardChangeRecord.newBuilder().setAddLearner(ShardNodeChange.newBuilder().setShard(1)
                .setEpoch(ShardCodec.encode(E))).build();
        assertThatThrownBy(() -> ShardCodec.decode(noNode)).isInstanceOf(ShardCodec.MalformedShardRecord.class);
        var zeroEpoch = ShardChangeRecord.newBuilder().setAddLearner(ShardNodeChange.newBuilder().setShard(1)
                .setNode("n1")).build();
        assertThatThrownBy(() -> ShardCodec.decode(zeroEpoch)).isInstanceOf(ShardCodec.MalformedShardRecord.class);
    }
}
