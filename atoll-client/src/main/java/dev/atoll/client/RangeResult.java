package dev.atoll.client;

import java.util.List;

/**
 * The keys of a range in key order, at most the limit asked.
 *
 * @param more the range holds keys after the last one returned
 */
public record RangeResult(List<KeyValue> pairs, boolean more) {
    public RangeResult {
        pairs = List.copyOf(pairs);
    }
}
