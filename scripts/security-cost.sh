#!/usr/bin/env bash
# security-cost.sh - what CURVE and credentials cost, measured with zchat-bench: the
# same 3-replica cluster run with CURVE (the default) and with --insecure, alternately,
# ROUNDS times (default 3), a fresh cluster each time; then one-at-a-time sends again
# while 100 CONNECTs per second (each an Argon2id check on the leader) run beside them.
# Prints each run and the medians. Usage: scripts/security-cost.sh [ROUNDS]
# Env: ZCHAT_BIN (default ./build), COST_PORT (first of 9 ports, default 7501).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build}
rounds=${1:-3}
base=${COST_PORT:-7501}
dir=$(mktemp -d /tmp/zchat-cost.XXXXXX)
peers="127.0.0.1:$base,127.0.0.1:$((base + 3)),127.0.0.1:$((base + 6))"
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
         for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop; rm -rf "$dir"' EXIT
"$bin/zchat-keys" init "$dir/keys" >/dev/null
export ZCHAT_SERVER_KEY=$dir/keys/server.cert GLIBC_TUNABLES=glibc.malloc.hugetlb=1

start() {   # start MODE RUN: a fresh cluster, secure or insecure
  local flags=(--keys "$dir/keys")
  [ "$1" = insecure ] && flags=(--insecure)
  for i in 1 2 3; do
    "$bin/zchat-broker" --id "$i" --peers "$peers" --data "$dir/$2/d$i" "${flags[@]}" \
        >>"$dir/$2-$i.log" 2>&1 &
    pids+=($!)
  done
}

# bench MODE ARGS...: one zchat-bench run; prints "acked/s p50_ms p99_ms".
bench() {
  local mode=$1; shift
  local extra=()
  [ "$mode" = insecure ] && extra=(--insecure)
  ZCHAT_INSECURE=$([ "$mode" = insecure ] && echo 1 || echo 0) \
  "$bin/zchat-bench" --servers "$peers" --json "$@" 2>/dev/null | python3 -c '
import json,sys
s=json.load(sys.stdin); l=s["ack_latency_us"]
assert s["lost"]==0 and s["duplicated"]==0 and s["failed"]==0, s
print("%.0f %.3f %.3f %s" % (s["acked_per_s"], l["p50"]/1000, l["p99"]/1000,
      s.get("logins_ok","-")))'
}

warm() {    # until the cluster serves a send
  local mode=$1
  for _ in $(seq 1 100); do
    bench "$mode" --senders 1 --receivers 1 --messages 10 --inflight 1 >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "security-cost: the $mode cluster never served" >&2; return 1
}

PIPE=(--senders 1 --receivers 1 --messages 30000 --size 800 --inflight 256 --connect-late)
ONE=(--senders 1 --receivers 1 --messages 3000 --size 800 --inflight 1)
declare -A out
for r in $(seq 1 "$rounds"); do
  for mode in curve insecure; do
    start "$mode" "r$r-$mode"
    warm "$mode"
    out[$mode-pipe-$r]=$(bench "$mode" "${PIPE[@]}")
    out[$mode-one-$r]=$(bench "$mode" "${ONE[@]}")
    [ "$mode" = curve ] && out[curve-login-$r]=$(bench curve "${ONE[@]}" --logins 100)
    stop
    echo "round $r $mode: pipelined ${out[$mode-pipe-$r]} | one-at-a-time ${out[$mode-one-$r]}${out[curve-login-$r]:+ | +100 logins/s ${out[curve-login-$r]}}" | sed 's/ -$//'
  done
done
python3 - "$rounds" <<PY
import statistics as st, sys
rounds=int(sys.argv[1])
raw = """$(for k in "${!out[@]}"; do echo "$k ${out[$k]}"; done)"""
d={}
for line in raw.strip().splitlines():
    k,*v=line.split(); name=k.rsplit("-",1)[0]; d.setdefault(name,[]).append([float(x) if x!="-" else 0 for x in v])
med=lambda name,i: st.median(x[i] for x in d[name])
print("\nmedians of %d rounds (acked msgs/s, send->ack p50 ms, p99 ms):" % rounds)
for n in ("curve-pipe","insecure-pipe","curve-one","insecure-one","curve-login"):
    if n in d: print("  %-14s %9.0f  %7.3f  %7.3f" % (n, med(n,0), med(n,1), med(n,2)))
print("pipelined throughput, CURVE vs insecure: %+.1f%%" % (100*(med("curve-pipe",0)/med("insecure-pipe",0)-1)))
print("one-at-a-time p50 added by CURVE: %+.3f ms" % (med("curve-one",1)-med("insecure-one",1)))
print("one-at-a-time p99 with 100 logins/s vs without: %.3f vs %.3f ms (logins ok per run: %s)"
      % (med("curve-login",2), med("curve-one",2), [int(x[3]) for x in d["curve-login"]]))
PY
