#!/usr/bin/env bash
# resource-figures.sh - memory and restart figures of one replica, and overload of three.
#   scripts/resource-figures.sh [--messages N] [--skip-memory] [--skip-overload]
# (a) memory per queued message: one replica (--max-queue 2000000), N messages (default
#     1,000,000) of 100 bytes queued for one user (zchat-hostile fill: 256 in flight);
#     broker RSS before and after; (RSS delta / N) - 100 = overhead per message.
# (b) restart of that replica: kill -9, start again, time until it answers STATUS and
#     until it serves a LIST, and what it loaded (event=replica_loaded). Done with the
#     default --snapshot-entries (the log is compacted into a snapshot) and again with
#     snapshots disabled in practice (--snapshot-entries 100000000: all N in the log).
# (c) overload: a 3-replica cluster, zchat-bench --senders 8 --inflight 256 plus a
#     zchat-hostile sendflood of valid SENDs that never reads its replies; every
#     replica's RSS sampled each second; errors by code; every replica still alive.
# Env: ZCHAT_BIN (default build-figs, else build), FIG_PORT (default 7431; uses 9 ports),
# FIG_DIR (data and logs are kept there; default a new /tmp/zchat-resource.XXXX).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build-figs}
[ -x "$bin/zchat-broker" ] || bin=$root/build
for b in zchat-broker zchat zchat-bench zchat-hostile; do
  [ -x "$bin/$b" ] || { echo "resource-figures: $bin/$b not built" >&2; exit 2; }
done
messages=1000000 do_memory=1 do_overload=1
while [ $# -gt 0 ]; do
  case "$1" in
    --messages) messages=$2; shift 2 ;;
    --skip-memory) do_memory=0; shift ;;
    --skip-overload) do_overload=0; shift ;;
    *) echo "usage: $0 [--messages N] [--skip-memory] [--skip-overload]" >&2; exit 2 ;;
  esac
done
# as deployed (docker/Dockerfile, dev-cluster.sh): malloc's heap on huge pages
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}
base=${FIG_PORT:-7431}
for p in $(seq "$base" $(( base + 8 ))); do
  if ss -ltn | awk '{print $4}' | grep -q ":$p\$"; then echo "port $p is in use (set FIG_PORT)" >&2; exit 2; fi
