#!/usr/bin/env bash
# run.sh - Jepsen-style fault run: a zchat cluster in private network namespaces, a
# recorded client workload, a seeded random fault schedule, then the history checker.
#
# usage: run.sh [--duration S (60)] [--replicas 3|5] [--seed N] [--clients K (8)] [--keep]
# env:   ZCHAT_BIN (build dir), ZCHAT_SRC, ZCHAT_FAULT_SEED, ELECTION_MS, HEARTBEAT_MS,
#        SNAPSHOT_ENTRIES (1000: snapshots, and crashes during them, happen often)
#
# Network: one namespace per replica and one for the clients, each joined by a veth pair
# to one bridge that lives in a switch namespace of its own (so the host's links and
# firewall are untouched: with br_netfilter on, a host bridge would meet the host's
# FORWARD policy). Addresses 10.77.0.0/24 exist only on those veths, inside namespaces
# we create. Every name carries this run's tag (zf<pid>) and the EXIT trap removes
# exactly what this run created: its processes by pid and its namespaces by name
# (deleting a namespace deletes its veths and the bridge).
# Exit: 0 when the checker finds no violation and no replica crashed; 0 with SKIPPED
# when not root or without `ip netns`; 1 otherwise (the work dir is kept then).
set -euo pipefail

DURATION=60 REPLICAS=3 CLIENTS=8 KEEP=0
SEED=${ZCHAT_FAULT_SEED:-$(( $(date +%s) % 100000 ))}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --replicas) REPLICAS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$REPLICAS" in 3|5) ;; *) echo "run.sh: --replicas must be 3 or 5" >&2; exit 2 ;; esac

