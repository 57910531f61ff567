/** Benchmarks: JMH microbenchmarks of the cores; the load generator is in {@code dev.atoll.bench.load}. */
package dev.atoll.bench;
