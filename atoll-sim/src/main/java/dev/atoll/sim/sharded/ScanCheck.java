package dev.atoll.sim.sharded;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ScanStitch;
import dev.atoll.shard.replica.KeyValue;
import dev.atoll.sim.check.Op;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static dev.atoll.sim.sharded.ShardedSimulation.check;

/**
 * What the simulated clients' scans must show, checked as each one ends (the promise is
 * {@link ScanStitch}'s; the package docs say why it is not a snapshot). For a scan of range R,
 * limit L, invoked at t0 and answered at t1:
 * <ul>
 *   <li>the rows are in strictly increasing key order (no key twice), inside R, at most L, and
 *       only keys the clients write; "more" only when exactly L rows came back;</li>
 *   <li>each row's value is one its key may hold at some moment in [t0, t1]: written by a write
 *       invoked before t1 that did not fail, and not surely overwritten before t0 (another
 *       acknowledged write invoked after it completed and completed before t0);</li>
 *   <li>each key the answer covers (all of R, or R up to the last row when the limit cut it) but
 *       does not hold may be absent at such a moment: by the same rule, its last value before t0 is
 *       a delete's or its initial absence, or a delete may land in [t0, t1]. So a key
 *       acknowledged-written before t0 and not deleted since must appear.</li>
 * </ul>
 * Besides, every key of R is recorded in the history as one read over [t0, t1] (the value read,
 * absent, or failed when not covered), so the linearizability check places each key's read
 * among the other operations on it.
 */
final class ScanCheck {
    /** One write of a key as the clients see it: {@code value} null for a delete. */
    static final class Write {
        final String value;
        final long invokedAt;
        long completedAt = Long.MAX_VALUE; // pending, or outcome unknown: may take effect any time after invocation
        boolean failed;

        Write(String value, long invokedAt) {
            this.value = value;
            this.invokedAt = invokedAt;
        }
    }

    /** One scan in progress, as invoked. */
    static final class Scan {
        final int clientId;
        final String keyspace;
        final KeyRange range;
        final int limit;
        final boolean inKeyOrder;
        final ScanStitch<KeyValue> stitch;
        /** The keys of the keyspace in the range, each recorded as a read invoked with the scan. */
        final List<Key> keys = new ArrayList<>();
        final List<Integer> opIds = new ArrayList<>();
        final long invokedAt;
        int parts;
        int rounds;

        Scan(int clientId, String keyspace, KeyRange range, int limit, boolean inKeyOrder, ScanStitch<KeyValue> stitch,
             long invokedAt) {
            this.clientId = clientId;
            this.keyspace = keyspace;
            this.range = range;
            this.limit = limit;
            this.inKeyOrder = inKeyOrder;
            this.stitch = stitch;
            this.invokedAt = invokedAt;
        }
    }

    private final ShardedSimulation sim;
    /** Every write of each key, in invocation order; the initial absence is the first. */
    private final Map<Key, List<Write>> writes = new HashMap<>();
    private final Map<String, int[]> byKeyspace = new LinkedHashMap<>(); // started, answered, failed
    private long rows;
    private long cut;
    private long parts;
    private long roundsAgain;

    ScanCheck(ShardedSimulation sim) {
        this.sim = sim;
    }

    // ---------------------------------------------------------------- writes

    Write writeInvoked(Key key, String value) {
        var w = new Write(value, sim.now);
        historyOf(key).add(w);
        return w;
    }

    void writeAcknowledged(Write w) {
        w.completedAt = sim.now;
    }

    void writeFailed(Write w) {
        w.failed = true;
    }

    private List<Write> historyOf(Key key) {
        return writes.computeIfAbsent(key, k -> {
            var initial = new Write(null, -1);
            initial.completedAt = -1;
            var list = new ArrayList<Write>();
            list.add(initial);
            return list;
        });
    }

    // ---------------------------------------------------------------- scans

    Scan begin(int clientId, String keyspace, KeyRange range, int limit) {
        boolean inKeyOrder = ScanStitch.inKeyOrder(sim.initialMap.keyspace(keyspace).orElseThrow().sharding());
        var s = new Scan(clientId, keyspace, range, limit, inKeyOrder,
                new ScanStitch<>(range, limit, KeyValue::key, sim.mutations), sim.now);
        for (Key k : sim.keys.get(keyspace)) {
            if (range.contains(k)) {
                s.keys.add(k);
            }
        }
        s.keys.sort(null);
        for (Key k : s.keys) {
            s.opIds.add(sim.history.invoke(clientId, sim.now, new Op.Get(name(k))));
        }
        byKeyspace.computeIfAbsent(keyspace, x -> new int[3])[0]++;
        return s;
    }

