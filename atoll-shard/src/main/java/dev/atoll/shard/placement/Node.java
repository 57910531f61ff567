package dev.atoll.shard.placement;

import dev.atoll.core.NodeId;

import java.util.Objects;

import static dev.atoll.core.Check.checkArgument;

/**
 * A node as placement sees it: where it is (region, zone), how much it holds (capacity) and
 * whether it takes replicas. UP nodes take new replicas; DRAINING nodes still serve but are
 * emptied (decommissioning); DOWN nodes are gone and their replicas are re-created elsewhere.
 */
public record Node(NodeId id, String region, String zone, long capacityBytes, State state) {
    public enum State { UP, DRAINING, DOWN }

    public Node {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(state, "state");
        checkArgument(capacityBytes > 0, "capacity is positive: %d", capacityBytes);
    }

    /** Still running: its replicas count towards quorum. */
    public boolean isAlive() {
        return state != State.DOWN;
    }

    public Node withState(State newState) {
        return new Node(id, region, zone, capacityBytes, newState);
    }
}
