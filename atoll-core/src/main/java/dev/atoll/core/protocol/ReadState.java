package dev.atoll.core.protocol;

/** A linearizable read barrier passed: read {@code readId} may be served once {@code index} is applied. */
public record ReadState(long readId, long index) {
}
