package dev.atoll.sim;

import dev.atoll.core.RandomSource;

import java.util.Locale;

/**
 * Which faults one simulated run injects, and how hard. Swarm testing: every seed draws its
 * own profile within the chosen fault set, so a campaign explores combinations nobody wrote.
 */
public record FaultProfile(
        double lossRate,
        double duplicateRate,
        long delayMinMicros,
        long delayMaxMicros,
        double longDelayRate,
        boolean partitions,
        boolean crashes,
        boolean tornWrites,
        boolean pauses,
        boolean clockSkew,
        double clockSkewMax,
        boolean membershipChanges,
        boolean leadershipTransfers,
        double leaderKillRate,
        long faultIntervalMicrosMean) {

    /** The fault sets a campaign can ask for on the command line. */
    public enum Set {
        NONE, NET, CRASH, ALL;

        public static Set parse(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }
    }

    public static FaultProfile none() {
        return new FaultProfile(0, 0, 100, 1_000, 0, false, false, false, false, false, 0, false, false, 0, 0);
    }

    /** Draws a profile for one seed within {@code set}. */
    public static FaultProfile swarm(Set set, RandomSource r) {
        if (set == Set.NONE) {
            return none();
        }
        boolean net = set == Set.NET || set == Set.ALL;
        boolean crash = set == Set.CRASH || set == Set.ALL;
        boolean all = set == Set.ALL;
        double loss = net ? pick(r, 0, 0.01, 0.05, 0.15) : 0;
        double dup = net ? pick(r, 0, 0.01, 0.05) : 0;
        long delayMax = net ? (long) pick(r, 1_000, 5_000, 20_000) : 1_000;
        double longDelay = net ? pick(r, 0, 0.01, 0.03) : 0;
        boolean skew = all && r.chance(0.5);
        double leaderKill = crash ? pick(r, 0, 0.2, 0.5) : 0;
        return new FaultProfile(loss, dup, 100, delayMax, longDelay,
                net && r.chance(0.85),
                crash && r.chance(0.9),
                crash && r.chance(0.7),
                (crash || all) && r.chance(0.5),
                skew,
                skew ? pick(r, 0.02, 0.05) : 0,
                all && r.chance(0.5),
                all && r.chance(0.5),
                leaderKill,
                (long) pick(r, 50_000, 150_000, 400_000));
    }

    public boolean anyFault() {
        return partitions || crashes || pauses || membershipChanges || leadershipTransfers || lossRate > 0
                || duplicateRate > 0 || longDelayRate > 0;
    }

    private static double pick(RandomSource r, double... options) {
        return options[r.nextInt(options.length)];
    }
}
