/**
 * The peer transport: Raft messages of every replica group on a node travel to each peer in
 * batches on one long-lived gRPC stream ({@code atoll/peer.proto}), bounded at every step.
 *
 * <ul>
 *   <li>{@link dev.atoll.server.peer.RaftWireCodec}: Raft records to and from protobuf; decoding
 *       untrusted input fails only with {@link dev.atoll.server.peer.PeerMalformedException}.</li>
 *   <li>{@link dev.atoll.server.peer.PeerTransport}: per-peer bounded queues, batching under the
 *       receiver's credit, reconnect with seeded jittered backoff, StreamOpen checks and refusals,
 *       metrics. {@code send} and {@code flush} never block the runtime's loop thread.</li>
 *   <li>{@link dev.atoll.server.peer.PeerInbox} / {@link dev.atoll.server.peer.InboundQueue}:
 *       received messages arrive on gRPC threads and must be handed to the loop thread.</li>
 * </ul>
 */
package dev.atoll.server.peer;
