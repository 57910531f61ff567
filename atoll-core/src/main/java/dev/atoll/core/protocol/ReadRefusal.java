package dev.atoll.core.protocol;

import static dev.atoll.core.Check.checkArgument;

/**
 * A linearizable read that will not get its {@link ReadState}: {@code refusal} is
 * {@link ProposeResult.NotLeader} (with a hint) or {@link ProposeResult.Dropped}. The read had no
 * effect; the driver fails it at once instead of waiting for a timeout.
 */
public record ReadRefusal(long readId, ProposeResult refusal) {
    public ReadRefusal {
        checkArgument(refusal instanceof ProposeResult.NotLeader || refusal instanceof ProposeResult.Dropped,
                "a read refusal is NotLeader or Dropped: %s", refusal);
    }
}
