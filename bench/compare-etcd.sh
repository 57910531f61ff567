#!/usr/bin/env bash
# Atoll against etcd on this machine, same load generator, same run.
#
#   bench/compare-etcd.sh [--quick] [--rounds N] [--prewarm D] [--prewarm-others D] [--warmup D]
#                         [--duration D]
#                         [--out DIR] [--profile DIR]
#
# What it does: starts a 3-member etcd (Debian's 3.4.23, installed when missing) on
# 127.0.0.1, runs the workloads below with `atoll bench`, stops it; then a 3-node Atoll
# (`atoll server` x3, the CLI jar) on 127.0.0.1, same workloads, stops it; then Atoll with lease
# reads for the range-linearizable-lease row; A B A B for
# --rounds rounds (default 3), each side fresh (new data dirs) every round. Then prints one
# markdown row per workload: the throughput ratio Atoll/etcd of the medians over rounds, and
# each side's median ops/s and median p99. Every process it starts is stopped by PID on exit.
#
# Both sides get the same client: all three members as endpoints, the same keys (10,000 keys
# of 16 bytes, values of 256 bytes, uniform), the same clients and connections, closed loop.
#
# Durability, what each side fsyncs before it acknowledges a write (both: default settings):
#   etcd 3.4: the raft WAL is fdatasync'ed once per Ready batch (all entries and the hard
#     state of one raft loop iteration) before the entries count toward commit; the leader
#     sends to followers in parallel with its own WAL write. A write is acknowledged once a
#     quorum has it in their synced WALs and the leader applied it. The bbolt backend commits
#     in batches (every 100 ms or 10,000 writes) and is not synced per request; the WAL is
#     what makes a write durable. --snapshot-count is 100,000 (its default).
#   Atoll: the node runtime (atoll-server NodeRuntime.round) collects every group's Ready,
#     appends it to the node's one WAL and fdatasyncs it (FileChannel.force(false)) once per
#     round, then sends the messages that depended on it, then applies; a write is
#     acknowledged once a quorum has it in their synced WALs and the leader applied it.
#     The MVCC store (RocksDB) is written without sync; recovery replays the WAL. As etcd's,
#     the leader sends its AppendEntries before its own fsync, so followers write in parallel.
#     --snapshot-count is set to 100,000 to match etcd's default.
#
# Workloads (rows of the table):
#   put-1client          put, 1 client, 1 connection: the latency of one write
#   put-64               put, 64 clients over 4 connections
#   put-256              put, 256 clients over 8 connections
#   range-linearizable   range of one key, --consistency l, 64 clients over 4 connections
#   range-serializable   range of one key, --consistency s, 64 clients over 4 connections
#   txn                  compare-and-swap on mod revision, 64 clients over 4 connections
#   range-linearizable-lease
#                        range-linearizable against a third side, Atoll started with
#                        --read-mode lease: the leader confirms a read from its lease (the last
#                        heartbeat round a quorum acknowledged, valid 8 of the 10 ticks of an
#                        election timeout), not by a heartbeat round per batch of reads. etcd 3.4
#                        has no lease reads (its ReadIndex is the row above); TiKV and CockroachDB
#                        serve linearizable reads from leases by default. Each round this side
#                        writes the keys (--prewarm-others of put-64), warms the reads (--prewarm)
#                        and measures this one workload.
# The puts run first each round, so the ranges and txns find the keys present.
#
# Timing: after a side is up, --prewarm (default 20 s) of unrecorded put-64 load, then
# --prewarm-others (default 5 s) each of unrecorded range-linearizable, range-serializable and
# txn load, so the JVM's JIT has compiled Atoll's hot paths of every workload before any is
# measured (etcd, a Go binary, gets the same load); then each workload runs --warmup (default
# 2 s, not recorded) and --duration (default 8 s). Without the reads and txns in the prewarm,
# C2 compiled their paths during their measured 10 s: 40-65% of the server CPU of those rows
# (bench/RESULTS.md, 12-02 later).
# --quick: 1 round, 2 s prewarm, 0.5 s warmup and 1 s per workload (about a minute: 61 s
#   here with the 2 cores busy with other jobs).
# --profile DIR: also record a JFR profile of every Atoll node into DIR (the figures of a
#   profiled run are not for the table: JFR costs a few percent).
# Benchmarks are not tests: nothing here passes or fails on a number.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
cd "$ROOT"

