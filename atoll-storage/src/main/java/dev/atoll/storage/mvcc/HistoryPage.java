package dev.atoll.storage.mvcc;

import java.util.List;

/**
 * Events in (revision, subRevision) order. {@code more} says the page was cut by its bound;
 * continue from the last event's (revision, subRevision + 1).
 */
public record HistoryPage(long currentRevision, List<Event> events, boolean more) {
}
