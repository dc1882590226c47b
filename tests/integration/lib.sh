# Shared helpers for integration tests: start real zchat-broker processes on loopback,
# wait for conditions with deadlines, and stop exactly what was started.
# Source it; it sets ZCHAT_BIN/ZCHAT_SRC defaults and an EXIT trap.
set -euo pipefail
ZCHAT_SRC=${ZCHAT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZCHAT_BIN=${ZCHAT_BIN:-$ZCHAT_SRC/build}
BROKER=$ZCHAT_BIN/zchat-broker
CLI=$ZCHAT_BIN/zchat
for bin in "$BROKER" "$CLI"; do
  [ -x "$bin" ] || { echo "FAIL: $bin not built" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/zchat-it.XXXXXX)
declare -A BROKER_PID=()
STARTED_PIDS=()

cleanup() {
  local rc=$?
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "---- broker logs (last 30 lines each) ----" >&2
    for f in "$WORK"/broker-*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# A free base port with PORT..PORT+8 unused (three replicas use 3 ports each).
pick_ports() {
  local base
  for _ in $(seq 1 50); do
    base=$(( 20000 + (RANDOM * 7 + $$) % 40000 ))
    base=$(( base - base % 10 ))
    if ! ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ":($base|$((base+1))|$((base+2))|$((base+3))|$((base+4))|$((base+5))|$((base+6))|$((base+7))|$((base+8))|$((base+9)))$"; then
      echo "$base"; return 0
    fi
  done
  fail "no free ports"
}

# cluster_init N BASE: replica i listens on BASE+3(i-1) (peers on the next two).
cluster_init() {
  N=$1; BASE=$2; PEERS=""; SERVERS=""
  for i in $(seq 1 "$N"); do
    PEERS+="${PEERS:+,}127.0.0.1:$(( BASE + 3 * (i - 1) ))"
  done
  SERVERS=$PEERS
  export ZCHAT_SERVERS=$SERVERS
}

# start_replica I [extra flags]: starts replica I of the cluster in the background.
start_replica() {
  local i=$1; shift
  "$BROKER" --id "$i" --peers "$PEERS" --data "$WORK/data-$i" \
      --election-timeout "${ELECTION_MS:-300}" --heartbeat "${HEARTBEAT_MS:-30}" "$@" \
      >>"$WORK/broker-$i.log" 2>&1 &
  BROKER_PID[$i]=$!
  STARTED_PIDS+=("$!")
}

kill_replica() {   # kill_replica I [SIGNAL]
  local i=$1 sig=${2:-KILL}
  kill -"$sig" "${BROKER_PID[$i]}" 2>/dev/null || true
  if [ "$sig" = KILL ] || [ "$sig" = TERM ]; then wait "${BROKER_PID[$i]}" 2>/dev/null || true; fi
}

# wait_until DEADLINE_S DESCRIPTION CMD...: polls CMD every 50 ms until it succeeds.
wait_until() {
  local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )) what=$2; shift 2
  while ! "$@" >/dev/null 2>&1; do
    [ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || fail "timed out waiting for: $what"
    sleep 0.05
  done
}

# zc ARGS... : run the CLI (commands on stdin) against the cluster.
zc() { "$CLI" --servers "$SERVERS" "$@"; }

# The id of the current leader according to replica status, or nothing.
leader_id() {
  echo status | zc --json 2>/dev/null | python3 -c '
import json,sys
for line in sys.stdin:
    o=json.loads(line)
    for r in o.get("replicas",[]):
        if r.get("role")=="leader": print(r["id"]); sys.exit(0)
sys.exit(1)'
}
has_leader() { [ -n "$(leader_id)" ]; }
