package dev.atoll.server.shard;

import dev.atoll.core.NodeId;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.Replica;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SplitPoint;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The split a shard's group applies next, derived from the meta group's map alone. */
class SplitPlanTest {
    private static final ShardEpoch E = ShardEpoch.INITIAL;

    private static KeyRange range(String start, String end) {
        return new KeyRange(start.isEmpty() ? Key.MIN : Key.utf8(start), end.isEmpty() ? Key.END : Key.utf8(end));
    }

    private static ShardDescriptor shard(long id, String start, String end, ShardEpoch epoch) {
        return new ShardDescriptor(ShardId.of(id), "users", range(start, end), List.of(Replica.voter(NodeId.of("n1"))),
                null, epoch);
    }

    @Test
    void aGroupInStepWithTheMapHasNothingToSplit() {
        var replica = new ShardBounds(ShardId.of(1), range("", ""), E, 0);

        assertThat(SplitPlan.next(replica, List.of(shard(1, "", "", E)))).isEmpty();
    }

    @Test
    void theFirstOfSeveralSplitsIsTheOldestNewShardAtItsFirstKey() {
        var replica = new ShardBounds(ShardId.of(1), range("", ""), E, 0);
        ShardEpoch v2 = E.nextRange();
        ShardEpoch v3 = v2.nextRange();
        // s1 split at m (s2, v2), then s1 at f (s3, v3), then s2 at t (s4): s2 starts at m still
        var map = List.of(shard(1, "", "f", v3), shard(3, "f", "m", v3), shard(2, "m", "t", v3),
                shard(4, "t", "", v3));

        assertThat(SplitPlan.next(replica, map)).contains(
                new ShardCommand.Split(ShardId.of(1), E, new SplitPoint.AtKey(Key.utf8("m")), ShardId.of(2)));
    }

    @Test
    void afterApplyingTheFirstSplitTheGroupIsPlannedTheNext() {
        var replica = new ShardBounds(ShardId.of(1), range("", "m"), E.nextRange(), 0);
        ShardEpoch v3 = E.nextRange().nextRange();
        var map = List.of(shard(1, "", "f", v3), shard(3, "f", "m", v3), shard(2, "m", "t", v3), shard(4, "t", "", v3));

        assertThat(SplitPlan.next(replica, map)).contains(
                new ShardCommand.Split(ShardId.of(1), E.nextRange(), new SplitPoint.AtKey(Key.utf8("f")), ShardId.of(3)));
        // and the new shard s2, born at v2, plans its own split at t
        var child = new ShardBounds(ShardId.of(2), range("m", ""), E.nextRange(), 0);
        assertThat(SplitPlan.next(child, map)).contains(
                new ShardCommand.Split(ShardId.of(2), E.nextRange(), new SplitPoint.AtKey(Key.utf8("t")), ShardId.of(4)));
    }
}
