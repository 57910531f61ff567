/** Benchmarks: JMH microbenchmarks of the cores and (later) the load generator. */
package dev.atoll.bench;
