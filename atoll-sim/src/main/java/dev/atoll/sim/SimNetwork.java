package dev.atoll.sim;

import dev.atoll.core.NodeId;
import dev.atoll.core.RandomSource;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The simulated network between replicas: per-message delay (so reordering), loss,
 * duplication, rare long delays, and partitions as a set of cut directed links, which covers
 * symmetric, one-way and bridge partitions.
 */
public final class SimNetwork {
    private final RandomSource random;
    private FaultProfile profile;
    private final Set<Link> cut = new HashSet<>();

    record Link(NodeId from, NodeId to) {
    }

    public SimNetwork(RandomSource random, FaultProfile profile) {
        this.random = random;
        this.profile = profile;
    }

    /** Delays, in microseconds, of each copy of a message sent now; empty when it is lost. */
    public long[] deliveries(NodeId from, NodeId to) {
        if (cut.contains(new Link(from, to)) || random.chance(profile.lossRate())) {
            return new long[0];
        }
        int copies = random.chance(profile.duplicateRate()) ? 2 : 1;
        long[] delays = new long[copies];
        for (int i = 0; i < copies; i++) {
            delays[i] = delay();
        }
        return delays;
    }

    /** Whether a message that arrives now may be delivered (a partition also stops messages in flight). */
    public boolean connected(NodeId from, NodeId to) {
        return !cut.contains(new Link(from, to));
    }

    public long delay() {
        long d = profile.delayMinMicros() + random.nextLong(profile.delayMaxMicros() - profile.delayMinMicros() + 1);
        if (random.chance(profile.longDelayRate())) {
            d += random.nextLong(50_000);
        }
        return d;
    }

    public void cutOneWay(NodeId from, NodeId to) {
        cut.add(new Link(from, to));
    }

    public void cutBothWays(NodeId a, NodeId b) {
        cutOneWay(a, b);
        cutOneWay(b, a);
    }

    /** Splits the cluster: no link crosses between {@code side} and the rest. */
    public void partition(List<NodeId> all, Set<NodeId> side) {
        for (NodeId a : all) {
            for (NodeId b : all) {
                if (side.contains(a) != side.contains(b)) {
                    cutOneWay(a, b);
                }
            }
        }
    }

    public void heal() {
        cut.clear();
    }

    public boolean healthy() {
        return cut.isEmpty();
    }

    /** Liveness phase: no more loss, duplication or long delays. */
    public void calm() {
        profile = FaultProfile.none();
        heal();
    }

    public int cutLinkCount() {
        return cut.size();
    }
}
