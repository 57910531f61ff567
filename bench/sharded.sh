#!/usr/bin/env bash
# Put throughput of one range keyspace cut into 1, 4 and 16 shards, through atoll-client.
#
#   bench/sharded.sh [--shards "1 4 16"] [--clients 64] [--prewarm D] [--duration D] [--out DIR]
#
# For each shard count, fresh: starts a 3-node Atoll (`atoll server` x3, the CLI jar) on
# 127.0.0.1, creates keyspace `users` (range sharding, replication factor 3, one shard), splits it
# into N shards at evenly spaced keys of the bench's key space (bench/0000000000 ..
# bench/0000009999), hands the shards' leaders round-robin to n1, n2, n3, runs --prewarm of
# unrecorded puts (the JIT), then `atoll bench put --keyspace users` with --clients clients for
# --duration, then the same puts on etcd's `default` keyspace through the etcd API as a reference
# for how busy the machine was, and stops the nodes. Prints one markdown row per shard count, with
# the servers' CPU time (user + system, all three nodes) per put: a figure that a busy machine
# disturbs much less than throughput. Every process it starts is stopped by PID on exit.
# Benchmarks are not tests: nothing here passes or fails on a number.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
cd "$ROOT"

SHARD_COUNTS="1 4 16"
CLIENTS=64
PREWARM=10s
DURATION=15s
OUT=""
KEY_COUNT=10000
while [ $# -gt 0 ]; do
    case "$1" in
        --shards) SHARD_COUNTS="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --prewarm) PREWARM="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        *) echo "bench/sharded.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

log() { echo "[sharded $(date +%H:%M:%S)] $*" >&2; }

JAR="$ROOT/atoll-cli/target/atoll.jar"
if [ ! -f "$JAR" ] || [ -n "$(find "$ROOT" -path "$ROOT/.git" -prune -o \( -name '*.java' -o -name 'pom.xml' \) -newer "$JAR" -print -quit)" ]; then
    log "building the CLI jar"
    ./mvnw -B -q -ntp -DskipTests -pl atoll-cli -am package >&2
