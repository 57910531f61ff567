package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

import java.nio.charset.StandardCharsets;

/**
 * One-server-at-a-time membership change (Raft thesis §4.1). Promoting a caught-up learner is
 * ADD_VOTER on a learner.
 */
public record MembershipChange(Type type, NodeId node) {
    public enum Type { ADD_VOTER, ADD_LEARNER, REMOVE }

    public byte[] encode() {
        return (type.name() + " " + node.value()).getBytes(StandardCharsets.UTF_8);
    }

    public static MembershipChange decode(byte[] data) {
        String s = new String(data, StandardCharsets.UTF_8);
        int space = s.indexOf(' ');
        if (space < 0) {
            throw new IllegalArgumentException("not a membership change: " + s);
        }
        return new MembershipChange(Type.valueOf(s.substring(0, space)), NodeId.of(s.substring(space + 1)));
    }
}
