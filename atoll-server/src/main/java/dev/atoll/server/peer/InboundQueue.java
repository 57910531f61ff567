package dev.atoll.server.peer;

import dev.atoll.consensus.raft.RaftMessage;
import dev.atoll.core.protocol.Envelope;

import java.util.Collection;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded handoff from gRPC threads to the runtime's loop thread: {@link #deliver} never
 * blocks and refuses once {@code messagesMax} messages wait; the loop thread takes them with
 * {@link #drainTo} each round, or waits for the first one with {@link #poll}. Order is kept
 * per sender (each stream delivers from one thread at a time). Thread-safe.
 */
public final class InboundQueue implements PeerInbox {
    private final ArrayBlockingQueue<InboundMessage> messages;
    private final int messagesMax;

    public InboundQueue(int messagesMax) {
        if (messagesMax <= 0) {
            throw new IllegalArgumentException("messagesMax must be positive: " + messagesMax);
        }
        this.messagesMax = messagesMax;
        this.messages = new ArrayBlockingQueue<>(messagesMax);
    }

    @Override
    public boolean deliver(long groupId, Envelope<RaftMessage> envelope, String traceparent) {
        return messages.offer(new InboundMessage(groupId, envelope, traceparent));
    }

    /** Moves up to {@code messagesMax} waiting messages into {@code into}; returns how many. */
    public int drainTo(Collection<? super InboundMessage> into, int messagesMax) {
        return messages.drainTo(into, messagesMax);
    }

    /** The oldest waiting message, waiting up to {@code timeoutMillis} for one; null if none came. */
    public InboundMessage poll(long timeoutMillis) throws InterruptedException {
        return messages.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    public int size() {
        return messages.size();
    }

    public int messagesMax() {
        return messagesMax;
    }
}
