package dev.atoll.server.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Where member and cluster ids come from. A founding member's id is the first 8 bytes of
 * SHA-256 of its name, the cluster's the same hash of its founding list, so every founder
 * computes the same ids from its flags. A member added through the API gets etcd's id: the
 * first 8 bytes of SHA-1 over its sorted peer URLs, the (empty) cluster token and the Unix
 * second of the request (etcd's computeMemberId), so adding the same URLs twice within a second
 * collides exactly as it does in etcd. Id 0 is reserved and never returned.
 */
public final class MemberIds {
    private MemberIds() {
    }

    /** A founding member's id, and the cluster id of a founding list's name. */
    public static long ofName(String name) {
        return first8(digest("SHA-256", name.getBytes(StandardCharsets.UTF_8)));
    }

    /** etcd's id for a member added with {@code sortedPeerUrls} at {@code epochSecond}. */
    public static long ofAddedMember(List<String> sortedPeerUrls, long epochSecond) {
        String joined = String.join("", sortedPeerUrls) + epochSecond;
        return first8(digest("SHA-1", joined.getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] digest(String algorithm, byte[] input) {
        try {
            return MessageDigest.getInstance(algorithm).digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }

    private static long first8(byte[] digest) {
        long id = 0;
        for (int i = 0; i < 8; i++) {
            id = (id << 8) | (digest[i] & 0xFF);
        }
        return id == 0 ? 1 : id;
    }
}
