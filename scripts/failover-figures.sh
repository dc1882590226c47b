#!/usr/bin/env bash
# failover-figures.sh - measure failover and catch-up on a 3-replica loopback cluster.
#   scripts/failover-figures.sh [--trials N] [--messages M] [--skip-failover] [--skip-catchup]
# 1. Failover, N trials (default 20): find the leader, kill -9 it, and time from the kill
#    to the first acknowledged send of a client started right after it (zchat --timeout
#    10000, which retries across replicas); then restart the killed replica and time
#    until every replica has applied the leader's commit. Prints p50/p99/max.
# 2. Catch-up: stop a follower, send M messages (default 100,000; zchat-bench, 100 bytes,
#    inflight 64), restart it and time until its applied index reaches the leader's
#    commit; say whether it caught up by log or by snapshot (its log says
#    event=snapshot_installed). Run with the default --snapshot-entries and with 10,000.
# Env: ZCHAT_BIN (default build-figs, else build), FIG_PORT (default 7401; uses 9 ports),
# FIG_DIR (kept data and logs; default a new /tmp/zchat-failover.XXXX).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build-figs}
[ -x "$bin/zchat-broker" ] || bin=$root/build
for b in zchat-broker zchat zchat-bench; do
  [ -x "$bin/$b" ] || { echo "failover-figures: $bin/$b not built" >&2; exit 2; }
done
trials=20 messages=100000 do_failover=1 do_catchup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) trials=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --skip-failover) do_failover=0; shift ;;
    --skip-catchup) do_catchup=0; shift ;;
    *) echo "usage: $0 [--trials N] [--messages M] [--skip-failover] [--skip-catchup]" >&2; exit 2 ;;
  esac
done
base=${FIG_PORT:-7401}
for p in $(seq "$base" $(( base + 8 ))); do
  if ss -ltn | awk '{print $4}' | grep -q ":$p\$"; then echo "port $p is in use (set FIG_PORT)" >&2; exit 2; fi