    /** The scan got no answer, or every attempt was refused: its reads had no effect. */
    void failed(Scan s) {
        for (int opId : s.opIds) {
            sim.history.fail(opId, sim.now);
        }
        count(s);
        byKeyspace.get(s.keyspace)[2]++;
    }

    /** The stitch is done: check the answer and record each key's read. */
    void answered(Scan s) {
        List<KeyValue> answer = s.stitch.rows();
        boolean more = s.stitch.more();
        String what = describe(s);
        check(answer.size() <= s.limit, "%s returns at most its limit: %d rows", what, answer.size());
        check(!more || answer.size() == s.limit, "%s says there is more only when cut at its limit: %d rows", what,
                answer.size());
        var read = new HashMap<Key, String>();
        Key previous = null;
        for (KeyValue kv : answer) {
            Key k = kv.key();
            check(previous == null || previous.compareTo(k) < 0, "%s returns keys in order, each once: %s after %s",
                    what, name(k), name(previous));
            check(s.range.contains(k), "%s returns keys of its range only: %s", what, name(k));
            check(s.keys.contains(k), "%s returns keys clients write to %s only: %s", what, s.keyspace, k);
            read.put(k, new String(kv.value(), StandardCharsets.UTF_8));
            previous = k;
        }
        for (int i = 0; i < s.keys.size(); i++) {
            Key k = s.keys.get(i);
            if (!s.stitch.covers(k)) {
                sim.history.fail(s.opIds.get(i), sim.now);
                continue;
            }
            String value = read.get(k);
            checkAllowed(s, what, k, value);
            sim.history.ok(s.opIds.get(i), sim.now, value);
        }
        count(s);
        byKeyspace.get(s.keyspace)[1]++;
        rows += answer.size();
        cut += more ? 1 : 0;
    }

    /** {@code value} (null: absent) is one the key may hold at some moment of the scan's interval. */
    private void checkAllowed(Scan s, String what, Key k, String value) {
        List<Write> history = historyOf(k);
        long t0 = s.invokedAt;
        long t1 = sim.now;
        // the last invocation of an acknowledged write that completed before t0: a write that completed
        // before it is surely overwritten by then
        long overwrittenBefore = -1;
        for (Write w : history) {
            if (!w.failed && w.completedAt < t0) {
                overwrittenBefore = Math.max(overwrittenBefore, w.invokedAt);
            }
        }
        var possible = new ArrayList<String>();
        for (Write w : history) {
            if (!w.failed && w.invokedAt <= t1 && w.completedAt >= overwrittenBefore) {
                if (Objects.equals(w.value, value)) {
                    return;
                }
                possible.add(w.value == null ? "absent" : w.value);
            }
        }
        check(false, "%s reads %s as %s, a value it never holds between t=%d and t=%d (possible: %s)", what, name(k),
                value == null ? "absent" : value, t0, t1, possible);
    }

    private void count(Scan s) {
        parts += s.parts;
        roundsAgain += Math.max(0, s.rounds - 1);
    }

    private String describe(Scan s) {
        return "scan of " + s.keyspace + " " + s.range + " limit " + s.limit + " by c" + s.clientId + " from t="
                + s.invokedAt;
    }

    private String name(Key k) {
        return k == null ? "-" : sim.keyNames.getOrDefault(k, k.toString());
    }

    // ---------------------------------------------------------------- counts

    /** Scans started, answered and failed per keyspace, rows returned, scans cut by their limit, parts asked. */
    String summary() {
        var sb = new StringBuilder("scans{");
        for (var e : byKeyspace.entrySet()) {
            int[] n = e.getValue();
            sb.append(e.getKey()).append('=').append(n[1]).append('/').append(n[0]).append(' ');
        }
        return sb.append("rows=").append(rows).append(" cut=").append(cut).append(" parts=").append(parts)
                .append(" roundsAgain=").append(roundsAgain).append('}').toString();
    }

    /** The counts a campaign adds up over its seeds. */
    Map<String, Long> counts() {
        long started = 0;
        long answered = 0;
        for (int[] n : byKeyspace.values()) {
            started += n[0];
            answered += n[1];
        }
        var counts = new LinkedHashMap<String, Long>();
        counts.put("scans", started);
        counts.put("scansAnswered", answered);
        for (var e : byKeyspace.entrySet()) {
            counts.put("scansAnswered." + e.getKey(), (long) e.getValue()[1]);
        }
        counts.put("scanRows", rows);
        counts.put("scansCut", cut);
        return counts;
    }
}
