package dev.atoll.server.shard;

import dev.atoll.shard.replica.PendingMerge;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;

import java.util.Optional;

/**
 * The next step of a merge in progress ({@link ShardState.Merge}) for the leader of one of its
 * two groups, derived from the meta group's intent and the leader's own replicas alone, so that
 * any leader, at any time, takes the same step; each step only moves forward, and a repeated one
 * meets another epoch (or a frozen shard) when applied and changes nothing. The order is the
 * simulator's placement driver's: the source's group freezes (PrepareMerge), the target's group
 * takes the frozen rows (CommitMerge, from the source replica on the target leader's node: the
 * replicas are co-located), then the meta group forgets the merge and nodes drop the source. Pure.
 */
final class MergePlan {
    private MergePlan() {
    }

    /** What the leader does next. */
    sealed interface Step permits Prepare, Commit, Finish {
    }

    /** The source's leader freezes its group: propose {@code command} to the source's group. */
    record Prepare(ShardCommand.PrepareMerge command) implements Step {
    }

    /**
     * The target's leader proposes a CommitMerge at the target's epoch before the merge, carrying
     * a snapshot of its node's frozen source replica.
     */
    record Commit() implements Step {
    }

    /** The target's group applied the merge: the meta group may forget it. */
    record Finish() implements Step {
    }

    /**
     * The step of the source's leader, whose replica holds {@code source} (empty before it has
     * bounds): freeze it once, at the epoch the map merged it at.
     */
    static Optional<Step> forSource(ShardState.Merge merge, Optional<ShardBounds> source,
                                    Optional<PendingMerge> frozen) {
        if (source.isEmpty() || frozen.isPresent()
                || source.get().epoch().rangeVersion() != merge.source().epoch().rangeVersion()) {
            return Optional.empty();
        }
        return Optional.of(new Prepare(prepare(merge)));
    }

    /**
     * The step of the target's leader, whose replica holds {@code target}, on a node whose source
     * replica is {@code sourceFrozen} (present once it applied the freeze for this merge).
     */
    static Optional<Step> forTarget(ShardState.Merge merge, Optional<ShardBounds> target,
                                    Optional<PendingMerge> sourceFrozen) {
        if (target.isEmpty()) {
            return Optional.empty();
        }
        long rv = target.get().epoch().rangeVersion();
        if (rv >= merge.mergedEpoch().rangeVersion()) {
            return Optional.of(new Finish());
        }
        if (rv == merge.targetEpoch().rangeVersion() && sourceFrozen.isPresent()
                && sourceFrozen.get().target().equals(merge.target())) {
            return Optional.of(new Commit());
        }
        return Optional.empty(); // the source is not frozen on this node yet (or the target lags its log)
    }

    static ShardCommand.PrepareMerge prepare(ShardState.Merge merge) {
        return new ShardCommand.PrepareMerge(merge.source().id(), merge.source().epoch(), merge.target(),
                merge.targetEpoch());
    }
}
