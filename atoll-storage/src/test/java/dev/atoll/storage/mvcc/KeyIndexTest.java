package dev.atoll.storage.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The key index's point lookups (hash map) and ranges (sorted map) agree through puts, deletes and rollbacks. */
class KeyIndexTest {
    private static final byte[] NO_END = new byte[0];
    private static final byte[] FROM_KEY = {0};

    @Test
    void aPutToALiveKeyIsSeenByLookupsAndRanges() {
        var index = new KeyIndex();
        index.put(b("a"), latest(2));
        index.put(b("b"), latest(3));
        index.put(b("a"), latest(4));

        assertThat(index.get(b("a"))).isEqualTo(latest(4));
        assertThat(keys(index.range(b("a"), FROM_KEY))).containsExactly("a", "b");
        assertThat(values(index.range(b("a"), FROM_KEY))).containsExactly(latest(4), latest(3));
        assertThat(values(index.range(b("a"), NO_END))).containsExactly(latest(4));
        assertThat(index.size()).isEqualTo(2);
    }

    @Test
    void changingTheCallersArrayAfterAPutChangesNothingInTheIndex() {
        var index = new KeyIndex();
        byte[] key = b("k");
        index.put(key, latest(2));
        key[0] = 'z';

        assertThat(index.get(b("k"))).isEqualTo(latest(2));
        assertThat(index.get(b("z"))).isNull();
        assertThat(keys(index.range(b("a"), FROM_KEY))).containsExactly("k");
    }

    @Test
    void aDeletedKeyLeavesLookupsAndRanges() {
        var index = new KeyIndex();
        index.put(b("a"), latest(2));
        index.put(b("b"), latest(3));
        index.remove(b("a"));

        assertThat(index.get(b("a"))).isNull();
        assertThat(index.range(b("a"), NO_END)).isEmpty();
        assertThat(keys(index.range(b("a"), b("c")))).containsExactly("b");
        assertThat(index.size()).isEqualTo(1);
    }

    @Test
    void aRollbackRestoresUpdatedDeletedAndNewKeysInBothMaps() {
        var index = new KeyIndex();
        index.put(b("a"), latest(2));
        index.put(b("b"), latest(3));
        index.forgetUndo();
        var before = index.copy();

        int mark = index.undoMark();
        index.put(b("a"), latest(4)); // updated
        index.remove(b("b"));         // deleted
        index.put(b("c"), latest(4)); // new
        index.remove(b("c"));         // new, then deleted
        index.put(b("b"), latest(5)); // deleted, then back
        index.rollbackTo(mark);

        assertThat(index.copy()).isEqualTo(before);
        assertThat(index.get(b("a"))).isEqualTo(latest(2));
        assertThat(index.get(b("b"))).isEqualTo(latest(3));
        assertThat(index.get(b("c"))).isNull();
        assertThat(keys(index.range(b("a"), FROM_KEY))).containsExactly("a", "b");
        assertThat(index.hasUndo()).isFalse();
    }

    @Test
    void anEmptyOrBackwardRangeHasNoKeys() {
        var index = new KeyIndex();
        index.put(b("m"), latest(2));

        assertThat(index.range(b("z"), b("a"))).isEmpty();
        assertThat(index.range(b("n"), FROM_KEY)).isEmpty();
        assertThat(index.range(b("x"), NO_END)).isEmpty();
    }

    private static KeyIndex.Latest latest(long modRevision) {
        return new KeyIndex.Latest(2, modRevision, modRevision - 1, 0);
    }

    private static List<String> keys(Iterable<Map.Entry<byte[], KeyIndex.Latest>> range) {
        List<String> out = new ArrayList<>();
        range.forEach(e -> out.add(new String(e.getKey(), StandardCharsets.UTF_8)));
        return out;
    }

    private static List<KeyIndex.Latest> values(Iterable<Map.Entry<byte[], KeyIndex.Latest>> range) {
        List<KeyIndex.Latest> out = new ArrayList<>();
        range.forEach(e -> out.add(e.getValue()));
        return out;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
