package dev.atoll.shard.replica;

import dev.atoll.shard.Key;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.SplitPoint;

import java.util.Arrays;
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

    private static void requireRouting(ShardId shard, ShardEpoch epoch) {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(epoch, "epoch");
    }

    private static void checkKey(Key key) {
        Objects.requireNonNull(key, "key");
        checkArgument(!key.isEnd(), "END is not a key");
        checkArgument(key.lengthBytes() <= KEY_BYTES_MAX, "a key is at most %d bytes: %d", KEY_BYTES_MAX,
                key.lengthBytes());
    }
}
