/**
 * The load generator behind {@code atoll bench}: drives any etcd v3 API server (Atoll or etcd)
 * with put, range, txn, mixed and watch workloads and reports throughput and HdrHistogram
 * latency percentiles. Benchmarks are never tests: nothing here asserts a time.
 */
package dev.atoll.bench.load;
