#!/usr/bin/env bash
# compare-nats.sh - zchat against NATS JetStream on this machine, same sizes, same runs.
#
# Three scenarios, 800-byte messages (zchat's text limit; DESIGN.md quotes 1000):
#   A  4 senders x 64 in flight, 4 receivers connected throughout. NATS: 4 publishers
#      and, per receiver, a durable push consumer with explicit ack (scripts/nats_pub.c
#      --publishers 4 --consumers 4); message n of sender s goes to receiver (s+n)%4.
#   B  1 sender x 256 in flight, publishing alone (zchat-bench --connect-late: the
#      receiver connects after the last ack, then the backlog is verified).
#   C  one at a time (1 in flight), publishing alone.
# Each run: a fresh 3-node NATS JetStream cluster (file storage, stream replicas=3),
# then a fresh 3-replica zchat cluster with CURVE keys, then one with --insecure; the
# systems run one after the other so neither takes CPU from the other. Prints one
# table (medians over the runs, with the median of the per-run zchat/NATS ratios) and
# draws one latency-by-percentile chart of both systems with gnuplot from the .hgrm
# files of the last run. Everything started here is stopped by pid on exit.
#
# Usage: scripts/compare-nats.sh [--bin DIR] [--runs K] [--out DIR] [--only nats|zchat]
#          [--no-insecure] [--sync-messages N] [--pipe-messages N] [--keep]
#   --bin DIR   where zchat-broker, zchat-bench and zchat-keys are ($ZCHAT_BIN, ./build)
#   --out DIR   where the .hgrm files, results.txt and latency.png go (./compare-nats-out)
#   --keep      keep the temp directory with logs and data
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${ZCHAT_BIN:-$SRC/build}
ONLY=both RUNS=1 OUT=$PWD/compare-nats-out INSECURE=1
SYNC_N=3000 PIPE_N=30000 SIZE=800 KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) BIN=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --no-insecure) INSECURE=0; shift ;;
        --sync-messages) SYNC_N=$2; shift 2 ;;
        --pipe-messages) PIPE_N=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare-nats: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case "$ONLY" in both|nats|zchat) ;; *) echo "compare-nats: --only nats|zchat" >&2; exit 2 ;; esac
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)

WORK=$(mktemp -d /tmp/zchat-vs-nats.XXXXXX)
PIDS=()
: > "$OUT/results.txt"    # one line per (run, scenario, system): see record()

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

# record RUN SCENARIO SYSTEM MSGS_PER_S ACK_P50 ACK_P99 DELIV_P50 DELIV_P99 OK
record() { local a out=(); for a in "$@"; do out+=("${a:--}"); done
           echo "${out[*]}" >> "$OUT/results.txt"; }

# The scenarios: name, senders, in flight, messages, receivers connected throughout?
scenario_args() {   # scenario_args A|B|C -> "senders inflight messages live"
    case "$1" in
        A) echo "4 64 $PIPE_N live" ;;
        B) echo "1 256 $PIPE_N late" ;;
        C) echo "1 1 $SYNC_N late" ;;
    esac
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
    rm -rf "$WORK"/nats?
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

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

run_nats() {   # run_nats RUN
    local run=$1 sc s f n live line consumers ok
    log "starting a 3-node NATS JetStream cluster (file storage, replicas=3)"
    start_nats
    local urls="nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224"
    for sc in A B C; do
        read -r s f n live <<<"$(scenario_args $sc)"
        consumers=0; [ "$live" = live ] && consumers=4
        local cmd=("$WORK/nats_pub" --servers "$urls" --messages "$n" --size "$SIZE" --inflight "$f"
                   --replicas 3 --publishers "$s" --consumers "$consumers" --stream "ZB$sc$run"
                   --hgrm "$OUT/nats-$sc")
        echo "\$ nats_pub ${cmd[*]:1}" >&2
        ok=1
        line=$("${cmd[@]}") || { log "nats_pub failed: $line"; KEEP=1; ok=0; }
        echo "  $line" >&2
        record "$run" "$sc" NATS "$(field msgs_per_s "$line")" "$(field p50_ms "$line")" \
            "$(field p99_ms "$line")" "$(field deliver_p50_ms "$line")" \
            "$(field deliver_p99_ms "$line")" "$ok"
    done
    stop_pids
}

