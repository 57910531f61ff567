package dev.atoll.client;

import com.google.protobuf.ByteString;
import dev.atoll.proto.shardmap.EpochRecord;
import dev.atoll.proto.shardmap.HashSharding;
import dev.atoll.proto.shardmap.HashSlotsRecord;
import dev.atoll.proto.shardmap.KeyRangeRecord;
import dev.atoll.proto.shardmap.KeyspaceSpecRecord;
import dev.atoll.proto.shardmap.RangeSharding;
import dev.atoll.proto.shardmap.ShardRecord;
import dev.atoll.proto.shardmap.SlotRangeRecord;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A client's copy of a keyspace's shards: lookups, and what a "shard moved" answer changes. */
class KeyspaceRoutesTest {
    private static final KeyspaceSpecRecord RANGE = KeyspaceSpecRecord.newBuilder().setName("users")
            .setRange(RangeSharding.getDefaultInstance()).build();
    private static final KeyspaceSpecRecord HASH = KeyspaceSpecRecord.newBuilder().setName("carts")
            .setHash(HashSharding.newBuilder().setSlotCount(16)).build();

    private static ShardRecord ranged(long id, String start, String end, long rangeVersion) {
        var range = KeyRangeRecord.newBuilder().setStart(ByteString.copyFromUtf8(start));
        if (end != null) {
            range.setEnd(ByteString.copyFromUtf8(end));
        }
        return ShardRecord.newBuilder().setId(id).setKeyspace("users").setRange(range)
                .setEpoch(EpochRecord.newBuilder().setRangeVersion(rangeVersion).setConfVersion(1)).build();
    }

    private static ShardRecord slots(long id, int start, int end) {
        return slots(id, start, end, 1);
    }

    private static ShardRecord slots(long id, int start, int end, long rangeVersion) {
        return ShardRecord.newBuilder().setId(id).setKeyspace("carts")
                .setSlots(HashSlotsRecord.newBuilder().addRanges(SlotRangeRecord.newBuilder().setStart(start)
                        .setEnd(end)))
                .setEpoch(EpochRecord.newBuilder().setRangeVersion(rangeVersion).setConfVersion(1)).build();
    }

    private static String keyInSlots(int from, int to) {
        for (int i = 0; ; i++) {
            int slot = KeyHash.slot(Key.utf8("k" + i), 16);
            if (slot >= from && slot < to) {
                return "k" + i;
            }
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRangeKeyIsInTheShardWhoseSpanHoldsIt() {
        var routes = KeyspaceRoutes.of(RANGE, List.of(ranged(1, "", "m", 2), ranged(2, "m", null, 2)), 0);
        assertThat(routes.lookup(utf8("apple")).orElseThrow().getId()).isEqualTo(1);
        assertThat(routes.lookup(utf8("m")).orElseThrow().getId()).isEqualTo(2);
        assertThat(routes.lookup(utf8("\u00e9t\u00e9")).orElseThrow().getId()).isEqualTo(2);
    }

    @Test
    void aSplitNamedByShardMovedReplacesTheOldSpanAndLeavesAHoleToFetch() {
        var before = KeyspaceRoutes.of(RANGE, List.of(ranged(1, "", null, 1)), 0);

        var after = before.with(ranged(2, "m", null, 2));

        assertThat(after.lookup(utf8("x")).orElseThrow().getId()).isEqualTo(2);
        assertThat(after.lookup(utf8("a"))).as("s1's old span overlapped s2: dropped, fetched again").isEmpty();
    }

    @Test
    void anAnswerFromANodeWhoseMapIsBehindIsIgnored() {
        var routes = KeyspaceRoutes.of(RANGE, List.of(ranged(1, "", "m", 2), ranged(2, "m", null, 2)), 0);

        var after = routes.with(ranged(1, "", null, 1));

        assertThat(after.lookup(utf8("x")).orElseThrow().getId()).isEqualTo(2);
    }

    @Test
    void aHashKeyIsInTheShardOwningItsSlot() {
        var routes = KeyspaceRoutes.of(HASH, List.of(slots(1, 0, 8), slots(2, 8, 16)), 0);
        for (String k : List.of("a", "b", "cart-1", "cart-2", "{user1}.cart")) {
            int slot = KeyHash.slot(Key.utf8(k), 16);
            assertThat(routes.lookup(utf8(k)).orElseThrow().getId()).as(k).isEqualTo(slot < 8 ? 1 : 2);
        }
    }

    @Test
    void aHashSplitOrMergeNamedByShardMovedReplacesTheShardsWhoseSlotsItHolds() {
        var whole = KeyspaceRoutes.of(HASH, List.of(slots(1, 0, 16)), 0);

        // a slot split names the new shard: the old one's slots overlap it, dropped and fetched again
        var split = whole.with(slots(2, 8, 16, 2));
        assertThat(split.lookup(utf8(keyInSlots(8, 16))).orElseThrow().getId()).isEqualTo(2);
        assertThat(split.lookup(utf8(keyInSlots(0, 8)))).isEmpty();

        // a merge names the target holding both: the source is dropped with the target's old copy
        var fetched = KeyspaceRoutes.of(HASH, List.of(slots(1, 0, 8, 2), slots(2, 8, 16, 2)), 0);
        var merged = fetched.with(slots(1, 0, 16, 3));
        assertThat(merged.lookup(utf8(keyInSlots(8, 16))).orElseThrow().getId()).isEqualTo(1);
        assertThat(merged.lookup(utf8(keyInSlots(0, 8))).orElseThrow().getId()).isEqualTo(1);
    }

    @Test
    void directoryAndGeoKeyspacesAreRoutedByTheServer() {
        var directory = KeyspaceSpecRecord.newBuilder().setName("dir")
                .setDirectory(dev.atoll.proto.shardmap.DirectorySharding.getDefaultInstance()).build();
        var routes = KeyspaceRoutes.of(directory, List.of(), 0);
        assertThat(routes.kind()).isEqualTo(KeyspaceRoutes.Kind.BY_SERVER);
        assertThat(routes.lookup(utf8("k"))).isEmpty();
    }
}
