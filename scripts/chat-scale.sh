#!/usr/bin/env bash
# chat-scale.sh - scenario D, chat scale: many connected receivers, many senders at a
# low per-sender rate, on a fresh 3-replica cluster with CURVE keys (and, with
# --insecure, the same without). Per run, zchat-bench creates and connects every
# receiver, leaves the sessions idle for --idle seconds while it reads the leader's
# CPU from /proc/PID/stat, then sends open loop and verifies every delivery.
# Prints each run, then the medians: send->delivery p50/p99, idle leader CPU (% of one
# core) with the sessions connected, leader RSS per session.
#
# Usage: scripts/chat-scale.sh [--receivers N] [--senders S] [--rate R] [--duration SECONDS]
#          [--idle SECONDS] [--size BYTES] [--runs K] [--modes curve,insecure] [--bin DIR]
#          [--json-dir DIR] [--default-pwhash]
# Defaults: 2000 receivers, 200 senders at 1 msg/s each for 20 s, idle 10 s, 100-byte
# messages, 1 run, CURVE only. Users are created with a cheaper Argon2id cost
# (--pwhash-mem-kib 8192 --pwhash-ops 1: 2.7 ms a check instead of 11) so that 2000
# creates and connects take seconds, not a minute; --default-pwhash keeps the default.
# Env: ZCHAT_BIN (default ./build), SCALE_PORT (first of 9 ports, default 7701).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build}
receivers=2000 senders=200 rate=1 duration=20 idle=10 size=100 runs=1 modes=curve
json_dir="" pwhash=(--pwhash-mem-kib 8192 --pwhash-ops 1)
while [ $# -gt 0 ]; do
  case "$1" in
    --receivers) receivers=$2; shift 2 ;;
    --senders) senders=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --insecure) modes=curve,insecure; shift ;;
    --bin) bin=$2; shift 2 ;;
    --json-dir) json_dir=$2; shift 2 ;;
    --default-pwhash) pwhash=(); shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chat-scale: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for exe in zchat-broker zchat-bench zchat zchat-keys; do
  [ -x "$bin/$exe" ] || { echo "chat-scale: no $bin/$exe (build first, or --bin DIR)" >&2; exit 2; }
done
base=${SCALE_PORT:-7701}
dir=$(mktemp -d /tmp/zchat-scale.XXXXXX)
[ -n "$json_dir" ] && mkdir -p "$json_dir"
peers="127.0.0.1:$base,127.0.0.1:$((base + 3)),127.0.0.1:$((base + 6))"
pids=()
stop() { local p
         for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
         for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop; rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
"$bin/zchat-keys" init "$dir/keys" >/dev/null
export ZCHAT_SERVER_KEY=$dir/keys/server.cert GLIBC_TUNABLES=glibc.malloc.hugetlb=1

start() {   # start MODE RUN: a fresh cluster
  local flags=(--keys "$dir/keys") i
  [ "$1" = insecure ] && flags=(--insecure)
  for i in 1 2 3; do
    "$bin/zchat-broker" --id "$i" --peers "$peers" --data "$dir/$2/d$i" "${flags[@]}" \
        "${pwhash[@]}" >>"$dir/$2-$i.log" 2>&1 &
    pids+=($!)
  done
}

leader_pid() {   # the pid of the replica that says it leads, or nothing
  local id
  id=$(echo status | ZCHAT_INSECURE=$([ "$1" = insecure ] && echo 1 || echo 0) \
       "$bin/zchat" --servers "$peers" --json 2>/dev/null | python3 -c '
import json, sys
rs = [r for r in json.loads(sys.stdin.readline()).get("replicas", []) if r.get("role") == "leader"]
print(max(rs, key=lambda r: r["term"])["id"] if rs else "")' 2>/dev/null) || true
  [ -n "$id" ] && echo "${pids[$((id - 1))]}"
}

wait_leader() {  # wait_leader MODE: prints the leader's pid within 30 s
  local deadline=$((SECONDS + 30)) pid
  while [ $SECONDS -lt $deadline ]; do
    pid=$(leader_pid "$1") && [ -n "$pid" ] && { echo "$pid"; return 0; }
    sleep 0.2
  done
  echo "chat-scale: no leader within 30 s (logs: $dir)" >&2; return 1
}

declare -A out
for r in $(seq 1 "$runs"); do
  for mode in ${modes//,/ }; do
    start "$mode" "r$r-$mode"
    lp=$(wait_leader "$mode")
    json=$dir/r$r-$mode.json
    cmd=(nice "$bin/zchat-bench" --servers "$peers" --senders "$senders" --receivers "$receivers"
         --rate-per-sender "$rate" --duration "$duration" --idle "$idle" --size "$size"
         --watch-pids "$lp" --scenario "D-$mode" --json)
    echo "\$ ${cmd[*]}" >&2
    ZCHAT_INSECURE=$([ "$mode" = insecure ] && echo 1 || echo 0) \
      timeout $((600 + receivers / 10)) "${cmd[@]}" >"$json" 2>"$dir/r$r-$mode.err" \
      || echo "chat-scale: run $r $mode: zchat-bench failed (see below)" >&2
    stop
    [ -n "$json_dir" ] && cp "$json" "$json_dir/"
    out[$mode-$r]=$(python3 - "$json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("failed"); sys.exit(0)
l, w = d["delivery_latency_us"], d["watch"][0]
bad = {k: d[k] for k in ("lost", "duplicated", "reordered", "phantom", "errors") if d[k]}
print("%.3f %.3f %.2f %.1f %.2f %d %d%s" % (l["p50"] / 1000, l["p99"] / 1000, w["idle_cpu_pct"],
      w["rss_kib_per_session"], w["run_cpu_pct"], d["delivered"], d["acked"],
      (" AUDIT " + json.dumps(bad)) if bad else ""))
PY
)
    echo "run $r $mode: delivery p50 p99 ms, idle leader CPU %, leader KiB/session, run CPU %, delivered, acked: ${out[$mode-$r]}"
    case "${out[$mode-$r]}" in failed|*AUDIT*) tail -5 "$dir/r$r-$mode.err" >&2 ;; esac
  done
done

python3 - "$runs" "$receivers" "$senders" "$rate" "$duration" "$idle" <<PY
import statistics as st, sys
runs, R, S, rate, dur, idle = sys.argv[1:]
raw = """$(for k in "${!out[@]}"; do echo "$k ${out[$k]}"; done)"""
d = {}
for line in raw.strip().splitlines():
    k, *v = line.split()
    if v[0] == "failed" or "AUDIT" in v:
        continue
    d.setdefault(k.rsplit("-", 1)[0], []).append([float(x) for x in v[:5]])
print("\nscenario D: %s receivers connected, %s senders at %s msg/s each for %s s, idle %s s; "
      "medians of %s run(s)" % (R, S, rate, dur, idle, runs))
print("%-9s %5s %14s %14s %16s %18s %14s" % ("mode", "runs", "deliv p50 ms", "deliv p99 ms",
      "idle leader CPU%", "leader KiB/session", "run leader CPU%"))
for m, rows in d.items():
    med = lambda i: st.median(r[i] for r in rows)
    print("%-9s %5d %14.3f %14.3f %16.2f %18.1f %14.2f" % (m, len(rows), med(0), med(1), med(2),
          med(3), med(4)))
PY
