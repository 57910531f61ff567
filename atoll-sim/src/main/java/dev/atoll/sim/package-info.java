/** The deterministic simulator: one thread, one seed, a faulty world, checked histories. */
package dev.atoll.sim;
