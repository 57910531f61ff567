/**
 * A pure, deterministic Raft core ({@link dev.atoll.consensus.raft.RaftNode}): no threads, I/O,
 * clocks or unseeded randomness. Time comes in as {@code tick()}, randomness from the injected
 * {@link dev.atoll.core.RandomSource}, and every effect leaves through a
 * {@link dev.atoll.core.protocol.Ready}.
 *
 * <p>A driver:
 * <ol>
 *   <li>persists each Ready's hard state, snapshot and entries before sending its messages or
 *       applying its committed entries; a Ready with a snapshot replaces the whole persisted log
 *       by that snapshot followed by the Ready's entries;</li>
 *   <li>after {@code compact(index, data)} persists {@code RaftNode.snapshot()} (or builds the same
 *       record: index, {@code log().term(index)}, the membership in force at index, data) and may
 *       drop persisted entries up to index;</li>
 *   <li>on restart restores its state machine from the persisted snapshot and constructs the node
 *       from the persisted state; the first Ready re-emits committed entries after the snapshot;</li>
 *   <li>starts a node that will join later from
 *       {@code PersistentState.bootstrap(Membership.ofVoters(Set.of()))}: it waits, silent, until a
 *       leader sends it a snapshot carrying the membership;</li>
 *   <li>may send a Ready's {@code messagesBeforePersist()} before persisting it (thesis §10.2.1),
 *       and sends the rest only after;</li>
 *   <li>with {@code RaftConfig.proposalForwarding()}, keeps a waiter per
 *       {@code ProposeResult.Forwarded} proposal id and moves it to (index, term) when a Ready's
 *       {@code ProposalOutcome} is Accepted (before applying that Ready's entries), fails it on a
 *       refusal, answers "outcome unknown" when the index is already applied, and times it out
 *       when no outcome comes (a forwarded proposal or its answer can be lost);</li>
 *   <li>with {@code RaftConfig.followerReads()}, handles a forwarded read exactly as a leader's:
 *       serves it when its {@code ReadState} arrives and the state machine has applied its index,
 *       fails it at once on a {@code ReadRefusal}, and never reuses a read id within the life of one
 *       {@code RaftNode}.</li>
 * </ol>
 */
package dev.atoll.consensus.raft;
