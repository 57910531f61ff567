package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SlotRange;
import dev.atoll.shard.SplitPoint;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShardCodecTest {
    private static final ShardId S1 = ShardId.of(1);
    private static final ShardId S9 = ShardId.of(9);
    private static final ShardEpoch E = new ShardEpoch(3, 7);

    private static Key k(String s) {
        return Key.utf8(s);
    }

    private static ShardSnapshot frozenSnapshot() {
        var bounds = new ShardBounds(S9, new HashSlots(List.of(new SlotRange(2, 5), new SlotRange(9, 16))), E, 16);
        var rows = List.of(new KeyValue(Key.of(new byte[]{(byte) 0xFF, 0}), new byte[]{1, 2}));
        rows = rows.stream().filter(kv -> bounds.contains(kv.key())).toList();
        return new ShardSnapshot(bounds, 42, new PendingMerge(S1, E.nextConf()), rows);
    }

    private static List<ShardCommand> everyCommand() {
        return List.of(
                new ShardCommand.Put(S1, E, k("a"), new byte[]{0, (byte) 0xFF}),
                new ShardCommand.Put(S1, E, Key.MIN, new byte[0]),
                new ShardCommand.Delete(S1, E, k("b")),
                new ShardCommand.Get(S1, E, k("c")),
                new ShardCommand.Scan(S1, E, new KeyRange(k("a"), Key.END), 10),
                new ShardCommand.Scan(S1, E, new KeyRange(Key.MIN, k("z")), 1),
                new ShardCommand.Split(S1, E, new SplitPoint.AtKey(k("m")), S9),
                new ShardCommand.Split(S1, E, new SplitPoint.AtSlot(8191), S9),
                new ShardCommand.PrepareMerge(S9, E, S1, E.nextRange()),
                new ShardCommand.CommitMerge(S1, E, E.nextConf(), frozenSnapshot()),
                new ShardCommand.HandOff(S1, E, E.nextRange(), List.of(new Handoff(5, S9, List.of(
                        new MovedKeys.Range(KeyRange.ofPrefix(k("u/"))),
                        new MovedKeys.HashedRange(KeyRange.ofKey(k("x")), List.of(S9, S1), S9))))),
                new ShardCommand.Receive(S9, E, E.nextRange(), List.of(new Intake(5, S1, List.of(
                        new MovedKeys.Slots(HashSlots.of(new SlotRange(3, 7)), 16)), Key.MIN))),
                new ShardCommand.TakeOver(S9, E, 5, S1, Key.MIN, List.of(new KeyValue(k("a"), new byte[]{1})), k("b")),
                new ShardCommand.TakeOver(S9, E, 5, S1, k("b"), List.of(), Key.END),
                new ShardCommand.Release(S1, E, 5));
    }

    private static ShardSnapshot movingSnapshot() {
        var bounds = new ShardBounds(S1, KeyRange.ALL, E, 0);
        return new ShardSnapshot(bounds, 7, null,
                List.of(new Handoff(2, S9, List.of(new MovedKeys.Range(KeyRange.ofPrefix(k("p")))))),
                List.of(new Intake(3, S9, List.of(new MovedKeys.Range(KeyRange.ofKey(k("q")))), k("q"))),
                List.of(new KeyValue(k("p1"), new byte[]{9})));
    }

    @Test
    void aSnapshotWithDataMovesInFlightRoundTrips() {
        ShardSnapshot s = movingSnapshot();
        assertThat(ShardCodec.decodeSnapshot(ShardCodec.encode(s))).usingRecursiveComparison().isEqualTo(s);
    }

    @Test
    void aSnapshotOfTheFormatBeforeDataMovesStillDecodes() {
        var s = new ShardSnapshot(new ShardBounds(S1, KeyRange.ALL, E, 0), 4, null, List.of());
        byte[] now = ShardCodec.encode(s);
        // format 1 had no handoff and intake counts (the two zero ints before the row count)
        byte[] before = new byte[now.length - 8];
        before[0] = 1;
        System.arraycopy(now, 1, before, 1, now.length - 13);
        System.arraycopy(now, now.length - 4, before, before.length - 4, 4);
        assertThat(ShardCodec.decodeSnapshot(before)).usingRecursiveComparison().isEqualTo(s);
    }

    @Test
    void everyCommandRoundTrips() {
        for (ShardCommand c : everyCommand()) {
            assertThat(ShardCodec.decodeCommand(ShardCodec.encode(c))).usingRecursiveComparison().isEqualTo(c);
        }
    }

    @Test
    void aSnapshotRoundTrips() {
        ShardSnapshot s = frozenSnapshot();
        assertThat(ShardCodec.decodeSnapshot(ShardCodec.encode(s))).usingRecursiveComparison().isEqualTo(s);
        var range = new ShardSnapshot(new ShardBounds(S1, new KeyRange(k("a"), k("b")), E, 0), 1, null,
                List.of(new KeyValue(k("a"), new byte[]{5})));
        assertThat(ShardCodec.decodeSnapshot(ShardCodec.encode(range))).usingRecursiveComparison().isEqualTo(range);
    }

    @Test
    void everyTruncationOfEveryCommandIsMalformed() {
        for (ShardCommand c : everyCommand()) {
            byte[] bytes = ShardCodec.encode(c);
            for (int n = 0; n < bytes.length; n++) {
                byte[] cut = Arrays.copyOf(bytes, n);
                assertThatThrownBy(() -> ShardCodec.decodeCommand(cut)).as("%s cut to %d bytes", c, n)
                        .isInstanceOf(MalformedShardData.class).hasMessageStartingWith(MalformedShardData.CODE);
            }
        }
    }

    @Test
    void trailingBytesAnUnknownFormatOrTagAreMalformed() {
        byte[] ok = ShardCodec.encode(new ShardCommand.Get(S1, E, k("c")));
        byte[] longer = Arrays.copyOf(ok, ok.length + 1);
        byte[] badFormat = ok.clone();
        badFormat[0] = 3;
        byte[] badTag = ok.clone();
        badTag[1] = 42;
        for (byte[] bad : List.of(longer, badFormat, badTag)) {
            assertThatThrownBy(() -> ShardCodec.decodeCommand(bad)).isInstanceOf(MalformedShardData.class);
        }
    }

    @Test
    void aDecodedValueThatBreaksARecordsRuleIsMalformedNotAnotherException() {
        byte[] bytes = ShardCodec.encode(new ShardCommand.Scan(S1, E, new KeyRange(k("a"), Key.END), 10));
        bytes[bytes.length - 1] = 0; // limit 0
        assertThatThrownBy(() -> ShardCodec.decodeCommand(bytes)).isInstanceOf(MalformedShardData.class)
                .hasMessageContaining("limit");
        byte[] zeroShard = ShardCodec.encode(new ShardCommand.Get(S1, E, k("c")));
        zeroShard[9] = 0; // shard id 0
        assertThatThrownBy(() -> ShardCodec.decodeCommand(zeroShard)).isInstanceOf(MalformedShardData.class);
    }
}
