package dev.atoll.shard;

import dev.atoll.core.InvariantViolation;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.atoll.shard.Keys.applied;
import static dev.atoll.shard.Keys.k;
import static dev.atoll.shard.Keys.nodes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShardMapDropAndRestoreTest {
    private static ShardMap twoKeyspaces() {
        ShardMap m = applied(ShardMap.empty(), new ShardChange.CreateKeyspace(KeyspaceSpec.hash("carts", 2, 4),
                java.util.Collections.nCopies(4, nodes("n1", "n2"))));
        return applied(m, new ShardChange.CreateKeyspace(KeyspaceSpec.range("users", 1), List.of(nodes("n3"))));
    }

    @Test
    void droppingAKeyspaceRemovesItsShardsAndKeepsTheirIdsAllocated() {
        ShardMap before = twoKeyspaces();

        var dropped = (ChangeResult.Applied) before.dropKeyspace("carts");

        assertThat(dropped.removed()).extracting(ShardId::value).containsExactly(1L, 2L, 3L, 4L);
        ShardMap after = dropped.map();
        assertThat(after.version()).isEqualTo(before.version() + 1);
        assertThat(after.keyspaces()).containsOnlyKeys("users");
        assertThat(after.shards()).extracting(ShardDescriptor::keyspace).containsOnly("users");
        assertThat(after.lookup("carts", k("a"))).isEmpty();
        assertThat(after.nextShardId()).isEqualTo(before.nextShardId());
    }

    @Test
    void droppingAnUnknownKeyspaceChangesNothing() {
        assertThat(twoKeyspaces().dropKeyspace("nope")).isEqualTo(new ChangeResult.UnknownKeyspace("nope"));
    }

    @Test
    void aRestoredMapRoutesAsTheOriginal() {
        ShardMap original = twoKeyspaces();

        ShardMap restored = ShardMap.restore(original.version(), original.nextShardId(),
                original.keyspaces().values(), original.shards(), Map.of());

        assertThat(restored.version()).isEqualTo(original.version());
        assertThat(restored.nextShardId()).isEqualTo(original.nextShardId());
        for (String key : List.of("a", "b", "{u1}.x", "zz", "")) {
            assertThat(restored.lookup("carts", k(key))).isEqualTo(original.lookup("carts", k(key)));
            assertThat(restored.lookup("users", k(key))).isEqualTo(original.lookup("users", k(key)));
        }
    }

    @Test
    void aRestoreWhoseShardsDoNotTileTheKeyspaceIsRefused() {
        ShardMap original = twoKeyspaces();
        var missingOne = original.shards().stream().filter(s -> s.id().value() != 2).toList();

        assertThatThrownBy(() -> ShardMap.restore(original.version(), original.nextShardId(),
                original.keyspaces().values(), missingOne, Map.of())).isInstanceOf(InvariantViolation.class);
    }
}
