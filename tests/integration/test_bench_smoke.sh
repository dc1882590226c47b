#!/usr/bin/env bash
# test_bench_smoke.sh - zchat-bench against one real replica: 2000 messages from two
# senders to two receivers all acked, and every one delivered exactly once in order;
# then again with --connect-late (receivers connect after the last ack and get the
# whole backlog).
# Env: ZCHAT_BIN = build directory with zchat-broker and zchat-bench.
set -euo pipefail
BIN=${ZCHAT_BIN:?set ZCHAT_BIN to the build directory}
for exe in zchat-broker zchat-bench; do
    if [ ! -x "$BIN/$exe" ]; then
        echo "FAIL: $BIN/$exe does not exist (build it first)" >&2
        exit 1
    fi
done

WORK=$(mktemp -d /tmp/zchat-bench-smoke.XXXXXX)
BROKER_PID=""
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/keys.sh"

# A free port with its two neighbours (the replica also binds PORT+1 and PORT+2).
PORT=$(python3 -c '
import socket, random
for _ in range(200):
    p = random.randrange(10000, 32000, 3)
    try:
        ss = [socket.socket() for _ in range(3)]
        for i, s in enumerate(ss): s.bind(("127.0.0.1", p + i))
        for s in ss: s.close()
        print(p); break
    except OSError:
        pass')

cd "$WORK"
"$BIN/zchat-broker" "$PORT" > broker.log 2>&1 &
BROKER_PID=$!

# The client library retries until the replica answers, so no wait for startup is needed;
# the bench's own request deadline bounds it.
run_bench() {   # run_bench NAME [extra args]: zchat-bench into NAME.json, checked
    local name=$1; shift
    set +e
    timeout 120 "$BIN/zchat-bench" --servers "127.0.0.1:$PORT" --messages 2000 --senders 2 \
        --receivers 2 --inflight 32 --size 100 --json "$@" > "$name.json" 2> "$name.err"
    local rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        echo "FAIL: zchat-bench $* exited $rc" >&2
        cat "$name.json" "$name.err" >&2
        tail -20 broker.log >&2
        exit 1
    fi
    python3 - "$name.json" "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
late = "--connect-late" in sys.argv[2:]
want = {"acked": 2000, "lost": 0, "duplicated": 0, "reordered": 0, "phantom": 0,
        "errors": 0, "delivered": 2000, "connect_late": late}
bad = {k: d.get(k) for k, v in want.items() if d.get(k) != v}
if bad:
    sys.exit("FAIL: summary %s, want %s" % (bad, want))
if d["ack_latency_us"]["count"] != 2000 or d["delivery_latency_us"]["count"] != 2000:
    sys.exit("FAIL: latency histograms do not hold 2000 samples each")
if late and d["delivery_latency_us"]["p50"] < d["ack_latency_us"]["p50"]:
    sys.exit("FAIL: connect-late deliveries came before their acks")
print("ok%s: acked=%d lost=0 duplicated=0 reordered=0, %.0f msgs/s, ack p50 %.2f ms"
      % (" (connect-late)" if late else "", d["acked"], d["acked_per_s"],
         d["ack_latency_us"]["p50"] / 1000))
EOF
}
run_bench live
run_bench late --connect-late
