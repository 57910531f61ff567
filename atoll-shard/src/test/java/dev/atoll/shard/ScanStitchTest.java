package dev.atoll.shard;

import dev.atoll.core.InvariantViolation;
import dev.atoll.shard.replica.ReplicaMutation;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import static dev.atoll.shard.Keys.k;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Scans stitched from shards' parts, in key order (range shards) and from every shard at once (hash, directory). */
class ScanStitchTest {
    /** Three range shards: [MIN, f), [f, p), [p, END), holding a b f g h p z. */
    private static final List<KeyRange> SPANS = List.of(new KeyRange(Key.MIN, k("f")), new KeyRange(k("f"), k("p")),
            new KeyRange(k("p"), Key.END));
    private static final TreeSet<Key> KEYS = new TreeSet<>(List.of(k("a"), k("b"), k("f"), k("g"), k("h"), k("p"),
            k("z")));

    /** What a shard answers for a part: its keys in the part, in order, at most the part's limit. */
    private static List<Key> answer(KeyRange span, ScanStitch.Part part) {
        return KEYS.stream().filter(span::contains).filter(part.range()::contains).limit(part.limit()).toList();
    }

    /** Drives a scan in key order over {@link #SPANS}, as the client and the server do; returns the parts asked. */
    private static List<ScanStitch.Part> inKeyOrder(ScanStitch<Key> scan) {
        var asked = new ArrayList<ScanStitch.Part>();
        while (!scan.done()) {
            KeyRange owner = SPANS.stream().filter(s -> s.contains(scan.cursor())).findFirst().orElseThrow();
            ScanStitch.Part part = scan.nextPart(owner);
            asked.add(part);
            scan.accept(part, answer(owner, part));
        }
        return asked;
    }

    private static ScanStitch<Key> scan(Key start, Key end, int limit, ReplicaMutation... mutations) {
        return new ScanStitch<>(new KeyRange(start, end), limit, Function.identity(), Set.of(mutations));
    }

    @Test
    void aRangeScanAsksEachShardInTurnForWhatIsStillWantedAndStopsAtTheLimit() {
        var scan = scan(k("b"), Key.END, 4);

        List<ScanStitch.Part> asked = inKeyOrder(scan);

        assertThat(scan.rows()).containsExactly(k("b"), k("f"), k("g"), k("h"));
        assertThat(scan.more()).isTrue();
        assertThat(asked).containsExactly(new ScanStitch.Part(new KeyRange(k("b"), k("f")), 5),
                new ScanStitch.Part(new KeyRange(k("f"), k("p")), 4),
                new ScanStitch.Part(new KeyRange(k("p"), Key.END), 1));
        assertThat(scan.covers(k("h"))).isTrue();
        assertThat(scan.covers(k("i"))).as("after the last row of a cut scan").isFalse();
        assertThat(scan.covers(k("a"))).as("before the range").isFalse();
    }

    @Test
    void aRangeScanThatFindsNoMoreThanTheLimitCoversItsWholeRange() {
        var scan = scan(k("c"), k("q"), 4);

        List<ScanStitch.Part> asked = inKeyOrder(scan);

        assertThat(scan.rows()).containsExactly(k("f"), k("g"), k("h"), k("p"));
        assertThat(scan.more()).isFalse();
        assertThat(asked.getLast().range()).isEqualTo(new KeyRange(k("p"), k("q")));
        assertThat(scan.covers(k("pz"))).isTrue();
        assertThat(scan.covers(k("q"))).isFalse();
    }

    @Test
    void aRefusedPartIsAskedAgainFromTheSameCursorAfterTheMapChanged() {
        var scan = scan(Key.MIN, Key.END, 10);
        ScanStitch.Part first = scan.nextPart(SPANS.get(0));
        // refused (stale route): the shard split at c meanwhile, so the part is asked again of [MIN, c)
        ScanStitch.Part again = scan.nextPart(new KeyRange(Key.MIN, k("c")));

        assertThat(again.range()).isEqualTo(new KeyRange(Key.MIN, k("c")));
        assertThat(scan.cursor()).isEqualTo(Key.MIN);
        assertThatThrownBy(() -> scan.accept(first, List.of(k("a"), k("g"))))
                .as("rows past the part's end").isInstanceOf(InvariantViolation.class);
    }

    @Test
    void aPartAnsweringOutOfOrderOrTwiceTheSameKeyIsRefused() {
        var scan = scan(Key.MIN, Key.END, 10);
        ScanStitch.Part part = scan.nextPart(SPANS.get(0));

        assertThatThrownBy(() -> scan.accept(part, List.of(k("b"), k("a")))).isInstanceOf(InvariantViolation.class);
        assertThatThrownBy(() -> scan.accept(part, List.of(k("a"), k("a")))).isInstanceOf(InvariantViolation.class);
    }

    @Test
    void everyShardAtOnceMergesTheAnswersInKeyOrderAndCutsAtTheLimit() {
        var scan = scan(k("b"), Key.END, 3);
        ScanStitch.Part part = scan.everyShardPart();

        assertThat(part).isEqualTo(new ScanStitch.Part(new KeyRange(k("b"), Key.END), 4));
        scan.acceptEveryShard(List.of(List.of(k("c"), k("x")), List.of(k("b"), k("d"), k("e"), k("f")), List.of()));

        assertThat(scan.rows()).containsExactly(k("b"), k("c"), k("d"));
        assertThat(scan.more()).isTrue();
        assertThat(scan.covers(k("d"))).isTrue();
        assertThat(scan.covers(k("dd"))).isFalse();
    }

    @Test
    void everyShardAtOnceWithFewerRowsThanTheLimitCoversTheWholeRange() {
        var scan = scan(k("b"), k("y"), 3);
        scan.acceptEveryShard(List.of(List.of(k("x")), List.of(k("c"))));

        assertThat(scan.rows()).containsExactly(k("c"), k("x"));
        assertThat(scan.more()).isFalse();
        assertThat(scan.covers(k("xx"))).isTrue();
    }

    @Test
    void aKeyAnsweredByTwoShardsIsABug() {
        var scan = scan(Key.MIN, Key.END, 3);

        assertThatThrownBy(() -> scan.acceptEveryShard(List.of(List.of(k("c")), List.of(k("c")))))
                .isInstanceOf(InvariantViolation.class).hasMessageContaining("answered by two");
    }

    @Test
    void rangeAndGeoKeyspacesAreStitchedInKeyOrderHashAndDirectoryFromEveryShard() {
        assertThat(ScanStitch.inKeyOrder(new Sharding.Range())).isTrue();
        assertThat(ScanStitch.inKeyOrder(new Sharding.Geo((byte) '/', List.of("eu"), "eu"))).isTrue();
        assertThat(ScanStitch.inKeyOrder(new Sharding.Hash(16))).isFalse();
        assertThat(ScanStitch.inKeyOrder(new Sharding.Directory())).isFalse();
    }

    @Test
    void theMutationsLoseKeys() {
        var skipping = scan(Key.MIN, Key.END, 10, ReplicaMutation.SCAN_SKIPS_BOUNDARY_KEY);
        inKeyOrder(skipping);
        assertThat(skipping.rows()).doesNotContain(k("f"), k("p")).contains(k("g"));
        assertThat(skipping.covers(k("f"))).isTrue();

        var dropping = scan(Key.MIN, Key.END, 10, ReplicaMutation.SCAN_DROPS_A_SHARD);
        dropping.acceptEveryShard(List.of(List.of(k("a")), List.of(k("b"))));
        assertThat(dropping.rows()).containsExactly(k("a"));
    }
}