ROUNDS=3
PREWARM=20s
PREWARM_OTHERS=5s
DURATION=8s
WARMUP=2s
OUT=""
PROFILE=""
QUICK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; ROUNDS=1; PREWARM=2s; PREWARM_OTHERS=1s; DURATION=1s; WARMUP=0.5s ;;
        --rounds) ROUNDS="$2"; shift ;;
        --prewarm) PREWARM="$2"; shift ;;
        --prewarm-others) PREWARM_OTHERS="$2"; shift ;;
        --duration) DURATION="$2"; shift ;;
        --warmup) WARMUP="$2"; shift ;;
        --out) OUT="$2"; shift ;;
        --profile) PROFILE="$2"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare-etcd: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

WORKLOADS=(put-1client put-64 put-256 range-linearizable range-serializable txn)
workload_args() {
    case "$1" in
        put-1client) echo "put --conns 1 --clients 1" ;;
        put-64) echo "put --conns 4 --clients 64" ;;
        put-256) echo "put --conns 8 --clients 256" ;;
        range-linearizable) echo "range --consistency l --conns 4 --clients 64" ;;
        range-serializable) echo "range --consistency s --conns 4 --clients 64" ;;
        txn) echo "txn --txn-compare mod --conns 4 --clients 64" ;;
    esac
}
KEYS_ARGS="--key-count 10000 --key-size 16 --val-size 256"
COMMON_ARGS="$KEYS_ARGS --key-dist uniform --warmup $WARMUP --duration $DURATION --json --no-progress"

log() { echo "compare-etcd: $*" >&2; }

# ---------------------------------------------------------------- etcd, the JDK, the jar
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
    log "installing etcd-server and etcd-client from Debian"
    as_root apt-get install -y etcd-server etcd-client >&2
fi
ETCD_VERSION="$(etcd --version | sed -n 's/^etcd Version: //p')"

JAR="$ROOT/atoll-cli/target/atoll.jar"
"$ROOT/atoll" --version >/dev/null # builds the CLI jar when sources changed
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED)
bench() { "${JAVA[@]}" -jar "$JAR" bench "$@"; }

# ---------------------------------------------------------------- processes we started
WORK="$(mktemp -d "${TMPDIR:-/tmp}/atoll-compare.XXXXXX")"
PIDS=()
stop_pids() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
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

