package dev.atoll.shard;

import dev.atoll.shard.Directory.Exact;
import dev.atoll.shard.Directory.Prefix;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.atoll.shard.Keys.appliedResult;
import static dev.atoll.shard.Keys.k;
import static dev.atoll.shard.Keys.nodes;
import static org.assertj.core.api.Assertions.assertThat;

class DirectoryTest {
    private static final ShardId S1 = ShardId.of(1);
    private static final ShardId S2 = ShardId.of(2);
    private static final ShardId S3 = ShardId.of(3);
    private static final ShardId S4 = ShardId.of(4);

    @Test
    void exactBeatsPrefixAndLongerPrefixBeatsShorter() {
        Directory d = Directory.withDefault(List.of(S1))
                .put(new Prefix(k("acme/")), S2).directory()
                .put(new Prefix(k("acme/eu/")), S3).directory()
                .put(new Exact(k("acme/eu/ceo")), S4).directory();

        assertThat(d.shardFor(k("other"))).isEqualTo(S1);
        assertThat(d.shardFor(k("acme/"))).isEqualTo(S2);
        assertThat(d.shardFor(k("acme/us/x"))).isEqualTo(S2);
        assertThat(d.shardFor(k("acme/eu/x"))).isEqualTo(S3);
        assertThat(d.shardFor(k("acme/eu/ceo"))).isEqualTo(S4);
        assertThat(d.shardFor(k("acme/eu/ceo2"))).isEqualTo(S3);
        assertThat(d.shardFor(k("acme"))).isEqualTo(S1);
    }

    @Test
    void theDefaultRuleSpreadsUnlistedKeysOverTheDefaultShards() {
        Directory d = Directory.withDefault(List.of(S1, S2, S3));
        int[] counts = new int[4];
        for (int i = 0; i < 3000; i++) {
            counts[(int) d.shardFor(k("tenant-" + i)).value()]++;
        }
        assertThat(counts[1]).isBetween(850, 1150);
        assertThat(counts[2]).isBetween(850, 1150);
        assertThat(counts[3]).isBetween(850, 1150);
    }

    @Test
    void routingAPrefixAwayFromTheDefaultMovesItsKeysFromEveryDefaultShard() {
        Directory d = Directory.withDefault(List.of(S1, S2));
        Directory.Edit edit = d.put(new Prefix(k("acme/")), S3);
        KeyRange acme = KeyRange.ofPrefix(k("acme/"));
        assertThat(edit.moves()).containsExactly(new DataMove(acme, S1, S3), new DataMove(acme, S2, S3));
        assertThat(edit.directory().put(new Prefix(k("acme/")), S3).moves()).as("no change, no move").isEmpty();
    }

    @Test
    void anExactKeyMovesFromTheOneShardThatHeldIt() {
        Directory d = Directory.withDefault(List.of(S1, S2, S3));
        Key key = k("tenant-42");
        ShardId holder = d.byDefault(key);
        Directory.Edit out = d.put(new Exact(key), S4);
        assertThat(out.moves()).containsExactly(new DataMove(KeyRange.ofKey(key), holder, S4));
        assertThat(out.directory().remove(new Exact(key)).moves())
                .containsExactly(new DataMove(KeyRange.ofKey(key), S4, holder));
        assertThat(d.put(new Exact(key), holder).moves()).as("routed where it is: no move").isEmpty();
    }

    @Test
    void editingAPrefixMovesOnlyTheKeysNoMoreSpecificEntryClaims() {
        Directory d = Directory.withDefault(List.of(S1))
                .put(new Prefix(k("acme/")), S2).directory()
                .put(new Prefix(k("acme/eu/")), S3).directory()
                .put(new Exact(k("acme/boss")), S4).directory();

        Directory.Edit edit = d.put(new Prefix(k("acme/")), S1);

        assertThat(edit.moves()).containsExactly(
                new DataMove(new KeyRange(k("acme/"), k("acme/boss")), S2, S1),
                new DataMove(new KeyRange(k("acme/boss\0"), k("acme/eu/")), S2, S1),
                new DataMove(new KeyRange(k("acme/eu0"), k("acme0")), S2, S1));
    }

    @Test
    void removingAnEntryHandsItsKeysBackToTheRuleAboveIt() {
        Directory d = Directory.withDefault(List.of(S1))
                .put(new Prefix(k("acme/")), S2).directory()
                .put(new Exact(k("acme/boss")), S3).directory();

        Directory.Edit exact = d.remove(new Exact(k("acme/boss")));
        assertThat(exact.moves()).containsExactly(new DataMove(KeyRange.ofKey(k("acme/boss")), S3, S2));
        assertThat(exact.directory().shardFor(k("acme/boss"))).isEqualTo(S2);

        Directory.Edit prefix = exact.directory().remove(new Prefix(k("acme/")));
        assertThat(prefix.moves()).containsExactly(new DataMove(KeyRange.ofPrefix(k("acme/")), S2, S1));
    }

    @Test
    void theShardMapRefusesEntriesForShardsOutsideTheKeyspaceAndReportsMoves() {
        var spec = new KeyspaceSpec("tenants", new Sharding.Directory(), 3, 2, Placement.ANYWHERE);
        ShardMap map = Keys.withKeyspace(spec);
        assertThat(map.apply(new ShardChange.PutDirectoryEntry("tenants", new Prefix(k("acme/")), ShardId.of(99))))
                .isInstanceOf(ChangeResult.Rejected.class);
        assertThat(map.apply(new ShardChange.RemoveDirectoryEntry("tenants", new Prefix(k("acme/")))))
                .isInstanceOf(ChangeResult.Rejected.class);

        map = Keys.applied(map, new ShardChange.AddShard("tenants", nodes("n1", "n2", "n3")));
        var put = appliedResult(map, new ShardChange.PutDirectoryEntry("tenants", new Prefix(k("acme/")), S3));
        assertThat(put.moves()).extracting(DataMove::target).containsOnly(S3);
        assertThat(put.moves()).extracting(DataMove::source).containsExactly(S1, S2);
        assertThat(put.map().lookup("tenants", k("acme/1")).orElseThrow().id()).isEqualTo(S3);
        // every shard whose keys change takes the next range version, so routes planned before are refused
        for (ShardId id : List.of(S1, S2, S3)) {
            assertThat(put.map().shard(id).orElseThrow().epoch()).isEqualTo(ShardEpoch.INITIAL.nextRange());
        }
        assertThat(put.changed()).extracting(ShardDescriptor::id).containsExactlyInAnyOrder(S1, S2, S3);
        assertThat(put.map().checkRoute("tenants", k("acme/1"), S1, ShardEpoch.INITIAL))
                .isEqualTo(new RouteCheck.ShardMoved(put.map().shard(S3).orElseThrow()));
        assertThat(put.map().checkRoute("tenants", k("other"), put.map().lookup("tenants", k("other")).orElseThrow().id(),
                ShardEpoch.INITIAL)).isInstanceOf(RouteCheck.ShardMoved.class);
        assertThat(put.map().directory("tenants").orElseThrow().routesByDefault(k("acme/1"))).isFalse();
        assertThat(put.map().directory("tenants").orElseThrow().routesByDefault(k("other"))).isTrue();
    }
}
