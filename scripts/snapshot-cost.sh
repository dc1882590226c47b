#!/usr/bin/env bash
# snapshot-cost.sh - scenario E: what a snapshot of a large backlog costs the write
# rate. Per run, two fresh 3-replica clusters with CURVE keys, alternating: "snap" with
# --snapshot-entries SNAP (default 100,000), so that every replica snapshots the chat
# state while the run sends, with about that many messages queued; "steady" with
# snapshots off in practice (--snapshot-entries 100000000). The same zchat-bench run
# against both: 1 sender x 256 in flight to 2 receivers (a user queues at most
# 100,000), --connect-late (the receivers connect only
# after the last ack, so the backlog is in every snapshot), MESSAGES (default 150,000)
# of SIZE bytes (default 100), audit exact. Prints each run's acked msgs/s, whether
# every replica of the snap cluster logged snapshot_taken during the run, then the
# medians and their ratio (target: snap >= 90% of steady).
#
# Usage: scripts/snapshot-cost.sh [--runs K] [--messages N] [--snapshot-entries SNAP]
#          [--size BYTES] [--bin DIR]
# Env: ZCHAT_BIN (default ./build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build}
runs=3 messages=150000 snap=100000 size=100
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --snapshot-entries) snap=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "snapshot-cost: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for exe in zchat-broker zchat-bench zchat-keys zchat; do
  [ -x "$bin/$exe" ] || { echo "snapshot-cost: no $bin/$exe: build first" >&2; exit 1; }
done
work=$(mktemp -d /tmp/zchat-snapcost.XXXXXX)
started=()
cleanup() {
  local rc=$?
  for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -eq 0 ]; then rm -rf "$work"; else echo "snapshot-cost: logs in $work" >&2; fi
  exit $rc
}
trap cleanup EXIT
"$bin/zchat-keys" init "$work/keys" --replicas 3 >/dev/null
export ZCHAT_SERVER_KEY=$work/keys/server.cert ZCHAT_PASSWORD=snapcost-secret
base=$(( 10000 + (RANDOM * 7 + $$) % 22000 )); base=$(( base - base % 10 ))
peers="127.0.0.1:$base,127.0.0.1:$((base + 3)),127.0.0.1:$((base + 6))"

# one_run MODE ENTRIES RUN: a fresh cluster, the bench, the acked rate on stdout
one_run() {
  local mode=$1 entries=$2 run=$3 dir=$work/$1-$3 pids=() i
  mkdir -p "$dir"
  for i in 1 2 3; do
    "$bin/zchat-broker" --id "$i" --peers "$peers" --data "$dir/d$i" --keys "$work/keys" \
        --snapshot-entries "$entries" >>"$dir/broker-$i.log" 2>&1 &
    pids+=("$!"); started+=("$!")
  done
  local deadline=$(( SECONDS + 30 ))
  until echo status | "$bin/zchat" --servers "$peers" --json 2>/dev/null | grep -q '"leader"'; do
    [ $SECONDS -lt $deadline ] || { echo "snapshot-cost: no leader (logs: $dir)" >&2; return 1; }
    sleep 0.1
  done
  nice "$bin/zchat-bench" --servers "$peers" --senders 1 --receivers 2 --inflight 256 \
      --messages "$messages" --size "$size" --connect-late --json >"$dir/bench.json" \
      2>"$dir/bench.err" || { echo "snapshot-cost: bench failed: $(tail -n 3 "$dir/bench.err")" >&2; return 1; }
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
  local snaps
  snaps=$(grep -l 'event=snapshot_taken' "$dir"/broker-*.log 2>/dev/null | wc -l || true)
  local longest
  longest=$(grep -ho 'event=snapshot_taken index=[0-9]* ms=[0-9]*' "$dir"/broker-*.log 2>/dev/null \
            | sed 's/.*ms=//' | sort -n | tail -n 1 || true)
  python3 - "$dir/bench.json" "$snaps" "${longest:--}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = d.get("verification", d)
bad = {k: v.get(k, 0) for k in ("lost", "duplicated", "reordered", "phantom")}
if any(bad.values()) or d.get("failed", 0):
    sys.exit("audit failed: %s" % bad)
print("%.0f %s %s" % (d["acked_per_s"], sys.argv[2], sys.argv[3]))
PY
}

declare -a snap_rates=() steady_rates=()
for run in $(seq 1 "$runs"); do
  read -r steady _ < <(one_run steady 100000000 "$run")
  read -r rate snapped longest < <(one_run snap "$snap" "$run")
  [ "$snapped" = 3 ] || echo "snapshot-cost: run $run: only $snapped of 3 replicas snapshotted during the run" >&2
  echo "run $run: steady $steady acked msgs/s, with a snapshot of the backlog $rate acked msgs/s ($snapped of 3 replicas snapshotted, the longest background write $longest ms)"
  steady_rates+=("$steady"); snap_rates+=("$rate")
done
python3 - "${steady_rates[*]}" "${snap_rates[*]}" "$messages" "$snap" <<'PY'
import statistics, sys
steady = [float(x) for x in sys.argv[1].split()]
snap = [float(x) for x in sys.argv[2].split()]
ms, mn = statistics.median(steady), statistics.median(snap)
print("\nscenario E: %s messages, snapshot every %s entries; medians of %d run(s)" %
      (sys.argv[3], sys.argv[4], len(steady)))
print("steady %.0f acked msgs/s, across a snapshot %.0f acked msgs/s: %.1f%% (target >= 90%%)" %
      (ms, mn, 100 * mn / ms))
PY