done
dir=${FIG_DIR:-$(mktemp -d /tmp/zchat-failover.XXXXXX)}
mkdir -p "$dir"
# CURVE and secrets on, as deployed: keys for the cluster, the bench's users' secret
"$bin/zchat-keys" init "$dir/keys" --replicas 3 >/dev/null
export ZCHAT_KEYS=$dir/keys ZCHAT_SERVER_KEY=$dir/keys/server.cert ZCHAT_PASSWORD=${ZCHAT_PASSWORD:-figures}
peers="127.0.0.1:$base,127.0.0.1:$(( base + 3 )),127.0.0.1:$(( base + 6 ))"
declare -A pid=()
extra=()

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start_replica() {   # start_replica I: data and log in $dir/run-$run
  "$bin/zchat-broker" --id "$1" --peers "$peers" --data "$dir/run-$run/data-$1" "${extra[@]}" \
      >>"$dir/run-$run/replica-$1.log" 2>&1 &
  pid[$1]=$!
}
stop_all() {
  for i in "${!pid[@]}"; do kill -TERM "${pid[$i]}" 2>/dev/null || true; done
  for i in "${!pid[@]}"; do wait "${pid[$i]}" 2>/dev/null || true; done
  pid=()
}
trap 'for i in "${!pid[@]}"; do kill -KILL "${pid[$i]}" 2>/dev/null || true; done' EXIT
status_json() { echo status | "$bin/zchat" --servers "$1" --json --timeout 1000 2>/dev/null; }
# view: "LEADER COMMIT APPLIED1 APPLIED2 APPLIED3" as the leader itself reports it
# (a follower's view of the others is gossip and may lag), or nothing.
view() {
  local s l
  s=$(status_json "$peers") || return 1
  l=$(python3 -c 'import json,sys
rs=[r for r in json.loads(sys.argv[1])["replicas"] if r["role"]=="leader"]
print(max(rs,key=lambda r:r["term"])["id"] if rs else "")' "$s") || return 1
  [ -n "$l" ] || return 1
  s=$(status_json "127.0.0.1:$(( base + 3 * (l - 1) ))") || return 1
  python3 -c 'import json,sys
rs={r["id"]:r for r in json.loads(sys.argv[1])["replicas"]}
l=int(sys.argv[2])
if rs.get(l,{}).get("role")!="leader": sys.exit(1)
print(l, rs[l]["commit"], *[rs.get(i,{}).get("applied",-1) if rs.get(i,{}).get("role") in ("leader","follower") else -1 for i in (1,2,3)])' "$s" "$l"
}
caught_up() {   # every replica has applied the leader's commit
  local v; v=$(view) || return 1
  set -- $v
  [ "$2" -gt 0 ] && [ "$3" = "$2" ] && [ "$4" = "$2" ] && [ "$5" = "$2" ]
}
wait_for() {    # wait_for SECONDS WHAT CMD...
  local end=$(( $(now_ms) + $1 * 1000 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt $end ] || { echo "timed out waiting for $what" >&2; return 1; }
    sleep 0.02
  done
}
stats() {   # stats FILE: p50 p99 max of the numbers in FILE
  python3 -c 'import sys
v=sorted(float(x) for x in open(sys.argv[1]) if x.strip())
q=lambda p: v[min(len(v)-1,int(round(p*(len(v)-1))))]
print("n=%d p50=%.0f p99=%.0f max=%.0f min=%.0f" % (len(v),q(.5),q(.99),v[-1],v[0]))' "$1"
}

echo "failover-figures: $(date -u +%FT%TZ), $(nproc) cores, binaries $bin, data $dir"

if [ "$do_failover" = 1 ]; then
  run=failover; mkdir -p "$dir/run-$run"; extra=()
  for i in 1 2 3; do start_replica "$i"; done
  wait_for 20 "a leader and all caught up" caught_up
  echo "create figuser" | "$bin/zchat" --servers "$peers" --timeout 10000 >/dev/null
  : >"$dir/failover.ms"; : >"$dir/rejoin.ms"; : >"$dir/baseline.ms"
  for t in $(seq 1 "$trials"); do
    wait_for 30 "all caught up before trial $t" caught_up
    t0=$(now_ms)   # baseline: the same client, no failure (process start + one commit)
    echo "send figuser baseline $t" | "$bin/zchat" --servers "$peers" --timeout 10000 >/dev/null
    echo $(( $(now_ms) - t0 )) >>"$dir/baseline.ms"
    read -r leader _ < <(view)
    t0=$(now_ms)
    kill -KILL "${pid[$leader]}"
    echo "send figuser after killing $leader in trial $t" | "$bin/zchat" --servers "$peers" --timeout 10000 >/dev/null \
      || { echo "trial $t: the send after the kill failed" >&2; exit 1; }
    t1=$(now_ms)
    { wait "${pid[$leader]}"; } 2>/dev/null || true
    echo $(( t1 - t0 )) >>"$dir/failover.ms"
    t2=$(now_ms)
    start_replica "$leader"
    wait_for 60 "replica $leader to rejoin" caught_up
    echo $(( $(now_ms) - t2 )) >>"$dir/rejoin.ms"
    echo "trial $t: killed leader $leader, acked send after $(( t1 - t0 )) ms, rejoined in $(( $(now_ms) - t2 )) ms"
  done
  stop_all
  echo "RESULT failover kill -9 leader -> first acked send (ms): $(stats "$dir/failover.ms")"
  echo "RESULT same send without a failure (ms):              $(stats "$dir/baseline.ms")"
  echo "RESULT restarted ex-leader caught up (ms):            $(stats "$dir/rejoin.ms")"
fi

catchup_run() {   # catchup_run NAME [broker flags]: one catch-up measurement
  run=$1; shift; extra=("$@"); mkdir -p "$dir/run-$run"
  for i in 1 2 3; do start_replica "$i"; done
  wait_for 20 "a leader" caught_up
  local leader f
  read -r leader _ < <(view)
  f=$(( leader % 3 + 1 ))
  kill -TERM "${pid[$f]}"; wait "${pid[$f]}" 2>/dev/null || true
  "$bin/zchat-bench" --servers "$peers" --messages "$messages" --size 100 --inflight 64 --json \
      >"$dir/run-$run/bench.json" 2>"$dir/run-$run/bench.err" \
      || { echo "bench failed: $(tail -n 3 "$dir/run-$run/bench.err")" >&2; return 1; }
  local v commit t0 ms how
  v=$(view); commit=$(echo "$v" | cut -d' ' -f2)
  local mark; mark=$(wc -l <"$dir/run-$run/replica-$f.log")
  t0=$(now_ms)
  start_replica "$f"
  wait_for 300 "replica $f to catch up" caught_up
  ms=$(( $(now_ms) - t0 ))
  how=log
  tail -n +$(( mark + 1 )) "$dir/run-$run/replica-$f.log" | grep -q 'event=snapshot_installed' && how=snapshot
  local loaded; loaded=$(tail -n +$(( mark + 1 )) "$dir/run-$run/replica-$f.log" | grep -m1 'event=replica_loaded' | sed 's/.*event=replica_loaded //')
  echo "RESULT catch-up ($run): follower $f missed the entries up to commit $commit ($messages messages);" \
       "caught up in $ms ms (restart included) by $how; loaded at start: $loaded"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("       bench:", {k:s.get(k) for k in ("sent","acked","failed","acked_per_s","errors","ok")} )' \
      "$dir/run-$run/bench.json" 2>/dev/null || true
  stop_all
}
if [ "$do_catchup" = 1 ]; then
  catchup_run catchup-default
  catchup_run catchup-snap10k --snapshot-entries 10000
fi
echo "failover-figures: done; logs in $dir"
