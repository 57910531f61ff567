package dev.atoll.server.shard;

import dev.atoll.shard.Key;
import dev.atoll.shard.ShardId;
import dev.atoll.shard.replica.Handoff;
import dev.atoll.shard.replica.Intake;
import dev.atoll.shard.replica.ShardBounds;
import dev.atoll.shard.replica.ShardCommand;

import java.util.List;
import java.util.Optional;

/**
 * The next step of a data move in progress ({@link Relocation}) for the leader of one of its
 * shards, derived from the meta group's intent and the leader's own replica alone, so that any
 * leader, at any time, takes the same step; each step only moves forward, and a repeated one meets
 * another epoch (or an intake that moved on) when applied and changes nothing. The order:
 * <ol>
 *   <li>each source freezes the keys it gives ({@code HandOff}), each target takes them into its
 *       span, refused until their rows arrive ({@code Receive}); both at the map's new epoch;</li>
 *   <li>each target's leader reads the rows chunk by chunk from a source replica that applied the
 *       HandOff and proposes them ({@code TakeOver}); after the last chunk it tells the meta group
 *       the leg is taken;</li>
 *   <li>once every leg from a source is taken, its leader deletes the rows ({@code Release}) and
 *       tells the meta group, which forgets the move when every source did.</li>
 * </ol>
 * Pure.
 */
final class RelocationPlan {
    private RelocationPlan() {
    }

    /** What the leader does next. */
    sealed interface Step permits Propose, Fetch, Taken, Released {
    }

    /** Propose {@code command} to the shard's own group. */
    record Propose(ShardCommand command) implements Step {
    }

    /** Read the rows {@code source} handed off to this shard from {@code from} on, and propose them. */
    record Fetch(ShardId source, Key from) implements Step {
    }

    /** Tell the meta group that this shard holds every row {@code source} handed off to it. */
    record Taken(ShardId source) implements Step {
    }

    /** Tell the meta group that this source deleted what it handed off. */
    record Released() implements Step {
    }

    /**
     * The step of the leader of {@code shard}, whose replica holds {@code bounds} (empty before it
     * has any) with {@code handoffs} and {@code intakes} in flight.
     */
    static Optional<Step> next(Relocation r, ShardId shard, Optional<ShardBounds> bounds, List<Handoff> handoffs,
                               List<Intake> intakes) {
        Relocation.Epochs epochs = r.shards().get(shard);
        if (epochs == null || bounds.isEmpty()) {
            return Optional.empty();
        }
        long rv = bounds.get().epoch().rangeVersion();
        boolean source = r.isSource(shard);
        if (rv == epochs.before().rangeVersion()) {
            return Optional.of(new Propose(source
                    ? new ShardCommand.HandOff(shard, epochs.before(), epochs.after(), r.handoffsOf(shard))
                    : new ShardCommand.Receive(shard, epochs.before(), epochs.after(), r.intakesOf(shard))));
        }
        if (rv != epochs.after().rangeVersion()) {
            return Optional.empty(); // the replica lags (a split to apply first), or the step is past
        }
        if (source) {
            boolean holds = handoffs.stream().anyMatch(h -> h.relocation() == r.id());
            boolean allTaken = r.legs().stream().filter(l -> l.source().equals(shard))
                    .allMatch(Relocation.Leg::taken);
            if (holds) {
                return allTaken ? Optional.of(new Propose(new ShardCommand.Release(shard, epochs.after(), r.id())))
                        : Optional.empty();
            }
            return epochs.released() ? Optional.empty() : Optional.of(new Released());
        }
        for (Intake i : intakes) {
            if (i.relocation() == r.id()) {
                return Optional.of(new Fetch(i.source(), i.resumeAt()));
            }
        }
        for (Relocation.Leg l : r.legs()) {
            if (l.target().equals(shard) && !l.taken()) {
                return Optional.of(new Taken(l.source()));
            }
        }
        return Optional.empty();
    }
}
