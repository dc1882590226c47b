#!/usr/bin/env bash
# compare-nats.sh - zchat against NATS JetStream on this machine, in one run, same sizes.
#
# Starts a 3-node NATS JetStream cluster on loopback (file storage, stream replicas=3),
# publishes with scripts/nats_pub.c (one at a time, then 256 in flight), stops it, then
# starts a 3-replica zchat cluster and runs zchat-bench with the same sizes and depths,
# stops it, and prints one table. The systems run one after the other so neither
# takes CPU from the other. Everything started here is stopped by pid on exit.
#
# Usage: scripts/compare-nats.sh [--bin DIR] [--only nats|zchat] [--sync-messages N]
#                                [--pipe-messages N] [--keep]
#   --bin DIR   where zchat-broker and zchat-bench are (default $ZCHAT_BIN, then ./build)
#   --keep      keep the temp directory with logs and data
# Message size: 800 bytes for both systems. DESIGN.md §10 quotes 1000-byte messages,
# but zchat's text limit is 800 bytes (ZC_TEXT_MAX), so both use 800.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${ZCHAT_BIN:-$SRC/build}
ONLY=both
SYNC_N=3000
PIPE_N=30000
SIZE=800
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --sync-messages) SYNC_N=$2; shift 2 ;;
        --pipe-messages) PIPE_N=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare-nats: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$ONLY" in both|nats|zchat) ;; *) echo "compare-nats: --only nats|zchat" >&2; exit 2 ;; esac

WORK=$(mktemp -d /tmp/zchat-vs-nats.XXXXXX)
PIDS=()
RESULTS=()          # "system inflight msgs_per_s p50_ms p99_ms"
DEV_CLUSTER_STARTED=0

log() { echo "compare-nats: $*" >&2; }

stop_pids() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

