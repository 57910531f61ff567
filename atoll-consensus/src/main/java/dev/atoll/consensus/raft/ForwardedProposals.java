package dev.atoll.consensus.raft;

import dev.atoll.core.NodeId;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The forwarded proposals a leader has taken in its term, so that a duplicated or replayed
 * {@link RaftMessage.Propose} appends nothing (an anti-replay window, as IPsec keeps per
 * security association). Per proposer and proposer incarnation it remembers the highest
 * proposal id and which of the {@link #WINDOW_IDS} ids below it were seen; an id older than the
 * window is treated as seen, so a very late copy is dropped rather than appended twice.
 * Bounded: {@link #INCARNATIONS_PER_PROPOSER_MAX} incarnations per proposer (the oldest is
 * forgotten; a copy from it arriving afterwards is the one case that could append twice, and
 * needs that many restarts of one follower within one leader's term while the copy is in flight).
 */
final class ForwardedProposals {
    static final int WINDOW_IDS = 64;
    static final int INCARNATIONS_PER_PROPOSER_MAX = 4;

    private static final class Window {
        long highestId;
        /** Bit i set: id highestId - i was seen. */
        long seenMask;
    }

    private final Map<NodeId, LinkedHashMap<Long, Window>> byProposer = new HashMap<>();

    /**
     * Records {@code proposalId} from {@code proposer}'s {@code incarnation}; returns true the first
     * time, false when it was (or may have been) seen before.
     */
    boolean firstTime(NodeId proposer, long incarnation, long proposalId) {
        if (proposalId <= 0) {
            return false;
        }
        LinkedHashMap<Long, Window> windows = byProposer.computeIfAbsent(proposer, p -> new LinkedHashMap<>());
        Window w = windows.get(incarnation);
        if (w == null) {
            if (windows.size() >= INCARNATIONS_PER_PROPOSER_MAX) {
                windows.remove(windows.keySet().iterator().next());
            }
            w = new Window();
            windows.put(incarnation, w);
        }
        if (proposalId > w.highestId) {
            long shift = proposalId - w.highestId;
            w.seenMask = shift >= WINDOW_IDS ? 0 : w.seenMask << shift;
            w.seenMask |= 1;
            w.highestId = proposalId;
            return true;
        }
        long offset = w.highestId - proposalId;
        if (offset >= WINDOW_IDS) {
            return false;
        }
        long bit = 1L << offset;
        if ((w.seenMask & bit) != 0) {
            return false;
        }
        w.seenMask |= bit;
        return true;
    }
}
