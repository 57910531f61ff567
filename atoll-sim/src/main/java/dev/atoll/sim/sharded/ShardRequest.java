package dev.atoll.sim.sharded;

import dev.atoll.shard.replica.ShardCommand;

/** One attempt of a client operation, as it travels to a host: the group it is for and the command. */
record ShardRequest(int clientId, int attempt, long group, ShardCommand command) {
}
