package dev.atoll.core.protocol;

/** The role a replica plays at one moment, as drivers and checkers see it. */
public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER, LEARNER }
