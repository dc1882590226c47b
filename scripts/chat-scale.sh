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
#          [--json-dir DIR] [--default-pwhash] [--bench-args "ARGS"] [--procs K]
# Defaults: 2000 receivers, 200 senders at 1 msg/s each for 20 s, idle 10 s, 100-byte
# messages, 1 run, CURVE only. Users are created with a cheaper Argon2id cost
# (--pwhash-mem-kib 8192 --pwhash-ops 1: 2.7 ms a check instead of 11) so that 2000
# creates and connects take seconds, not a minute; --default-pwhash keeps the default.
# --bench-args: more zchat-bench flags, e.g. "--ping-ms 1000" (the idle PING of an
# older client) to compare liveness settings. --procs K: split the clients over K
# zchat-bench processes (a process's clients need 4 descriptors each and the hard
# limit here is 20,000); each audits its own, this script reads the leader's CPU and
# RSS over the window where all K are connected and idle, and they send together.
# Env: ZCHAT_BIN (default ./build), SCALE_PORT (first of 9 ports, default 7701).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build}
receivers=2000 senders=200 rate=1 duration=20 idle=10 size=100 runs=1 modes=curve
json_dir="" pwhash=(--pwhash-mem-kib 8192 --pwhash-ops 1) bench_args=() procs=1
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
    --bench-args) read -r -a bench_args <<<"$2"; shift 2 ;;
    --procs) procs=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
trap 'stop; [ -n "${KEEP_SCALE_DIR:-}" ] || rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
"$bin/zchat-keys" init "$dir/keys" >/dev/null
export ZCHAT_SERVER_KEY=$dir/keys/server.cert GLIBC_TUNABLES=glibc.malloc.hugetlb=1

start() {   # start MODE RUN: a fresh cluster
  local flags=(--keys "$dir/keys") i conns=$((receivers + senders + 100))
  [ "$1" = insecure ] && flags=(--insecure)
  [ "$conns" -gt 10000 ] && flags+=(--max-connections "$conns")   # default 10000
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

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }     # utime + stime of PID
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
is_idle() { grep -q 'sessions connected, idle' "$1" 2>/dev/null; }   # is_idle ERR_FILE

# multi_run MODE TAG LEADER_PID: --procs K benches; prints the same fields as one run
multi_run() {
  local mode=$1 tag=$2 lp=$3 k bpids=() rss0 t0 t1 t2 rss1 hz deadline
  local go=$dir/$tag.go insecure
  insecure=$([ "$mode" = insecure ] && echo 1 || echo 0)
  hz=$(getconf CLK_TCK); rss0=$(rss_kib "$lp")
  for k in $(seq 1 "$procs"); do
    ZCHAT_INSECURE=$insecure timeout $((900 + receivers / 10)) nice "$bin/zchat-bench" \
        --servers "$peers" --senders $((senders / procs)) --receivers $((receivers / procs)) \
        --rate-per-sender "$rate" --duration "$duration" --idle 600 --go-file "$go" \
        --size "$size" --scenario "D-$mode-p$k" --json "${bench_args[@]}" \
        >"$dir/$tag-p$k.json" 2>"$dir/$tag-p$k.err" &
    bpids+=($!)
    # one at a time: thousands of CURVE handshakes and CREATEs at once from every
    # process would outlast the clients' 1 s request timeout and set off failovers
    deadline=$((SECONDS + 600))
    until is_idle "$dir/$tag-p$k.err"; do
      [ $SECONDS -lt $deadline ] && kill -0 "${bpids[-1]}" 2>/dev/null \
        || { echo "chat-scale: $tag: bench $k did not connect its receivers" >&2; break; }
      sleep 0.5
    done
  done
  t0=$(ticks "$lp"); sleep "$idle"; t1=$(ticks "$lp"); rss1=$(rss_kib "$lp")
  touch "$go"; sleep "$duration"; t2=$(ticks "$lp")
  for k in "${bpids[@]}"; do wait "$k" || echo "chat-scale: $tag: a zchat-bench failed" >&2; done
  python3 - "$dir/$tag" "$procs" "$receivers" "$idle" "$duration" "$hz" "$t0" "$t1" "$t2" "$rss0" "$rss1" <<'PY'
import json, statistics as st, sys
base, procs, R, idle, dur, hz, t0, t1, t2, rss0, rss1 = sys.argv[1:]
ds = []
for k in range(1, int(procs) + 1):
    try:
        ds.append(json.load(open("%s-p%d.json" % (base, k))))
    except ValueError:
        print("failed"); sys.exit(0)
bad = {}
for d in ds:
    for key in ("lost", "duplicated", "reordered", "phantom", "errors"):
        if d[key]:
            bad[key] = bad.get(key, 0) + d[key]
lat = [d["delivery_latency_us"] for d in ds]
idle_cpu = (float(t1) - float(t0)) / float(hz) / float(idle) * 100
run_cpu = (float(t2) - float(t1)) / float(hz) / float(dur) * 100
# p50: the median of the processes' medians; p99: the worst process's
print("%.3f %.3f %.2f %.1f %.2f %d %d%s" % (st.median(l["p50"] for l in lat) / 1000,
      max(l["p99"] for l in lat) / 1000, idle_cpu, (float(rss1) - float(rss0)) / float(R),
      run_cpu, sum(d["delivered"] for d in ds), sum(d["acked"] for d in ds),
      (" AUDIT " + json.dumps(bad)) if bad else ""))
PY
}

declare -A out
for r in $(seq 1 "$runs"); do
  for mode in ${modes//,/ }; do
    start "$mode" "r$r-$mode"
    lp=$(wait_leader "$mode")
    if [ "$procs" -gt 1 ]; then
      out[$mode-$r]=$(multi_run "$mode" "r$r-$mode" "$lp")
      stop
      [ -n "$json_dir" ] && cp "$dir"/r$r-$mode-p*.json "$json_dir/"
      echo "run $r $mode ($procs processes): delivery p50 p99 ms, idle leader CPU %, leader KiB/session, run CPU %, delivered, acked: ${out[$mode-$r]}"
      continue
    fi
    json=$dir/r$r-$mode.json
    cmd=(nice "$bin/zchat-bench" --servers "$peers" --senders "$senders" --receivers "$receivers"
         --rate-per-sender "$rate" --duration "$duration" --idle "$idle" --size "$size"
         --watch-pids "$lp" --scenario "D-$mode" --json "${bench_args[@]}")
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
