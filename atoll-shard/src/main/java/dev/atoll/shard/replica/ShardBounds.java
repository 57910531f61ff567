package dev.atoll.shard.replica;

import dev.atoll.shard.HashSlots;
import dev.atoll.shard.Key;
import dev.atoll.shard.KeyHash;
import dev.atoll.shard.KeyRange;
import dev.atoll.shard.ShardDescriptor;
import dev.atoll.shard.ShardEpoch;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.ShardSpan;
import dev.atoll.shard.Sharding;

import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * What a shard replica holds, as its own log has decided it: its id, its span (a key range, or
 * hash slots out of {@code slotCount}) and its epoch. The range part of the epoch follows the
 * meta group's descriptor exactly (splits and merges go through both logs); the conf part is
 * the one the shard had at its last span change, since replica changes go through Raft
 * membership entries, not through this state machine.
 */
public record ShardBounds(ShardId shard, ShardSpan span, ShardEpoch epoch, int slotCount) {
    public ShardBounds {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(span, "span");
        Objects.requireNonNull(epoch, "epoch");
        switch (span) {
            case KeyRange r -> checkArgument(slotCount == 0, "a key range shard has no slot count: %d", slotCount);
            case HashSlots h -> {
                checkArgument(slotCount >= 1 && slotCount <= 65536 && Integer.bitCount(slotCount) == 1,
                        "a hash shard's slot count is a power of two in [1, 65536]: %d", slotCount);
                checkArgument(h.ranges().isEmpty() || h.ranges().getLast().end() <= slotCount,
                        "slots %s within %d", h, slotCount);
            }
            case ShardSpan.Directed d -> throw new IllegalArgumentException(
                    "directory shards are routed by the directory table, not served by a span check");
        }
    }

    /** The bounds of a shard as the meta group's map describes it. */
    public static ShardBounds of(ShardDescriptor d, Sharding sharding) {
        int slots = sharding instanceof Sharding.Hash h ? h.slotCount() : 0;
        return new ShardBounds(d.id(), d.span(), d.epoch(), slots);
    }

    /** Whether {@code key} belongs to this shard. */
    public boolean contains(Key key) {
        return switch (span) {
            case KeyRange r -> r.contains(key);
            case HashSlots h -> !key.isEnd() && h.contains(KeyHash.slot(key, slotCount));
            case ShardSpan.Directed d -> false;
        };
    }

    public boolean isHash() {
        return span instanceof HashSlots;
    }

    ShardBounds with(ShardSpan newSpan, ShardEpoch newEpoch) {
        return new ShardBounds(shard, newSpan, newEpoch, slotCount);
    }

    @Override
    public String toString() {
        return shard + "{" + span + " " + epoch + "}";
    }
}
