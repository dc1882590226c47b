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
source "$(dirname "${BASH_SOURCE[0]}")/keys.sh"
declare -A BROKER_PID=()
STARTED_PIDS=()

cleanup() {
  local rc=$?
  for pid in "${STARTED_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    echo "---- broker logs (last 30 lines each) ----" >&2
    for f in "$WORK"/broker-*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
    local keep=/tmp/zchat-failed-$(basename "$0" .sh)
    rm -rf "$keep" && mkdir -p "$keep" && cp "$WORK"/*.log "$WORK"/*.json "$WORK"/*.err "$keep"/ 2>/dev/null || true
    echo "logs kept in $keep" >&2
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# pick_ports [N]: a free base port with PORT..PORT+N-1 unused (default 10: three
# replicas use 3 ports each, and one more).
pick_ports() {
  local base n=${1:-10} i used
  for _ in $(seq 1 50); do
    base=$(( 10000 + (RANDOM * 7 + $$) % 22000 ))   # below the ephemeral range (32768+)
    base=$(( base - base % 10 ))
    used=$(ss -ltn 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    for (( i = 0; i < n; i++ )); do grep -qx "$(( base + i ))" <<<"$used" && break; done
    [ "$i" = "$n" ] && { echo "$base"; return 0; }
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

# start_cluster N [extra flags]: N replicas on free ports, every one started with the
# flags, then waits (LEADER_DEADLINE_S, default 15 s) until one of them leads.
start_cluster() {
  local n=$1 i; shift
  cluster_init "$n" "$(pick_ports)"
  for i in $(seq 1 "$n"); do start_replica "$i" "$@"; done
  wait_until "${LEADER_DEADLINE_S:-15}" "a leader is elected" has_leader
}

# start_single PORT [extra flags]: one replica in single-replica mode (zchat-broker
# PORT) in the background, run from $WORK so that its default ./zchat-data-PORT lands
# there; it is replica 1 for kill_replica. Await it with: wait_until S WHAT serving
start_single() {
  local port=$1; shift
  (cd "$WORK" && exec "$BROKER" "$@" "$port" >>"$WORK/broker-1.log" 2>&1) &
  BROKER_PID[1]=$!
  STARTED_PIDS+=("$!")
}

# serving: the replicas in $SERVERS answer STATUS.
serving() { echo status | "$CLI" --servers "$SERVERS" >/dev/null; }

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
rs=[r for r in json.loads(sys.stdin.readline()).get("replicas",[]) if r.get("role")=="leader"]
if not rs: sys.exit(1)
print(max(rs,key=lambda r:r["term"])["id"])'
}
has_leader() { [ -n "$(leader_id)" ]; }
leader_is_not() { local l; l=$(leader_id); [ -n "$l" ] && [ "$l" != "$1" ]; }

# status_field ID FIELD: a replica's field as this cluster reports it.
status_field() {
  echo status | zc --json 2>/dev/null | python3 -c '
import json,sys
want,field=int(sys.argv[1]),sys.argv[2]
for r in json.loads(sys.stdin.readline()).get("replicas",[]):
    if r["id"]==want: print(r[field])' "$1" "$2"
}

# all_caught_up: every replica reachable and applied == the highest commit.
all_caught_up() {
  echo status | zc --json 2>/dev/null | python3 -c '
import json,sys
rs=json.loads(sys.stdin.readline())["replicas"]
top=max(r["commit"] for r in rs)
ok=all(r["role"] in ("leader","follower") and r["applied"]==top for r in rs) and top>0
sys.exit(0 if ok else 1)'
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# bench_bg NAME ARGS...: run zchat-bench in the background, JSON summary to $WORK/NAME.json.
# A load meant to have faults injected into it should be paced (--rate) so that it lasts
# seconds: unpaced, the machine may send it all in less than a second.
bench_bg() {
  local name=$1 arg prev=""; shift
  BENCH_NAME=$name BENCH_MESSAGES=10000 BENCH_MARKS=()
  for arg in "$@"; do [ "$prev" = --messages ] && BENCH_MESSAGES=$arg; prev=$arg; done
  BENCH_T0_MS=$(now_ms)   # before the launch, so at or before the bench's own start
  "$ZCHAT_BIN/zchat-bench" --servers "$SERVERS" --json "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" &
  BENCH_PID=$!
  STARTED_PIDS+=("$BENCH_PID")
}

# bench_alive: the background bench has not exited (a zombie counts as exited).
bench_alive() {
  local stat
  stat=$(cat "/proc/$BENCH_PID/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# bench_flowing: the bench runs, its latest once-a-second progress line reports at least
# 10 acks, and it has not sent every message yet. Await it with wait_until.
bench_flowing() {
  bench_alive || return 1
  local line
  line=$(grep ' acked ' "$WORK/$BENCH_NAME.err" | tail -n 1)
  [[ $line =~ sent\ ([0-9]+)\ acked\ ([0-9]+) ]] || return 1
  [ "${BASH_REMATCH[2]}" -ge 10 ] && [ "${BASH_REMATCH[1]}" -lt "$BENCH_MESSAGES" ]
}

# under_load WHAT: call right before injecting a fault (or when a claim about the load
# must hold): fails unless the bench still runs, and records the time; bench_check then
# fails unless the bench was still sending (not all answered) at that time.
under_load() {
  bench_alive || fail "bench $BENCH_NAME had already ended before: $*"
  BENCH_MARKS+=("$(now_ms) $*")
}

# bench_check NAME: the bench exited 0, its verification found nothing wrong, and every
# under_load mark fell within its sending phase.
bench_check() {
  local name=$1 rc=0
  wait "$BENCH_PID" || rc=$?
  python3 - "$WORK/$name.json" <<'PY' || fail "bench $name: verification failed (exit $rc): $(tail -n 3 "$WORK/$name.err")"
import json,sys
s=json.load(open(sys.argv[1]))
v=s.get("verification",s)
bad={k:v.get(k,0) for k in ("lost","duplicated","reordered","phantom")}
print("bench:", {k:v.get(k) for k in ("sent","acked","failed","lost","duplicated","reordered","phantom","send_seconds")})
sys.exit(1 if any(bad.values()) or v.get("acked",0)==0 else 0)
PY
  [ "$rc" = 0 ] || fail "bench $name exited $rc"
  # The bench's clock starts after its launch (BENCH_T0_MS), so a mark less than
  # send_seconds after the launch is certainly before the last message was answered.
  local send_ms mark at
  send_ms=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["send_seconds"]*1000))' "$WORK/$name.json")
  for mark in "${BENCH_MARKS[@]}"; do
    at=$(( ${mark%% *} - BENCH_T0_MS ))
    [ "$at" -lt "$send_ms" ] || fail "bench $name: sending ended ${send_ms} ms after launch, before ${mark#* } at ${at} ms: not under load"
    echo "under load: ${mark#* } at ${at} ms of ${send_ms} ms sending"
  done
}

# own_field I FIELD [ROLES]: replica I's field as replica I itself reports it (live,
# whereas other replicas may still report what they last heard from it), printed only
# if its role is one of ROLES (default: leader or follower).
own_field() {
  echo status | "$CLI" --servers "127.0.0.1:$(( BASE + 3 * ($1 - 1) ))" --timeout 1000 --json 2>/dev/null | python3 -c '
import json,sys
want,field,roles=int(sys.argv[1]),sys.argv[2],sys.argv[3].split()
for r in json.loads(sys.stdin.readline()).get("replicas",[]):
    if r["id"]==want and r["role"] in roles: print(r[field])' "$1" "$2" "${3:-leader follower}"
}

# applied_at_least I INDEX: replica I, by its own report, serves and has applied INDEX.
applied_at_least() { local a; a=$(own_field "$1" applied); [ -n "$a" ] && [ "$a" -ge "$2" ]; }

# leader_commit DEADLINE_S: prints the current leader's commit index by its own report,
# polling until a replica reported as leader answers that it is one.
leader_commit() {
  local deadline=$(( $(now_ms) + $1 * 1000 )) l c
  while true; do
    l=$(leader_id) && [ -n "$l" ] && c=$(own_field "$l" commit leader) && [ -n "$c" ] && { echo "$c"; return 0; }
    [ "$(now_ms)" -lt $deadline ] || fail "timed out waiting for a leader's commit index"
    sleep 0.05
  done
}
