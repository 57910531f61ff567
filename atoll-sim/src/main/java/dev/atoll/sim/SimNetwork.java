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

    /**
     * A nemesis's network fault: half the time a cut network heals; otherwise it is cut afresh in
     * one of four shapes: a random split, {@code leader} (or any node) isolated, one-way cuts
     * around one node (it can send but not receive, or the reverse), or a bridge (two halves only
     * one node connects). Draws from {@code random}; returns what it did, for the transcript.
     */
    public String healOrPartition(RandomSource random, List<NodeId> all, NodeId leader) {
        if (!healthy() && random.chance(0.5)) {
            heal();
            return "heal";
        }
        heal();
        switch (random.chance(0.4) ? 1 : random.nextInt(4)) {
            case 0 -> {
                var side = new java.util.HashSet<NodeId>();
                for (NodeId id : all) {
                    if (random.chance(0.5)) {
                        side.add(id);
                    }
                }
                partition(all, side);
                return "partition " + new java.util.TreeSet<>(side) + " | rest";
            }
            case 1 -> {
                NodeId victim = leader != null ? leader : all.get(random.nextInt(all.size()));
                partition(all, Set.of(victim));
                return "isolate " + victim;
            }
            case 2 -> {
                NodeId a = all.get(random.nextInt(all.size()));
                for (NodeId b : all) {
                    if (!b.equals(a)) {
                        if (random.chance(0.5)) {
                            cutOneWay(a, b);
                        } else {
                            cutOneWay(b, a);
                        }
                    }
                }
                return "one-way cuts around " + a;
            }
            default -> {
                NodeId bridge = all.get(random.nextInt(all.size()));
                var left = new java.util.ArrayList<NodeId>();
                var right = new java.util.ArrayList<NodeId>();
                for (NodeId id : all) {
                    if (!id.equals(bridge)) {
                        (random.chance(0.5) ? left : right).add(id);
                    }
                }
                for (NodeId l : left) {
                    for (NodeId r : right) {
                        cutBothWays(l, r);
                    }
                }
                return "bridge " + left + " <" + bridge + "> " + right;
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
