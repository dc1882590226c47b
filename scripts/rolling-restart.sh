#!/usr/bin/env bash
# Rolling restart of a local three-replica cluster under load, the way an upgrade is
# rolled out: each replica in turn gets SIGTERM (a leader first hands its leadership
# over), is waited for, started again and waited for until it has caught up, while
# zchat-bench sends and receives. Then it reports what the clients saw.
#
#   scripts/rolling-restart.sh [--bin DIR] [--dir DIR] [--port BASE] [--rate MSGS_PER_S]
#                              [--messages N] [--max-gap-ms MS] [--kill] [--restarts K]
#
# It starts its own cluster (CURVE keys made with zchat-keys) on 127.0.0.1:BASE, BASE+3,
# BASE+6 with data in DIR (default: a fresh temporary directory, removed afterwards),
# and stops exactly the processes it started. The bench runs open loop (--rate, default
# 1000 msgs/s, 2 senders x 2 receivers, at most --messages, default 12000, and 30 s).
# --kill restarts with SIGKILL instead of SIGTERM, for comparison (no handover);
# --restarts K restarts only replicas 1..K (0: the same load with no restart at all).
# Prints one line per step, then a summary and, last, one JSON line:
#   {"failed":0,"lost":0,"duplicated":0,"reordered":0,"max_ack_gap_ms":41.2,...}
# Exit status 0 when nothing failed, nothing was lost or duplicated, and the longest
# gap between two acknowledged sends is at most --max-gap-ms (default: no bound).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build}
dir="" base="" rate=1000 messages=12000 max_gap="" signal=TERM restarts=3
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --port) base=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --max-gap-ms) max_gap=$2; shift 2 ;;
    --kill) signal=KILL; shift ;;
    --restarts) restarts=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rolling-restart: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for b in zchat-broker zchat zchat-bench zchat-keys; do
  [ -x "$bin/$b" ] || { echo "rolling-restart: no $bin/$b: build first" >&2; exit 1; }
done
temp=""
if [ -z "$dir" ]; then temp=$(mktemp -d /tmp/zchat-rolling.XXXXXX); dir=$temp; fi
mkdir -p "$dir"
if [ -z "$base" ]; then   # three free triples of ports below the ephemeral range
  for _ in $(seq 1 50); do
    base=$(( 10000 + (RANDOM * 7 + $$) % 22000 )); base=$(( base - base % 10 ))
    ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ":($base|$((base+1))|$((base+2))|$((base+3))|$((base+4))|$((base+5))|$((base+6))|$((base+7))|$((base+8)))$" || break
  done
fi
peers="127.0.0.1:$base,127.0.0.1:$((base + 3)),127.0.0.1:$((base + 6))"
"$bin/zchat-keys" init "$dir/keys" --replicas 3 >/dev/null
export ZCHAT_SERVER_KEY=$dir/keys/server.cert ZCHAT_PASSWORD=${ZCHAT_PASSWORD:-rolling-secret}
declare -A pid=()
started=()
bench_pid=""
cleanup() {
  local rc=$?
  for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$temp" ]; then
    [ $rc -eq 0 ] || { echo "rolling-restart: logs in $temp.failed" >&2; rm -rf "$temp.failed"; mv "$temp" "$temp.failed"; }
    rm -rf "$temp"
  fi
  exit $rc
}
trap cleanup EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
say() { printf '%8.3f s  %s\n' "$(( $(now_ms) - t0 ))e-3" "$*"; }

start() {
  "$bin/zchat-broker" --id "$1" --peers "$peers" --data "$dir/data-$1" --keys "$dir/keys" \
      >>"$dir/broker-$1.log" 2>&1 &
  pid[$1]=$!
  started+=("$!")
}
# field I NAME [ROLES]: replica I's NAME as it reports itself, if its role is in ROLES.
field() {
  echo status | "$bin/zchat" --servers "127.0.0.1:$(( base + 3 * ($1 - 1) ))" --timeout 1000 --json 2>/dev/null \
  | python3 -c '
import json,sys
want,name,roles=int(sys.argv[1]),sys.argv[2],sys.argv[3].split()
for r in json.loads(sys.stdin.readline()).get("replicas",[]):
    if r["id"]==want and r["role"] in roles: print(r[name])' "$1" "$2" "${3:-leader follower}"
}
leader() { local r; for r in 1 2 3; do [ -n "$(field "$r" id leader)" ] && { echo "$r"; return 0; }; done; return 1; }
# wait_for SECONDS WHAT CMD...
wait_for() {
  local deadline=$(( $(now_ms) + $1 * 1000 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "rolling-restart: timed out waiting for $what" >&2; exit 1; }
    sleep 0.05
  done
}
applied_at_least() { local a; a=$(field "$1" applied); [ -n "$a" ] && [ "$a" -ge "$2" ]; }
acked_at_least() { grep -qE "acked ([0-9]{3,})" "$dir/bench.err" 2>/dev/null && kill -0 "$bench_pid" 2>/dev/null; }

t0=$(now_ms)
for i in 1 2 3; do start "$i"; done
wait_for 20 "a leader" leader
say "cluster up on $peers, leader $(leader)"
"$bin/zchat-bench" --servers "$peers" --json --senders 2 --receivers 2 --inflight 16 --size 200 \
    --rate "$rate" --messages "$messages" --duration 30 >"$dir/bench.json" 2>"$dir/bench.err" &
bench_pid=$!
bench_t0=$(now_ms)
started+=("$bench_pid")
wait_for 20 "the load to flow" acked_at_least
for i in $(seq 1 "$restarts"); do
  role=$(field "$i" role) || true
  kill -0 "$bench_pid" 2>/dev/null || { echo "rolling-restart: the bench ended before replica $i was restarted: lower --rate or raise --messages" >&2; exit 1; }
  stop_ms=$(now_ms)
  say "replica $i (${role:-?}): SIG$signal at $(( stop_ms - bench_t0 )) ms into the load"
  kill -"$signal" "${pid[$i]}"
  wait "${pid[$i]}" 2>/dev/null || true
  say "replica $i exited $(( $(now_ms) - stop_ms )) ms after SIG$signal"
  start "$i"
  wait_for 20 "a leader" leader
  target=$(field "$(leader)" commit leader) || target=0
  wait_for 30 "replica $i to catch up to $target" applied_at_least "$i" "${target:-0}"
  say "replica $i restarted and caught up to $target (leader now $(leader))"
done
rc=0
wait "$bench_pid" || rc=$?
say "bench finished (exit $rc)"
python3 - "$dir/bench.json" "${max_gap:-}" <<'PY'
import json,sys
s=json.load(open(sys.argv[1]))
keys=("sent","acked","failed","errors","lost","duplicated","reordered","phantom","max_ack_gap_ms","max_ack_gap_at_s")
out={k:s.get(k) for k in keys}
out["error_codes"]=s.get("error_codes",{})
print("summary: sent %(sent)s acked %(acked)s failed %(failed)s lost %(lost)s duplicated %(duplicated)s"
      " reordered %(reordered)s longest ack gap %(max_ack_gap_ms).1f ms" % out)
print(json.dumps(out))
bad=s["failed"] or s["errors"] or s["lost"] or s["duplicated"] or s["reordered"] or s["phantom"] or not s["acked"]
if sys.argv[2] and s["max_ack_gap_ms"]>float(sys.argv[2]):
    print("rolling-restart: longest ack gap %.1f ms is above %s ms" % (s["max_ack_gap_ms"],sys.argv[2]), file=sys.stderr)
    bad=True
sys.exit(1 if bad else 0)
PY