done
dir=${FIG_DIR:-$(mktemp -d /tmp/zchat-resource.XXXXXX)}
mkdir -p "$dir"
# CURVE and secrets on, as deployed: keys for the cluster, the bench's users' secret
"$bin/zchat-keys" init "$dir/keys" --replicas 3 >/dev/null
export ZCHAT_KEYS=$dir/keys ZCHAT_SERVER_KEY=$dir/keys/server.cert ZCHAT_PASSWORD=${ZCHAT_PASSWORD:-figures}
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_for() {    # wait_for SECONDS WHAT CMD...
  local end=$(( $(now_ms) + $1 * 1000 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt $end ] || { echo "timed out waiting for $what" >&2; return 1; }
    sleep 0.01
  done
}
status_ok() { echo status | "$bin/zchat" --servers "$1" --timeout 300 >/dev/null 2>&1; }
list_ok() { echo "list ^nobody-at-all$" | "$bin/zchat" --servers "$1" --timeout 300 >/dev/null 2>&1; }
queued_is() {
  [ "$(echo status | "$bin/zchat" --servers "$1" --json --timeout 2000 2>/dev/null \
       | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["queued"])')" = "$2" ]
}

echo "resource-figures: $(date -u +%FT%TZ), $(nproc) cores, binaries $bin, data $dir"

memory_run() {   # memory_run NAME [broker flags]: (a) then (b) on one replica
  local name=$1; shift
  local d=$dir/$name srv=127.0.0.1:$base
  mkdir -p "$d"
  start() {
    (cd "$d" && exec "$bin/zchat-broker" --max-queue 2000000 "$@" "$base" >>"$d/broker.log" 2>&1) &
    bpid=$!; pids+=("$bpid")
  }
  start "$@"
  wait_for 20 "the replica to lead" status_ok "$srv"
  local rss0; rss0=$(rss_kb "$bpid")
  "$bin/zchat-hostile" --server "$srv" fill qbox "$messages" 100 | tee "$d/fill.out"
  wait_for 30 "all $messages queued" queued_is "$srv" "$messages"
  local rss1 hwm; rss1=$(rss_kb "$bpid"); hwm=$(hwm_kb "$bpid")
  python3 -c 'import sys
r0,r1,hwm,n=map(int,sys.argv[1:5])
per=(r1-r0)*1024/n
print("RESULT (a) %s: %d x 100-byte messages queued: RSS %d -> %d KiB (peak %d KiB): %.0f B per message, %.0f B beyond the text"%(sys.argv[5],n,r0,r1,hwm,per,per-100))' \
    "$rss0" "$rss1" "$hwm" "$messages" "$name"
  local log_bytes; log_bytes=$(du -sb "$d/zchat-data-$base" | cut -f1)
  echo "       data directory: $(( log_bytes / 1048576 )) MiB ($(ls "$d/zchat-data-$base" | tr '\n' ' '))"
  kill -KILL "$bpid"; { wait "$bpid"; } 2>/dev/null || true
  local mark t0 ts tl
  mark=$(wc -l <"$d/broker.log")
  t0=$(now_ms)
  start "$@"
  wait_for 300 "STATUS after restart" status_ok "$srv"; ts=$(( $(now_ms) - t0 ))
  wait_for 300 "LIST after restart" list_ok "$srv"; tl=$(( $(now_ms) - t0 ))
  local loaded; loaded=$(tail -n +$(( mark + 1 )) "$d/broker.log" | grep -m1 'event=replica_loaded' | sed 's/.*event=replica_loaded //')
  local lead; lead=$(tail -n +$(( mark + 1 )) "$d/broker.log" | grep -m1 'event=role role=leader' | cut -d' ' -f1)
  echo "RESULT (b) $name: restart after kill -9: STATUS answered after $ts ms, LIST served after $tl ms (process start included)"
  echo "       loaded: $loaded; became leader at $lead (started $(date -u -d @$(( t0 / 1000 )) +%T).$(printf %03d $(( t0 % 1000 ))))"
  wait_for 30 "all $messages still queued" queued_is "$srv" "$messages" \
    && echo "       after restart: all $messages messages still queued, RSS $(rss_kb "$bpid") KiB"
  kill -TERM "$bpid"; { wait "$bpid"; } 2>/dev/null || true
}

overload_run() {
  local d=$dir/overload peers
  mkdir -p "$d"
  peers="127.0.0.1:$base,127.0.0.1:$(( base + 3 )),127.0.0.1:$(( base + 6 ))"
  local bp=()
  for i in 1 2 3; do
    "$bin/zchat-broker" --id "$i" --peers "$peers" --data "$d/data-$i" >>"$d/replica-$i.log" 2>&1 &
    bp+=("$!"); pids+=("$!")
  done
  wait_for 30 "a leader" status_ok "$peers"
  echo "create victim" | "$bin/zchat" --servers "$peers" --timeout 10000 >/dev/null
  local r0="${bp[0]}:$(rss_kb "${bp[0]}") ${bp[1]}:$(rss_kb "${bp[1]}") ${bp[2]}:$(rss_kb "${bp[2]}")"
  ( while true; do
      echo "$(date +%s) $(rss_kb "${bp[0]}") $(rss_kb "${bp[1]}") $(rss_kb "${bp[2]}")"; sleep 1
    done ) >"$d/rss.txt" &
  local sampler=$!; pids+=("$sampler")
  local leader_srv
  leader_srv=$(echo status | "$bin/zchat" --servers "$peers" --json | python3 -c '
import json,sys
rs=[r for r in json.loads(sys.stdin.readline())["replicas"] if r["role"]=="leader"]
print(sys.argv[1].split(",")[max(rs,key=lambda r:r["term"])["id"]-1])' "$peers")
  "$bin/zchat-bench" --servers "$peers" --senders 8 --inflight 256 --messages 400000 --size 100 --json \
      >"$d/bench.json" 2>"$d/bench.err" &
  local bench=$!; pids+=("$bench")
  "$bin/zchat-hostile" --server "$leader_srv" sendflood victim 300000 >"$d/sendflood.out" 2>&1 &
  local flood=$!; pids+=("$flood")
  "$bin/zchat-hostile" --server "$leader_srv" --deadline 10000 probe >"$d/probe.out" 2>&1 || true
  local brc=0 frc=0
  wait "$bench" || brc=$?
  wait "$flood" || frc=$?
  kill "$sampler" 2>/dev/null || true
  echo "RESULT (c) overload: bench exit $brc: $(python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))
print("sent %d acked %d failed %d, %.0f acked/s, ack p99 %.1f ms, errors %s, lost %d dup %d reordered %d" % (s["sent"],s["acked"],s["failed"],s["acked_per_s"],s["ack_latency_us"]["p99"]/1000,s["error_codes"],s["lost"],s["duplicated"],s["reordered"]))' "$d/bench.json" 2>/dev/null || tail -n 3 "$d/bench.err")"
  echo "       sendflood (leader $leader_srv, exit $frc): $(cat "$d/sendflood.out")"
  echo "       probe during overload: $(cat "$d/probe.out")"
  echo "       RSS before (pid:KiB): $r0"
  python3 -c 'import sys
rows=[list(map(int,l.split())) for l in open(sys.argv[1]) if len(l.split())==4]
for i in (1,2,3):
    v=[r[i] for r in rows]
    print("       replica %d RSS over %d s: max %d KiB, last %d KiB" % (i,len(v),max(v),v[-1]))' "$d/rss.txt"
  local alive=0
  for p in "${bp[@]}"; do kill -0 "$p" 2>/dev/null && alive=$(( alive + 1 )); done
  echo "       replicas alive after the overload: $alive of 3; failures logged: $(cat "$d"/replica-*.log | grep -cE 'event=(storage_failed|encode_failed)' || true)"
  for p in "${bp[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${bp[@]}"; do { wait "$p"; } 2>/dev/null || true; done
}

if [ "$do_memory" = 1 ]; then
  memory_run memory-default
  memory_run memory-nosnap --snapshot-entries 100000000
fi
[ "$do_overload" = 1 ] && overload_run
echo "resource-figures: done; logs in $dir"