fi
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED)
atoll() { "${JAVA[@]}" -jar "$JAR" "$@"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/atoll-sharded.XXXXXX")"
PIDS=()
stop_pids() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid did not stop on SIGTERM within 10 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    local rc=$?
    stop_pids
    if [ -n "$OUT" ]; then
        mkdir -p "$OUT"
        cp -r "$WORK/results" "$WORK/logs" "$OUT/" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/results" "$WORK/logs"

CLK_TCK="$(getconf CLK_TCK)"
cpu_ticks() {
    local pid total=0
    for pid in "${PIDS[@]}"; do
        # fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$total"
}

port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORTS=()
p=$((20000 + RANDOM % 30000))
while [ "${#PORTS[@]}" -lt 6 ]; do
    p=$((p + 1))
    if port_free "$p"; then PORTS+=("$p"); fi
done
CLIENT=("${PORTS[@]:0:3}"); PEER=("${PORTS[@]:3:3}")
ENDPOINTS="127.0.0.1:${CLIENT[0]},127.0.0.1:${CLIENT[1]},127.0.0.1:${CLIENT[2]}"

start_cluster() {
    local run=$1 i cluster="" clients=""
    for i in 0 1 2; do
        cluster+="${cluster:+,}n$((i + 1))=127.0.0.1:${PEER[$i]}"
        clients+="${clients:+,}n$((i + 1))=127.0.0.1:${CLIENT[$i]}"
    done
    for i in 0 1 2; do
        "${JAVA[@]}" -jar "$JAR" server --name "n$((i + 1))" --data-dir "$WORK/data/$run/n$((i + 1))" \
            --listen-client "127.0.0.1:${CLIENT[$i]}" --listen-peer "127.0.0.1:${PEER[$i]}" \
            --initial-cluster "$cluster" --initial-cluster-clients "$clients" --snapshot-count 100000 \
            >"$WORK/logs/atoll-n$((i + 1))-$run.log" 2>&1 &
        PIDS+=($!)
    done
}

# keyspace `users` in N shards split at the bench's keys, leaders round-robin over n1..n3
prepare_keyspace() {
    local n=$1 deadline=$((SECONDS + 90)) i
    until atoll keyspace create users --sharding range --shards 1 --replication-factor 3 \
            --endpoints "$ENDPOINTS" --timeout 10 >/dev/null 2>"$WORK/logs/create.err"; do
        if [ $SECONDS -ge $deadline ]; then
            log "the cluster did not create the keyspace within 90 s: $(cat "$WORK/logs/create.err")"
            exit 1
        fi
        sleep 0.5
    done
    # shard ids count up from 1 in a fresh cluster: split i creates s(i+1), the upper part
    for ((i = 1; i < n; i++)); do
        atoll shard split "s$i" --at "$(printf 'bench/%010d' $((i * KEY_COUNT / n)))" --endpoints "$ENDPOINTS" >/dev/null
    done
    for ((i = 1; i <= n; i++)); do
        atoll shard transfer-leader "s$i" --to "n$(((i - 1) % 3 + 1))" --endpoints "$ENDPOINTS" >/dev/null 2>&1 || true
    done
    atoll shard list --keyspace users --endpoints "$ENDPOINTS" >"$WORK/results/shards-$n.txt"
}

ROWS=()
for n in $SHARD_COUNTS; do
    log "$n shard(s): starting 3 nodes"
    start_cluster "$n"
    prepare_keyspace "$n"
    log "$n shard(s): $(grep -c '^s' "$WORK/results/shards-$n.txt") shards; prewarm $PREWARM"
    atoll bench put --keyspace users --endpoints "$ENDPOINTS" --clients "$CLIENTS" --duration "$PREWARM" \
        --key-count "$KEY_COUNT" --no-progress >/dev/null
    log "$n shard(s): measuring $DURATION"
    ticks_before=$(cpu_ticks)
    atoll bench put --keyspace users --endpoints "$ENDPOINTS" --clients "$CLIENTS" \
        --duration "$DURATION" --key-count "$KEY_COUNT" --json --no-progress >"$WORK/results/put-$n.json"
    ticks=$(($(cpu_ticks) - ticks_before))
    # the same load on etcd's `default` keyspace (one Raft group, the etcd API) of the same cluster,
    # right after: how busy the machine was, for reading the row
    log "$n shard(s): reference: put on the default keyspace through the etcd API"
    ref_before=$(cpu_ticks) # over its 2 s warmup too, whose puts are counted at the measured rate
    atoll bench put --endpoints "$ENDPOINTS" --clients "$CLIENTS" --conns 4 --warmup 2s \
        --duration "$DURATION" --key-count "$KEY_COUNT" --json --no-progress >"$WORK/results/default-put-$n.json"
    ref_ticks=$(($(cpu_ticks) - ref_before))
    ROWS+=("$(python3 - "$n" "$WORK/results/put-$n.json" "$WORK/results/default-put-$n.json" "$ticks" "$CLK_TCK" \
        "$ref_ticks" <<'PY'
import json, sys
n, path, ref, ticks, tck = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ref_ticks = int(sys.argv[6])
r = json.load(open(path))
d = json.load(open(ref))
print(f"| {n} | {r['opsPerSecond']:.0f} | {r['latencyMicrosP50']/1000:.1f} | {r['latencyMicrosP99']/1000:.1f} "
      f"| {r['latencyMicrosP999']/1000:.1f} | {r['errorCount']} | {ticks * 1e6 / tck / max(1, r['opCount']):.0f} "
      f"| {d['opsPerSecond']:.0f} | {ref_ticks * 1e6 / tck / max(1, d['opCount'] + 2 * d['opsPerSecond']):.0f} |")
PY
)")
    cat "$WORK/results/shards-$n.txt" >&2
    stop_pids
done

echo "| shards | put ops/s | p50 ms | p99 ms | p99.9 ms | errors | server CPU µs/put | default keyspace put ops/s (etcd API, same cluster, right after) | its server CPU µs/put |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
