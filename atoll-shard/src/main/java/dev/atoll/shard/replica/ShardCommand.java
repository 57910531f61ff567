package dev.atoll.shard.replica;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SplitPoint;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * A command in a shard group's log. Each names the shard and the epoch its sender routed or
 * planned with; {@link ShardReplica} refuses it, changing nothing, when that epoch's range
 * version is not the replica's own, or when a key is outside the replica's span.
 * {@link ShardCodec} encodes them.
 */
public sealed interface ShardCommand {
    /** Longest key a command carries. */
    int KEY_BYTES_MAX = 4096;
    /** Largest value a put carries. */
    int VALUE_BYTES_MAX = 1 << 20;
    /** Most rows one scan returns. */
    int SCAN_ROWS_MAX = 1024;

    ShardId shard();

    ShardEpoch epoch();

    /** Sets {@code key} to {@code value}. */
    record Put(ShardId shard, ShardEpoch epoch, Key key, byte[] value) implements ShardCommand {
        public Put {
            requireRouting(shard, epoch);
            checkKey(key);
            Objects.requireNonNull(value, "value");
            checkArgument(value.length <= VALUE_BYTES_MAX, "a value is at most %d bytes: %d", VALUE_BYTES_MAX,
                    value.length);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Put p && shard.equals(p.shard) && epoch.equals(p.epoch) && key.equals(p.key)
                    && Arrays.equals(value, p.value);
        }

        @Override
        public int hashCode() {
            return Objects.hash(shard, epoch, key) * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Put[" + shard + " " + epoch + " " + key + " " + value.length + "B]";
        }
    }

    /** Removes {@code key} (absent keys too: a delete always succeeds inside the span). */
    record Delete(ShardId shard, ShardEpoch epoch, Key key) implements ShardCommand {
        public Delete {
            requireRouting(shard, epoch);
            checkKey(key);
        }
    }

    /** Reads {@code key} through the log: linearizable without a read index. */
    record Get(ShardId shard, ShardEpoch epoch, Key key) implements ShardCommand {
        public Get {
            requireRouting(shard, epoch);
            checkKey(key);
        }
    }

    /**
     * Reads at most {@code limit} rows of {@code range} in key order. The range starts inside the
     * shard (a hash shard: anywhere); rows past the shard's end are not this shard's, and the
     * result says where the caller resumes.
     */
    record Scan(ShardId shard, ShardEpoch epoch, KeyRange range, int limit) implements ShardCommand {
        public Scan {
            requireRouting(shard, epoch);
            Objects.requireNonNull(range, "range");
            checkArgument(range.start().lengthBytes() <= KEY_BYTES_MAX, "a scan starts at a key of at most %d bytes",
                    KEY_BYTES_MAX);
            checkArgument(limit >= 1 && limit <= SCAN_ROWS_MAX, "a scan limit is in [1, %d]: %d", SCAN_ROWS_MAX, limit);
        }
    }

    /**
     * Cuts the shard at {@code at}: the upper part becomes shard {@code child}, whose replicas
     * (on the same nodes) start from exactly this replica's data there. Both take
     * {@code epoch.nextRange()}, as {@link dev.atoll.shard.ShardMap} does.
     */
    record Split(ShardId shard, ShardEpoch epoch, SplitPoint at, ShardId child) implements ShardCommand {
        public Split {
            requireRouting(shard, epoch);
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(child, "child");
            checkArgument(!child.equals(shard), "a shard does not split into itself: %s", shard);
        }
    }

    /**
     * First step of a merge, in the source shard's log: the shard freezes, refusing every later
     * command, so its data is final; {@code target} will take it over.
     */
    record PrepareMerge(ShardId shard, ShardEpoch epoch, ShardId target, ShardEpoch targetEpoch)
            implements ShardCommand {
        public PrepareMerge {
            requireRouting(shard, epoch);
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(targetEpoch, "targetEpoch");
            checkArgument(!target.equals(shard), "a shard does not merge into itself: %s", shard);
        }
    }

    /**
     * Second step, in the target shard's log: takes over the frozen {@code source} (a snapshot of
     * a source replica that applied {@link PrepareMerge}); the span becomes the union and the
     * epoch {@code ShardEpoch.merged(epoch, sourceEpoch)}, as the meta group's map has it.
     */
    record CommitMerge(ShardId shard, ShardEpoch epoch, ShardEpoch sourceEpoch, ShardSnapshot source)
            implements ShardCommand {
        public CommitMerge {
            requireRouting(shard, epoch);
            Objects.requireNonNull(sourceEpoch, "sourceEpoch");
            Objects.requireNonNull(source, "source");
        }
    }

