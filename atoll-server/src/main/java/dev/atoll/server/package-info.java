/** The node runtime: drives the pure protocol cores with a real disk, network and clock. */
package dev.atoll.server;
