package dev.atoll.sim;

import java.util.Locale;

/**
 * What a campaign asks of every seed: cluster size, fault set, an optional deliberate bug, and
 * how long the safety phase runs. Everything else (clients, keys, fault rates, snapshot
 * frequency, read mode) each seed draws for itself.
 */
public record SimOptions(int nodeCount, FaultProfile.Set faults, String mutation, long safetyMicros) {
    public static final long SAFETY_MICROS_DEFAULT = 3_000_000;

    public SimOptions {
        if (nodeCount != 1 && nodeCount != 3 && nodeCount != 5 && nodeCount != 7) {
            throw new IllegalArgumentException("--nodes must be 1, 3, 5 or 7: " + nodeCount);
        }
        if (safetyMicros <= 0) {
            throw new IllegalArgumentException("safety phase must be positive: " + safetyMicros);
        }
        mutation = mutation == null || mutation.isBlank() ? null : mutation.toUpperCase(Locale.ROOT);
    }

    public static SimOptions of(int nodeCount, FaultProfile.Set faults) {
        return new SimOptions(nodeCount, faults, null, SAFETY_MICROS_DEFAULT);
    }

    public SimOptions withMutation(String name) {
        return new SimOptions(nodeCount, faults, name, safetyMicros);
    }

    public SimMutation simMutation() {
        if (mutation == null) {
            return null;
        }
        for (SimMutation m : SimMutation.values()) {
            if (m.name().equals(mutation)) {
                return m;
            }
        }
        return null;
    }
}