    /**
     * First step of a data move, in the source shard's log: the keys of {@code handoffs} (all of
     * one relocation) leave the shard's span at once (writes and reads of them answer "shard
     * moved" naming their target), their rows stay, frozen, until {@link Release}; a hash shard's
     * slots leave its bounds. The epoch becomes {@code next}, as the meta group's map has it.
     */
    record HandOff(ShardId shard, ShardEpoch epoch, ShardEpoch next, List<Handoff> handoffs) implements ShardCommand {
        public HandOff {
            requireRouting(shard, epoch);
            checkNext(epoch, next);
            handoffs = List.copyOf(handoffs);
            checkArgument(!handoffs.isEmpty(), "a handoff names keys");
            long relocation = handoffs.getFirst().relocation();
            checkArgument(handoffs.stream().allMatch(h -> h.relocation() == relocation && !h.target().equals(shard)),
                    "one relocation's keys, to other shards: %s", handoffs);
        }

        public long relocation() {
            return handoffs.getFirst().relocation();
        }
    }

    /**
     * The target's side of {@link HandOff}, in the target shard's log: the keys of {@code intakes}
     * (one relocation, each from {@code Key.MIN}) become the shard's (a hash shard's slots join its
     * bounds) but are refused until their rows arrived ({@link TakeOver}); the epoch becomes
     * {@code next}. The shard's other keys are served throughout.
     */
    record Receive(ShardId shard, ShardEpoch epoch, ShardEpoch next, List<Intake> intakes) implements ShardCommand {
        public Receive {
            requireRouting(shard, epoch);
            checkNext(epoch, next);
            intakes = List.copyOf(intakes);
            checkArgument(!intakes.isEmpty(), "a receive names keys");
            long relocation = intakes.getFirst().relocation();
            checkArgument(intakes.stream().allMatch(i -> i.relocation() == relocation && !i.source().equals(shard)
                            && i.resumeAt().equals(Key.MIN)),
                    "one relocation's keys, from other shards, from the first key: %s", intakes);
        }

        public long relocation() {
            return intakes.getFirst().relocation();
        }
    }

    /**
     * One chunk of the rows handed off by {@code source} in {@code relocation}, in key order:
     * every row of the moved keys in [{@code from}, {@code resumeAt}), read from a source replica
     * that applied its HandOff (so they are final). Applied only when the intake resumes at
     * {@code from}, so a repeated or stale chunk changes nothing; {@code resumeAt} END ends the
     * intake and the keys are served from then on. The rows travel in the entry itself, so a
     * replica that lags applies it later without the source.
     */
    record TakeOver(ShardId shard, ShardEpoch epoch, long relocation, ShardId source, Key from, List<KeyValue> rows,
                    Key resumeAt) implements ShardCommand {
        public TakeOver {
            requireRouting(shard, epoch);
            checkArgument(relocation >= 1, "a relocation id is positive: %d", relocation);
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(resumeAt, "resumeAt");
            checkArgument(!from.isEnd() && from.compareTo(resumeAt) < 0, "a chunk covers [%s, %s)", from, resumeAt);
            rows = List.copyOf(rows);
            for (int i = 0; i < rows.size(); i++) {
                Key k = rows.get(i).key();
                checkArgument(from.compareTo(k) <= 0 && k.compareTo(resumeAt) < 0, "row %s in [%s, %s)", k, from,
                        resumeAt);
                checkArgument(i == 0 || rows.get(i - 1).key().compareTo(k) < 0, "rows in ascending key order at %s", k);
            }
        }

        /** Bytes of keys and values carried. */
        public long dataBytes() {
            long n = 0;
            for (KeyValue kv : rows) {
                n += kv.key().lengthBytes() + kv.value().length;
            }
            return n;
        }
    }

    /**
     * Last step of a data move, in the source shard's log, once every target holds the keys: the
     * handed-off rows of {@code relocation} are deleted and the handoff forgotten.
     */
    record Release(ShardId shard, ShardEpoch epoch, long relocation) implements ShardCommand {
        public Release {
            requireRouting(shard, epoch);
            checkArgument(relocation >= 1, "a relocation id is positive: %d", relocation);
        }
    }

    private static void requireRouting(ShardId shard, ShardEpoch epoch) {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(epoch, "epoch");
    }

    private static void checkNext(ShardEpoch epoch, ShardEpoch next) {
        Objects.requireNonNull(next, "next");
        checkArgument(next.rangeVersion() > epoch.rangeVersion(), "a data move raises the range version: %s to %s",
                epoch, next);
    }

    private static void checkKey(Key key) {
        Objects.requireNonNull(key, "key");
        checkArgument(!key.isEnd(), "END is not a key");
        checkArgument(key.lengthBytes() <= KEY_BYTES_MAX, "a key is at most %d bytes: %d", KEY_BYTES_MAX,
                key.lengthBytes());
    }
}
