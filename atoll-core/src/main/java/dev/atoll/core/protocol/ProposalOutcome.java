package dev.atoll.core.protocol;

import static dev.atoll.core.Check.checkArgument;

/**
 * What the leader made of a proposal this replica forwarded ({@link ProposeResult.Forwarded}):
 * exactly what {@code propose} would have returned on the leader. {@link ProposeResult.Accepted}
 * places the command at (index, term): it is committed iff an entry at that index <em>and</em>
 * term is applied, as for a local proposal. {@link ProposeResult.NotLeader} and
 * {@link ProposeResult.Dropped} mean the command was not appended and never will be.
 *
 * <p>A driver that receives an Accepted outcome for an index its state machine has already
 * applied (the entry overtook the outcome) cannot tell whether that entry was this command: it
 * answers "outcome unknown". A proposalId it no longer waits for (answered, timed out, or from a
 * duplicated message) is ignored.
 */
public record ProposalOutcome(long proposalId, ProposeResult result) {
    public ProposalOutcome {
        checkArgument(result != null && !(result instanceof ProposeResult.Forwarded),
                "an outcome is Accepted, NotLeader or Dropped: %s", result);
    }
}
