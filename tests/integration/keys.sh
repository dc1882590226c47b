# keys.sh - CURVE keys for a test cluster and a secret for its users, as a real
# deployment has them. Source it once WORK is set; it exports what the broker
# (ZCHAT_KEYS), the clients (ZCHAT_SERVER_KEY) and the CLI (ZCHAT_PASSWORD) read.
"${ZCHAT_BIN:-${BIN:?}}/zchat-keys" init "$WORK/zchat-keys" --replicas 7 >/dev/null \
  || { echo "FAIL: zchat-keys init $WORK/zchat-keys" >&2; exit 1; }
export ZCHAT_KEYS=$WORK/zchat-keys
export ZCHAT_SERVER_KEY=$WORK/zchat-keys/server.cert
export ZCHAT_PASSWORD=${ZCHAT_PASSWORD:-it-secret}