ZCHAT_SRC=${ZCHAT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZCHAT_BIN=${ZCHAT_BIN:-$ZCHAT_SRC/build}
BROKER=$ZCHAT_BIN/zchat-broker
WORKLOAD=$ZCHAT_BIN/zchat-workload
CLI=$ZCHAT_BIN/zchat
CHECKER=$ZCHAT_SRC/tests/fault/checker.py

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "SKIPPED: fault suite needs root and ip netns"
  exit 0
fi
for bin in "$BROKER" "$WORKLOAD"; do
  [ -x "$bin" ] || { echo "FAIL: $bin not built" >&2; exit 1; }
done

TAG=zf$$
NS_SW=${TAG}sw
BR=br0
NS_C=${TAG}cl
SUBNET=10.77.0
PORT=7000
WORK=$(mktemp -d /tmp/zchat-fault.XXXXXX)
FAULTS=$WORK/faults.jsonl
HISTORY=$WORK/history.jsonl
ELECTION_MS=${ELECTION_MS:-400}
HEARTBEAT_MS=${HEARTBEAT_MS:-40}
NAMESPACES=()
declare -A PID=() DOWN=() PAUSED=() DETACHED=()
ROUTES=()            # "NS DST" blackhole routes in place
# CURVE keys and user secrets on, as in production (the workload gives its secret).
"$ZCHAT_BIN/zchat-keys" init "$WORK/keys" --replicas "$REPLICAS" >/dev/null
export ZCHAT_KEYS=$WORK/keys ZCHAT_SERVER_KEY=$WORK/keys/server.cert
WL_PID=""
CRASHES=0

ns_of() { echo "${TAG}r$1"; }
ip_of() { echo "$SUBNET.$1"; }
PEERS=""
for i in $(seq 1 "$REPLICAS"); do PEERS+="${PEERS:+,}$(ip_of "$i"):$PORT"; done
SERVERS=$PEERS

cleanup() {
  local rc=$?
  set +e
  [ -n "$WL_PID" ] && kill -KILL "$WL_PID" 2>/dev/null
  for i in "${!PID[@]}"; do kill -CONT "${PID[$i]}" 2>/dev/null; kill -KILL "${PID[$i]}" 2>/dev/null; done
  [ -n "$WL_PID" ] && wait "$WL_PID" 2>/dev/null
  for i in "${!PID[@]}"; do wait "${PID[$i]}" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ $rc -ne 0 ] || [ "$KEEP" = 1 ]; then
    echo "run.sh: history, fault log and broker logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mono_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }

# flog EVENT PHASE [EXTRA_JSON_MEMBERS]: one line per fault step, same clock as the history.
flog() {
  local t; t=$(mono_ns)
  echo "{\"t\":$t,\"fault\":\"$1\",\"phase\":\"$2\"${3:+,$3}}" >>"$FAULTS"
  echo "[fault $(( (t - T0_NS) / 1000000 )) ms] $1 $2 ${3:-}"
}

# attach NAME IP LABEL: a namespace on the bridge with one veth ("eth0") at IP.
attach() {
  local ns=$1 addr=$2 label=$3
  ip netns add "$ns"
  NAMESPACES+=("$ns")
  ip -n "$NS_SW" link add "h$label" type veth peer name eth0 netns "$ns"
  ip -n "$NS_SW" link set "h$label" master "$BR" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}

net_up() {
  ip netns add "$NS_SW"
  NAMESPACES+=("$NS_SW")
  ip -n "$NS_SW" link add "$BR" type bridge
  ip -n "$NS_SW" link set "$BR" up
  for i in $(seq 1 "$REPLICAS"); do attach "$(ns_of "$i")" "$(ip_of "$i")" "$i"; done
  attach "$NS_C" "$SUBNET.100" c
}

start_replica() {
  local i=$1
  ip netns exec "$(ns_of "$i")" "$BROKER" --id "$i" --peers "$PEERS" --data "$WORK/data-$i" \
      --election-timeout "$ELECTION_MS" --heartbeat "$HEARTBEAT_MS" \
      --snapshot-entries "${SNAPSHOT_ENTRIES:-1000}" >>"$WORK/broker-$i.log" 2>&1 &
  PID[$i]=$!
  DOWN[$i]=0
  echo "== started pid ${PID[$i]} at $(date +%T.%N)" >>"$WORK/broker-$i.log"
}

kill_replica() {
  local i=$1
  kill -KILL "${PID[$i]}" 2>/dev/null || true
  wait "${PID[$i]}" 2>/dev/null || true
  DOWN[$i]=1
  PAUSED[$i]=0
}

# A replica that died although we did not kill it: a crash worth reporting.
check_alive() {
  local i rc
  for i in $(seq 1 "$REPLICAS"); do
    [ "${DOWN[$i]}" = 1 ] && continue
    if ! kill -0 "${PID[$i]}" 2>/dev/null; then
      rc=0; wait "${PID[$i]}" 2>/dev/null || rc=$?
      CRASHES=$((CRASHES + 1))
      flog crash detected "\"replica\":$i,\"exit\":$rc"
      echo "CRASH: replica $i exited with $rc on its own; last log lines:" >&2
      tail -n 20 "$WORK/broker-$i.log" >&2
      DOWN[$i]=1
    fi
  done
}

status_json() {
  if [ -x "$CLI" ]; then
    echo status | ip netns exec "$NS_C" timeout 5 "$CLI" --servers "$SERVERS" --json 2>/dev/null | head -n 1
  else
    ip netns exec "$NS_C" timeout 5 "$WORKLOAD" --status --servers "$SERVERS" 2>/dev/null
  fi
}

leader_id() {
  status_json | python3 -c '
import json,sys
try: rs=[r for r in json.loads(sys.stdin.readline()).get("replicas",[]) if r.get("role")=="leader"]
except ValueError: rs=[]
if not rs: sys.exit(1)
print(max(rs,key=lambda r:r["term"])["id"])' 2>/dev/null || true
}

rand_replica() { echo $(( RANDOM % REPLICAS + 1 )); }
# The leader if one is known, else a random replica.
leader_or_any() { local l; l=$(leader_id); [ -n "$l" ] && echo "$l" || rand_replica; }

blackhole() {   # blackhole FROM_ID TO_ADDR
  ip -n "$(ns_of "$1")" route add blackhole "$2/32"
  ROUTES+=("$(ns_of "$1") $2")
}

heal_routes() {
  local r
  for r in "${ROUTES[@]}"; do
    set -- $r
    ip -n "$1" route del blackhole "$2/32" 2>/dev/null || true
  done
  ROUTES=()
}

hold() { sleep "$(( 2 + RANDOM % 6 )).$(( RANDOM % 10 ))"; }

# ---- faults: each one applies, holds a random while, and heals itself ----------------
fault_kill_one() {
  local i; i=$(rand_replica)
  flog kill9 start "\"replica\":$i"; kill_replica "$i"; hold
  start_replica "$i"; flog kill9 end "\"replica\":$i"
}
fault_kill_leader() {
  local i; i=$(leader_or_any)
  flog kill9_leader start "\"replica\":$i"; kill_replica "$i"; hold
  start_replica "$i"; flog kill9_leader end "\"replica\":$i"
}
fault_kill_all() {
  local i
  flog kill9_all start
  for i in $(seq 1 "$REPLICAS"); do kill_replica "$i"; done
  sleep "1.$(( RANDOM % 10 ))"
  for i in $(seq 1 "$REPLICAS"); do start_replica "$i"; done
  flog kill9_all end
}
fault_pause() {
  local i
  if [ $(( RANDOM % 2 )) = 0 ]; then i=$(leader_or_any); else i=$(rand_replica); fi
  flog pause start "\"replica\":$i"; kill -STOP "${PID[$i]}"; PAUSED[$i]=1; hold
  kill -CONT "${PID[$i]}"; PAUSED[$i]=0; flog pause end "\"replica\":$i"
}
fault_isolate() {
  local i
  if [ $(( RANDOM % 2 )) = 0 ]; then i=$(leader_or_any); else i=$(rand_replica); fi
  flog isolate start "\"replica\":$i"
  ip -n "$NS_SW" link set "h$i" nomaster; DETACHED[$i]=1; hold
  ip -n "$NS_SW" link set "h$i" master "$BR"; DETACHED[$i]=0
  flog isolate end "\"replica\":$i"
}
fault_oneway() {
  local a b; a=$(rand_replica); b=$(( (a + RANDOM % (REPLICAS - 1)) % REPLICAS + 1 ))
  flog oneway_cut start "\"from\":$a,\"to\":$b"; blackhole "$a" "$(ip_of "$b")"; hold
  heal_routes; flog oneway_cut end "\"from\":$a,\"to\":$b"
}
fault_leader_cut() {
  local l j; l=$(leader_or_any)
  flog leader_cut start "\"replica\":$l"
  for j in $(seq 1 "$REPLICAS"); do
    [ "$j" = "$l" ] && continue
    blackhole "$l" "$(ip_of "$j")"; blackhole "$j" "$(ip_of "$l")"
  done
  hold
  heal_routes; flog leader_cut end "\"replica\":$l"
}

heal_all() {
  local i
  heal_routes
  for i in $(seq 1 "$REPLICAS"); do
    [ "${DETACHED[$i]:-0}" = 1 ] && { ip -n "$NS_SW" link set "h$i" master "$BR"; DETACHED[$i]=0; }
    [ "${PAUSED[$i]:-0}" = 1 ] && { kill -CONT "${PID[$i]}"; PAUSED[$i]=0; }
  done
  check_alive
  for i in $(seq 1 "$REPLICAS"); do [ "${DOWN[$i]}" = 1 ] && start_replica "$i"; done
  flog heal_all done
}

FAULT_KINDS=(fault_kill_one fault_kill_leader fault_kill_all fault_pause fault_isolate
             fault_oneway fault_leader_cut)

# ---- main -------------------------------------------------------------------------------
RANDOM=$SEED
T0_NS=$(mono_ns)
echo "run.sh: seed $SEED, $REPLICAS replicas, $CLIENTS clients, ${DURATION}s of faults, work dir $WORK"
net_up
for i in $(seq 1 "$REPLICAS"); do start_replica "$i"; done
deadline=$(( SECONDS + 20 ))
until [ -n "$(leader_id)" ]; do
  [ $SECONDS -lt $deadline ] || { echo "FAIL: no leader within 20 s" >&2; exit 1; }
  sleep 0.2
done
SETTLE=15 DRAIN=10
ip netns exec "$NS_C" "$WORKLOAD" --servers "$SERVERS" --clients "$CLIENTS" --seed "$SEED" \
    --duration $(( DURATION + SETTLE )) --drain "$DRAIN" --out "$HISTORY" 2>"$WORK/workload.err" &
WL_PID=$!
start=$SECONDS
# No fault starts unless it can (with its maximum hold of ~10 s) heal within DURATION.
while [ $(( SECONDS - start + 12 )) -le "$DURATION" ]; do
  sleep "$(( RANDOM % 3 )).$(( RANDOM % 10 ))"
  check_alive
  for i in $(seq 1 "$REPLICAS"); do [ "${DOWN[$i]}" = 1 ] && start_replica "$i"; done
  "${FAULT_KINDS[$(( RANDOM % ${#FAULT_KINDS[@]} ))]}"
done
heal_all
kill -USR1 "$WL_PID"
WL_RC=0
wait "$WL_PID" || WL_RC=$?
WL_PID=""
check_alive
# G8: after the heal every replica catches up with the leader's commit index.
CONVERGED=0
deadline=$(( SECONDS + 30 ))
while [ $SECONDS -lt $deadline ]; do
  if status_json | python3 -c '
import json,sys
rs=json.loads(sys.stdin.readline())["replicas"]
top=max(r["commit"] for r in rs)
sys.exit(0 if len(rs)=='"$REPLICAS"' and all(r["role"] in ("leader","follower") and r["applied"]==top for r in rs) else 1)' 2>/dev/null
  then CONVERGED=1; break; fi
  sleep 0.5
done
echo "final status: $(status_json)"
[ "$CONVERGED" = 1 ] || echo "FAIL: replicas did not all catch up within 30 s of the end" >&2
set +e
python3 "$CHECKER" "$HISTORY" --faults "$FAULTS"
CHECK_RC=$?
set -e
NFAULTS=$(grep -c '"phase":"start"' "$FAULTS" 2>/dev/null || true)
echo "SUMMARY seed=$SEED replicas=$REPLICAS faults=${NFAULTS:-0} crashes=$CRASHES workload_exit=$WL_RC checker_exit=$CHECK_RC converged=$CONVERGED"
if [ "$CHECK_RC" != 0 ] || [ "$CRASHES" != 0 ] || [ "$WL_RC" != 0 ] || [ "$CONVERGED" != 1 ]; then
  echo "FAIL: reproduce with: $0 --seed $SEED --duration $DURATION --replicas $REPLICAS" >&2
  for i in $(seq 1 "$REPLICAS"); do echo "== broker $i (last 15 lines)" >&2; tail -n 15 "$WORK/broker-$i.log" >&2; done
  exit 1
fi
echo "PASS: no violation in $(wc -l <"$HISTORY") history lines"