cleanup() {
    stop_pids
    if [ "$DEV_CLUSTER_STARTED" = 1 ]; then
        ZCHAT_BIN=$BIN ZCHAT_DEV_DIR=$WORK/dev ZCHAT_DEV_PORT=7201 "$SRC/scripts/dev-cluster.sh" stop >/dev/null 2>&1 || true
    fi
    if [ "$KEEP" = 1 ]; then log "logs and data kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

# ---- NATS ---------------------------------------------------------------

ensure_nats() {
    local missing=()
    command -v nats-server >/dev/null || missing+=(nats-server)
    dpkg-query -W -f='${Status}' libnats-dev 2>/dev/null | grep -q 'install ok installed' \
        || missing+=(libnats-dev)
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    # every missing package has a candidate version (captured first: grep -q closing the
    # pipe early would fail the pipeline under pipefail)
    candidates() { local pol; pol=$(apt-cache policy "${missing[@]}" 2>/dev/null || true)
                   [ "$(grep -c 'Candidate: [0-9]' <<<"$pol")" -eq ${#missing[@]} ]; }
    if ! candidates; then
        log "updating apt lists to find ${missing[*]}"
        $sudo apt-get update -qq
    fi
    if ! candidates; then
        log "${missing[*]} not available from apt"; return 1
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

start_nats() {
    local i routes="nats-route://127.0.0.1:16222,nats-route://127.0.0.1:16223,nats-route://127.0.0.1:16224"
    for i in 0 1 2; do
        mkdir -p "$WORK/nats$i"
        cat > "$WORK/nats$i.conf" <<EOF
server_name: zb$i
listen: 127.0.0.1:$((14222 + i))
http: 127.0.0.1:$((18222 + i))
jetstream { store_dir: "$WORK/nats$i" }
cluster {
  name: zbench
  listen: 127.0.0.1:$((16222 + i))
  routes: [ ${routes//,/, } ]
}
EOF
        nats-server -c "$WORK/nats$i.conf" > "$WORK/nats$i.log" 2>&1 &
        PIDS+=($!)
    done
    for i in 0 1 2; do
        wait_for 30 curl -sf "http://127.0.0.1:$((18222 + i))/healthz" \
            || { log "NATS node $i not healthy; see $WORK/nats$i.log"; KEEP=1; return 1; }
    done
}

run_nats() {
    ensure_nats
    log "building nats_pub"
    cc -std=c11 -O2 -Wall -o "$WORK/nats_pub" "$SRC/scripts/nats_pub.c" "$SRC/client/histogram.c" \
        -lnats -lm
    log "starting a 3-node NATS JetStream cluster (file storage, replicas=3)"
    start_nats
    local urls="nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224"
    local f n line
    for f in 1 256; do
        n=$SYNC_N; [ "$f" = 1 ] || n=$PIPE_N
        log "NATS: $n messages of $SIZE bytes, $f in flight"
        echo "\$ nats_pub --servers $urls --messages $n --size $SIZE --inflight $f --replicas 3" >&2
        line=$("$WORK/nats_pub" --servers "$urls" --messages "$n" --size "$SIZE" --inflight "$f" \
               --replicas 3) || { log "nats_pub failed: $line"; KEEP=1; return 1; }
        echo "  $line" >&2
        RESULTS+=("NATS-JetStream $f $(field msgs_per_s "$line") $(field p50_ms "$line") $(field p99_ms "$line")")
    done
    stop_pids
}

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# ---- zchat --------------------------------------------------------------

ZSERVERS=127.0.0.1:7201,127.0.0.1:7204,127.0.0.1:7207

start_zchat() {
    local i
    [ -x "$BIN/zchat-broker" ] && [ -x "$BIN/zchat-bench" ] \
        || { log "no zchat-broker/zchat-bench in $BIN (use --bin DIR)"; return 1; }
    if [ -x "$SRC/scripts/dev-cluster.sh" ]; then
        log "starting a 3-replica zchat cluster with scripts/dev-cluster.sh"
        DEV_CLUSTER_STARTED=1
        ZCHAT_BIN=$BIN ZCHAT_DEV_DIR=$WORK/dev ZCHAT_DEV_PORT=7201 "$SRC/scripts/dev-cluster.sh" start >&2
        export ZCHAT_SERVER_KEY=$WORK/dev/keys/server.cert     # CURVE on, as deployed
    else
        log "starting 3 zchat-broker replicas"
        "$BIN/zchat-keys" init "$WORK/keys" >/dev/null
        export ZCHAT_SERVER_KEY=$WORK/keys/server.cert
        for i in 1 2 3; do
            "$BIN/zchat-broker" --id "$i" --peers "$ZSERVERS" --data "$WORK/zchat$i" \
                --keys "$WORK/keys" > "$WORK/zchat$i.log" 2>&1 &
            PIDS+=($!)
        done
    fi
    # A leader is elected when a tiny run gets everything acked and delivered.
    wait_for 30 "$BIN/zchat-bench" --servers "$ZSERVERS" --senders 1 --receivers 1 \
        --messages 10 --size 10 --inflight 1 \
        || { log "zchat cluster never served a send; see $WORK"; KEEP=1; return 1; }
}

# Two zchat rows per depth: "zchat" publishes alone like the NATS publisher (its
# receiver connects after the last ack, then gets and verifies the backlog), and
# "zchat+receiver" pushes every message to a receiver connected throughout.
run_zchat() {
    start_zchat
    local f n json mode name late
    for mode in late live; do
      for f in 1 256; do
        n=$SYNC_N; [ "$f" = 1 ] || n=$PIPE_N
        name=zchat; late=--connect-late
        [ "$mode" = live ] && { name=zchat+receiver; late=; }
        log "$name: $n messages of $SIZE bytes, $f in flight"
        echo "\$ zchat-bench --servers $ZSERVERS --senders 1 --receivers 1 --messages $n --size $SIZE --inflight $f $late --json" >&2
        json=$(timeout 600 "$BIN/zchat-bench" --servers "$ZSERVERS" --senders 1 --receivers 1 \
               --messages "$n" --size "$SIZE" --inflight "$f" $late --json 2>"$WORK/bench-$mode-$f.err") \
            || { log "zchat-bench reported a failure (stderr in $WORK/bench-$mode-$f.err)"; KEEP=1; }
        echo "  $json" >&2
        RESULTS+=("$name $f $(python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
    a = d["ack_latency_us"]
    print("%.0f %.3f %.3f%s" % (d["acked_per_s"], a["p50"] / 1000, a["p99"] / 1000,
                                "" if d["ok"] else " (errors:%d,lost:%d)" % (d["errors"], d["lost"])))
except (ValueError, KeyError):
    print("failed - -")' "$json")")
      done
    done
    stop_pids
    if [ "$DEV_CLUSTER_STARTED" = 1 ]; then
        ZCHAT_BIN=$BIN ZCHAT_DEV_DIR=$WORK/dev ZCHAT_DEV_PORT=7201 "$SRC/scripts/dev-cluster.sh" stop >&2 || true
        DEV_CLUSTER_STARTED=0
    fi
}

# ---- table --------------------------------------------------------------

print_table() {
    printf '\n%-16s %9s %10s %9s %9s %14s\n' system in-flight msgs/s p50_ms p99_ms zchat/NATS
    local r sys f rate p50 p99 ratio nats
    for r in "${RESULTS[@]}"; do
        read -r sys f rate p50 p99 <<<"$r"
        ratio=""
        if [ "${sys%%+*}" = zchat ]; then
            nats=$(printf '%s\n' "${RESULTS[@]}" | awk -v f="$f" '$1=="NATS-JetStream" && $2==f {print $3}')
            [ -n "$nats" ] && ratio=$(awk -v z="$rate" -v n="$nats" 'BEGIN{ if (n>0) printf "%.2fx", z/n }')
        fi
        printf '%-16s %9s %10s %9s %9s %14s\n' "$sys" "$f" "$rate" "$p50" "$p99" "$ratio"
    done
    cat <<EOF

$SIZE-byte messages for both (zchat's text limit is 800 bytes; DESIGN.md quotes 1000).
One-at-a-time: $SYNC_N messages; 256 in flight: $PIPE_N messages. Latency is publish/send
to ack. The NATS run has no consumer; "zchat" is measured the same way (its receiver
connects after the last ack, then every message is delivered and verified), and
"zchat+receiver" also pushes every message to a receiver connected all along (pushes
and their acks are replicated too).
Durability differs: NATS 2.9 does not fsync per message (its file store syncs
periodically), while zchat fdatasyncs on a majority of replicas before every ack.
EOF
}

cd "$WORK"
[ "$ONLY" = zchat ] || run_nats
[ "$ONLY" = nats ] || run_zchat
print_table