# ---- zchat --------------------------------------------------------------

ZSERVERS=127.0.0.1:7201,127.0.0.1:7204,127.0.0.1:7207

start_zchat() {   # start_zchat curve|insecure RUN
    local i flags=(--keys "$WORK/keys")
    [ "$1" = insecure ] && flags=(--insecure)
    for i in 1 2 3; do
        GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
        "$BIN/zchat-broker" --id "$i" --peers "$ZSERVERS" --data "$WORK/z$2-$1-$i" "${flags[@]}" \
            >> "$WORK/zchat-$1-$i.log" 2>&1 &
        PIDS+=($!)
    done
    # A leader is elected when a tiny run gets everything acked and delivered.
    wait_for 30 "$BIN/zchat-bench" --servers "$ZSERVERS" --senders 1 --receivers 1 \
        --messages 10 --size 10 --inflight 1 \
        || { log "zchat cluster never served a send; see $WORK"; KEEP=1; return 1; }
}

run_zchat() {   # run_zchat curve|insecure RUN
    local mode=$1 run=$2 sc s f n live json late name=zchat
    [ "$mode" = insecure ] && name=zchat-insecure
    export ZCHAT_INSECURE=$([ "$mode" = insecure ] && echo 1 || echo 0)
    log "starting a 3-replica zchat cluster ($mode)"
    start_zchat "$mode" "$run"
    for sc in A B C; do
        read -r s f n live <<<"$(scenario_args $sc)"
        late=; [ "$live" = late ] && late=--connect-late
        local cmd=("$BIN/zchat-bench" --servers "$ZSERVERS" --senders "$s" --receivers "$s"
                   --messages "$n" --size "$SIZE" --inflight "$f" $late --scenario "$sc"
                   --hgrm "$OUT/$name-$sc" --json)
        [ "$sc" = A ] && cmd[6]=4     # A: 4 receivers
        echo "\$ zchat-bench ${cmd[*]:1}" >&2
        json=$(timeout 600 "${cmd[@]}" 2>"$WORK/bench-$mode-$sc.err") \
            || { log "zchat-bench reported a failure (stderr in $WORK/bench-$mode-$sc.err)"; KEEP=1; }
        echo "  $json" >&2
        record "$run" "$sc" "$name" $(python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
    a, l = d["ack_latency_us"], d["delivery_latency_us"]
    print("%.0f %.3f %.3f %.3f %.3f %d" % (d["acked_per_s"], a["p50"] / 1000, a["p99"] / 1000,
          l["p50"] / 1000, l["p99"] / 1000, 1 if d["ok"] else 0))
except (ValueError, KeyError):
    print("0 - - - - 0")' "$json")
    done
    stop_pids
    unset ZCHAT_INSECURE
}

# ---- table and chart ----------------------------------------------------

print_table() {
    python3 - "$OUT/results.txt" "$RUNS" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for run, sc, system, rate, ap50, ap99, dp50, dp99, ok in rows:
    rate = float(rate) if rate not in ("-", "") else 0.0
    by.setdefault((sc, system), []).append((int(run), rate, ap50, ap99, dp50, dp99, ok))
def med(xs):
    xs = [float(x) for x in xs if x not in ("-", "")]
    return st.median(xs) if xs else float("nan")
print("\n%-3s %-15s %4s %10s %9s %9s %11s %11s %16s" % ("sc", "system", "runs", "msgs/s",
      "ack_p50", "ack_p99", "deliv_p50", "deliv_p99", "vs NATS (runs)"))
desc = {"A": "4 senders x 64 in flight, 4 receivers connected",
        "B": "1 sender x 256 in flight, publishing alone",
        "C": "one at a time, publishing alone"}
for sc in "ABC":
    nats = {r[0]: r[1] for r in by.get((sc, "NATS"), [])}
    for system in ("NATS", "zchat", "zchat-insecure"):
        rs = by.get((sc, system))
        if not rs:
            continue
        ratios = [r[1] / nats[r[0]] for r in rs if nats.get(r[0])] if system != "NATS" else []
        ratio = ("%.2fx (%s)" % (st.median(ratios), " ".join("%.2f" % x for x in ratios))
                 if ratios else "")
        bad = sum(1 for r in rs if r[6] != "1")
        live = sc == "A"    # B and C: the receiver connects late, delivery is queue time
        print("%-3s %-15s %4d %10.0f %9.3f %9.3f %11s %11s  %s%s" % (sc, system, len(rs),
              med(r[1] for r in rs), med(r[2] for r in rs), med(r[3] for r in rs),
              "%.3f" % med(r[4] for r in rs) if live else "-",
              "%.3f" % med(r[5] for r in rs) if live else "-", ratio,
              "  (%d run(s) failed verification)" % bad if bad else ""))
print()
for sc in "ABC":
    print("%s: %s" % (sc, desc[sc]))
print("""Latencies in ms: ack = send/publish to ack; deliv = send to push (zchat) or to the
consumer's callback (NATS; only in A, where consumers run). Medians over the runs; the
ratio column is the median of the per-run msgs/s ratios. Durability differs: NATS 2.9
does not fsync per message (its file store syncs periodically), while zchat
fdatasyncs on a majority of replicas before every ack. zchat runs with CURVE (the
default); zchat-insecure is the same with --insecure.""")
PY
}

# One chart: latency by percentile (x = 1/(1-p), log) for every .hgrm of the last run.
draw_chart() {
    command -v gnuplot >/dev/null || { log "no gnuplot (scripts/deps.sh installs gnuplot-nox): no chart"; return 0; }
    local plots=() f label color dash
    for f in "$OUT"/*.hgrm; do
        [ -s "$f" ] || continue
        label=$(basename "$f" .hgrm)
        # CURVE zchat and NATS; delivery only where receivers are connected throughout
        case "$label" in zchat-insecure-*|*-[BC]-delivery) continue ;; *-ack|*-delivery) ;; *) continue ;; esac
        case "$label" in *-A-ack) color=#d62728 ;; *-A-delivery) color=#ff7f0e ;;
                         *-B-ack) color=#1f77b4 ;; *) color=#2ca02c ;; esac
        dash=1; [ "${label%%-*}" = nats ] && dash=2
        plots+=("\"< awk 'NF==4 && \$1+0==\$1' $f\" using 4:1 with lines lw 2 lc rgb \"$color\" dt $dash title \"$label\"")
    done
    [ ${#plots[@]} -gt 0 ] || return 0
    local IFS=,
    gnuplot <<EOF || log "gnuplot failed"
set terminal pngcairo size 1300,750 noenhanced
set output "$OUT/latency.png"
set title "zchat vs NATS JetStream: latency by percentile (3 replicas each, 800-byte messages)"
set logscale x
set logscale y
set xrange [1:*]
set xtics ("0%%" 1, "50%%" 2, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel "percentile (x = 1/(1-p), log scale)"
set ylabel "latency, ms (log scale)"
set grid
set key outside right top
set label 1 "solid: zchat (CURVE), dashed: NATS JetStream" at graph 0.02, graph 0.95
plot ${plots[*]}
EOF
    [ -s "$OUT/latency.png" ] && log "chart: $OUT/latency.png"
}

cd "$WORK"
if [ "$ONLY" != zchat ]; then
    ensure_nats
    log "building nats_pub"
    cc -std=c11 -O2 -Wall -o "$WORK/nats_pub" "$SRC/scripts/nats_pub.c" "$SRC/client/histogram.c" \
        -lnats -lm -lpthread
fi
if [ "$ONLY" != nats ]; then
    for exe in zchat-broker zchat-bench zchat-keys; do
        [ -x "$BIN/$exe" ] || { log "no $BIN/$exe (use --bin DIR)"; exit 1; }
    done
    "$BIN/zchat-keys" init "$WORK/keys" >/dev/null
    export ZCHAT_SERVER_KEY=$WORK/keys/server.cert     # CURVE on, as deployed
fi
[ "$ONLY" = zchat ] || rm -f "$OUT"/nats-*.hgrm     # the chart shows only this run's
[ "$ONLY" = nats ] || rm -f "$OUT"/zchat-*.hgrm
for run in $(seq 1 "$RUNS"); do
    log "---- run $run of $RUNS"
    [ "$ONLY" = zchat ] || run_nats "$run"
    if [ "$ONLY" != nats ]; then
        run_zchat curve "$run"
        [ "$INSECURE" = 0 ] || run_zchat insecure "$run"
    fi
done
print_table | tee "$OUT/table.txt"
draw_chart