# ---------------------------------------------------------------- ports on 127.0.0.1
port_free() { ! (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORTS=()
pick_ports() {
    local want=$1 p=$((20000 + RANDOM % 30000))
    while [ "${#PORTS[@]}" -lt "$want" ]; do
        p=$((p + 1))
        if port_free "$p"; then PORTS+=("$p"); fi
    done
}
pick_ports 12
E_CLIENT=("${PORTS[@]:0:3}"); E_PEER=("${PORTS[@]:3:3}")
A_CLIENT=("${PORTS[@]:6:3}"); A_PEER=("${PORTS[@]:9:3}")
endpoints() { local IFS=,; local -a e=(); for p in "$@"; do e+=("127.0.0.1:$p"); done; echo "${e[*]}"; }
E_ENDPOINTS="$(endpoints "${E_CLIENT[@]}")"
A_ENDPOINTS="$(endpoints "${A_CLIENT[@]}")"

# Ready = every member accepts a write through etcdctl (a leader exists and commits).
await_ready() {
    local side=$1 endpoints=$2 e deadline=$((SECONDS + 60))
    for e in ${endpoints//,/ }; do
        until ETCDCTL_API=3 etcdctl --endpoints="$e" --command-timeout=2s put bench-ready "$side" >/dev/null 2>&1; do
            if [ $SECONDS -ge $deadline ]; then
                log "$side: member $e not ready within 60 s; logs in $WORK/logs"
                tail -5 "$WORK"/logs/"$side"-*.log >&2 || true
                exit 1
            fi
            sleep 0.2
        done
    done
}

start_etcd() {
    local round=$1 i cluster=""
    for i in 0 1 2; do cluster+="${cluster:+,}e$((i + 1))=http://127.0.0.1:${E_PEER[$i]}"; done
    for i in 0 1 2; do
        local name="e$((i + 1))"
        etcd --name "$name" --data-dir "$WORK/data/etcd-$round/$name" \
            --listen-client-urls "http://127.0.0.1:${E_CLIENT[$i]}" \
            --advertise-client-urls "http://127.0.0.1:${E_CLIENT[$i]}" \
            --listen-peer-urls "http://127.0.0.1:${E_PEER[$i]}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${E_PEER[$i]}" \
            --initial-cluster "$cluster" --initial-cluster-token "bench-$$-$round" \
            --initial-cluster-state new --logger zap --log-outputs stderr \
            >"$WORK/logs/etcd-$name-$round.log" 2>&1 &
        PIDS+=($!)
    done
    await_ready etcd "$E_ENDPOINTS"
}

start_atoll() {
    # start_atoll ROUND SIDE [SERVER ARGS...]: SIDE names its data and logs (atoll, atoll-lease)
    local round=$1 side=$2 i cluster="" clients=""
    shift 2
    for i in 0 1 2; do
        cluster+="${cluster:+,}n$((i + 1))=127.0.0.1:${A_PEER[$i]}"
        clients+="${clients:+,}n$((i + 1))=127.0.0.1:${A_CLIENT[$i]}"
    done
    for i in 0 1 2; do
        local name="n$((i + 1))" jfr=()
        if [ -n "$PROFILE" ]; then
            mkdir -p "$PROFILE"
            jfr=("-XX:StartFlightRecording=settings=profile,filename=$(cd "$PROFILE" && pwd)/$side-$name-round$round.jfr")
        fi
        "${JAVA[@]}" "${jfr[@]}" -jar "$JAR" server --name "$name" --data-dir "$WORK/data/$side-$round/$name" \
            --listen-client "127.0.0.1:${A_CLIENT[$i]}" --listen-peer "127.0.0.1:${A_PEER[$i]}" \
            --initial-cluster "$cluster" --initial-cluster-clients "$clients" --snapshot-count 100000 "$@" \
            >"$WORK/logs/$side-$name-$round.log" 2>&1 &
        PIDS+=($!)
    done
    await_ready "$side" "$A_ENDPOINTS"
}

CLK_TCK="$(getconf CLK_TCK)"
cpu_ticks() {
    local pid total=0
    for pid in "${PIDS[@]}"; do
        # fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$total"
}

run_side() {
    local side=$1 round=$2 endpoints w workloads=("${WORKLOADS[@]}")
    case "$side" in
        etcd) start_etcd "$round"; endpoints="$E_ENDPOINTS" ;;
        atoll) start_atoll "$round" atoll; endpoints="$A_ENDPOINTS" ;;
        atoll-lease) start_atoll "$round" atoll-lease --read-mode lease; endpoints="$A_ENDPOINTS" ;;
    esac
    if [ "$side" = atoll-lease ]; then
        # only the linearizable reads differ: the keys written, then the reads warmed as long as
        # the other sides' puts
        workloads=(range-linearizable)
        bench $(workload_args put-64) --endpoints "$endpoints" $KEYS_ARGS --duration "$PREWARM_OTHERS" --json \
            --no-progress >"$WORK/results/$side-$round-prewarm.json"
        bench $(workload_args range-linearizable) --endpoints "$endpoints" $KEYS_ARGS --duration "$PREWARM" --json \
            --no-progress >"$WORK/results/$side-$round-prewarm-range-linearizable.json"
    else
        bench $(workload_args put-64) --endpoints "$endpoints" --duration "$PREWARM" --json --no-progress \
            >"$WORK/results/$side-$round-prewarm.json"
        for w in range-linearizable range-serializable txn; do
            bench $(workload_args "$w") --endpoints "$endpoints" $KEYS_ARGS \
                --duration "$PREWARM_OTHERS" --json --no-progress >"$WORK/results/$side-$round-prewarm-$w.json"
        done
    fi
    for w in "${workloads[@]}"; do
        local file="$WORK/results/$side-$round-$w.json" before after
        before=$(cpu_ticks)
        # shellcheck disable=SC2046 # the workload's arguments are words on purpose
        bench $(workload_args "$w") --endpoints "$endpoints" $COMMON_ARGS >"$WORK/results/raw.json"
        after=$(cpu_ticks)
        # server CPU per request over the whole invocation (warmup included, at the measured rate)
        jq --argjson ticks $((after - before)) --argjson hz "$CLK_TCK" --arg span "$WARMUP $DURATION" '
            def secs: if endswith("ms") then (.[:-2] | tonumber) / 1000 elif endswith("s") then (.[:-1] | tonumber)
                      elif endswith("m") then (.[:-1] | tonumber) * 60 else tonumber end;
            ($span | split(" ") | map(secs) | add) as $seconds
            | . + {serverCpuMicrosPerOp: (if .opsPerSecond > 0 then ($ticks / $hz) * 1e6 / (.opsPerSecond * $seconds) else 0 end)}' \
            "$WORK/results/raw.json" >"$file"
        log "round $round $side $w: $(jq -r '"\(.opsPerSecond|floor) ops/s, p99 \(.latencyMicrosP99/1000) ms, errors \(.errorCount), server CPU \(.serverCpuMicrosPerOp|floor) us/op, load generator CPU \(.clientCpuMicrosPerOp // 0|floor) us/op"' "$file")"
    done
    stop_pids
}

log "work dir $WORK; etcd $ETCD_VERSION on $E_ENDPOINTS; atoll on $A_ENDPOINTS"
log "$ROUNDS round(s); per side $PREWARM put prewarm and $PREWARM_OTHERS of each other workload; per workload $WARMUP warmup, $DURATION measured"
for round in $(seq 1 "$ROUNDS"); do
    run_side etcd "$round"
    run_side atoll "$round"
    run_side atoll-lease "$round"
done

# ---------------------------------------------------------------- the table
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { local side=$1 w=$2 f=$3; for round in $(seq 1 "$ROUNDS"); do jq -r "$f" "$WORK/results/$side-$round-$w.json"; done; }

echo
echo "| workload | Atoll/etcd | Atoll ops/s | Atoll p99 ms | etcd ops/s | etcd p99 ms | errors Atoll/etcd | server CPU us/op Atoll/etcd | load generator CPU us/op Atoll run/etcd run |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
row() {
    # row LABEL ATOLL_SIDE WORKLOAD: Atoll's side against etcd's same workload
    local label=$1 aside=$2 w=$3
    a_ops=$(field "$aside" "$w" .opsPerSecond | median)
    e_ops=$(field etcd "$w" .opsPerSecond | median)
    a_p99=$(field "$aside" "$w" .latencyMicrosP99 | median)
    e_p99=$(field etcd "$w" .latencyMicrosP99 | median)
    a_err=$(field "$aside" "$w" .errorCount | awk '{ s += $1 } END { print s + 0 }')
    e_err=$(field etcd "$w" .errorCount | awk '{ s += $1 } END { print s + 0 }')
    a_cpu=$(field "$aside" "$w" .serverCpuMicrosPerOp | median)
    e_cpu=$(field etcd "$w" .serverCpuMicrosPerOp | median)
    a_gen=$(field "$aside" "$w" '.clientCpuMicrosPerOp // 0' | median)
    e_gen=$(field etcd "$w" '.clientCpuMicrosPerOp // 0' | median)
    awk -v w="$label" -v ao="$a_ops" -v eo="$e_ops" -v ap="$a_p99" -v ep="$e_p99" -v ae="$a_err" -v ee="$e_err" \
        -v ac="$a_cpu" -v ec="$e_cpu" -v ag="$a_gen" -v eg="$e_gen" 'BEGIN {
        ratio = eo > 0 ? sprintf("%.2fx", ao / eo) : "n/a"
        printf "| %s | %s | %.0f | %.2f | %.0f | %.2f | %d/%d | %.0f/%.0f | %.0f/%.0f |\n", w, ratio, ao, ap / 1000, eo, ep / 1000, ae, ee, ac, ec, ag, eg
    }'
}
for w in "${WORKLOADS[@]}"; do
    row "$w" atoll "$w"
done
row range-linearizable-lease atoll-lease range-linearizable
echo
echo "Medians over $ROUNDS round(s) (A B A B, etcd first); ops/s = successful requests per second over $DURATION after a $WARMUP warmup (each side prewarmed $PREWARM of puts, $PREWARM_OTHERS of each other workload); p99 in ms."
echo "Server CPU: the three servers' user+system time per request; load generator CPU: the \`atoll bench\` process's own, per request. The two share the machine's cores: where the generator takes as much CPU per request as etcd's servers, even a server costing nothing could not double etcd's throughput."
if [ "$QUICK" -eq 1 ]; then echo "(--quick: one short round; for a rough look only)"; fi
