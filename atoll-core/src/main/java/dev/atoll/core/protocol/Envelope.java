package dev.atoll.core.protocol;

import dev.atoll.core.NodeId;

/** A message with its sender and addressee, as it travels between drivers. */
public record Envelope<M>(NodeId from, NodeId to, M message) {
}
