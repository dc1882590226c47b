#!/bin/sh
# zchat-healthcheck - exit 0 when the replica in this container answers `status`.
#
# Asks the replica itself (127.0.0.1 and its own client port) with the zchat CLI, so
# "healthy" means the broker is up and its request path works end to end. The port is
# ZCHAT_PORT if set, else the ZCHAT_ID-th entry of ZCHAT_PEERS (the broker's own
# rule), else 7001. Bounded by `timeout`, so a wedged replica reads as unhealthy
# rather than hanging the check. The CLI speaks CURVE like any client, so it needs the
# cluster's public key: server.cert in the replica's own keys directory (ZCHAT_KEYS,
# default ./zchat-keys, as the broker reads it), else $ZCHAT_SERVER_KEY. A replica run
# with ZCHAT_INSECURE=1 is asked in plain ZeroMQ (the CLI reads that variable too).
set -u

keys="${ZCHAT_KEYS:-zchat-keys}"
if [ -r "$keys/server.cert" ]; then
    ZCHAT_SERVER_KEY="$keys/server.cert"
    export ZCHAT_SERVER_KEY
fi

port="${ZCHAT_PORT:-}"
if [ -z "$port" ] && [ -n "${ZCHAT_PEERS:-}" ]; then
    entry=$(echo "$ZCHAT_PEERS" | tr ',' '\n' | sed -n "${ZCHAT_ID:-1}p")
    port="${entry##*:}"
fi
port="${port:-7001}"

out=$(echo status | timeout 4 zchat --servers "127.0.0.1:$port" --json 2>&1) || {
    echo "unhealthy: status on 127.0.0.1:$port failed: $out"
    exit 1
}
if echo "$out" | grep -Eq '"command" *: *"status"'; then
    echo "healthy: 127.0.0.1:$port"
    exit 0
fi
echo "unhealthy: unexpected status reply: $out"
exit 1
