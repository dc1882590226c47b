#!/usr/bin/env bash
# --metrics serves Prometheus text on each replica: promtool accepts it, the numbers
# say what the cluster did (one leader, commits, users, queued messages, fsyncs, auth
# failures), and the endpoint is bounded: other paths and methods are refused, an
# oversized request is cut off, a crowd of idle connections does not stop the chat.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (scripts/deps.sh installs it)"
cluster_init 3 "$(pick_ports)"
MBASE=$(pick_ports)
for i in 1 2 3; do start_replica "$i" --metrics "127.0.0.1:$(( MBASE + i - 1 ))"; done
wait_until 15 "a leader is elected" has_leader

fetch() {   # fetch I [PATH]: the body of replica I's endpoint
  python3 - "http://127.0.0.1:$(( MBASE + $1 - 1 ))${2:-/metrics}" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")
PY
}
metric() {  # metric I NAME{LABELS}: its value on replica I
  fetch "$1" | awk -v m="$2" '$1 == m { print $2 }'
}
metric_is() { [ "$(metric "$1" "$2")" = "$3" ]; }
metric_at_least() { local v; v=$(metric "$1" "$2"); [ -n "$v" ] && python3 -c "import sys; sys.exit(not float('$v') >= $3)"; }

printf 'create alice\ncreate bob\n' | zc >/dev/null || fail "create users"
for k in 1 2 3 4 5; do echo "send bob message $k" | zc >/dev/null || fail "send $k"; done
leader=$(leader_id)

for i in 1 2 3; do
  fetch "$i" >"$WORK/metrics-$i.txt" || fail "GET /metrics on replica $i"
  promtool check metrics <"$WORK/metrics-$i.txt" || fail "promtool rejects replica $i's metrics"
done
pass "promtool check metrics accepts all three endpoints"

leaders=0
for i in 1 2 3; do
  [ "$(metric "$i" 'zchat_role{role="leader"}')" = 1 ] && leaders=$((leaders + 1))
done
[ "$leaders" = 1 ] || fail "$leaders replicas say they lead"
metric_is "$leader" zchat_replica_id "$leader" || fail "replica id"
for i in 1 2 3; do
  wait_until 10 "replica $i applied the sends" metric_is "$i" zchat_queued_messages 5
  metric_is "$i" zchat_users 2 || fail "replica $i: users"
  metric_at_least "$i" zchat_applied_index 7 || fail "replica $i: applied index"
done
metric_at_least "$leader" zchat_proposals_total 7 || fail "leader proposals"
metric_at_least "$leader" zchat_commit_seconds_count 7 || fail "leader commit latency count"
metric_at_least "$leader" zchat_fsync_seconds_count 1 || fail "leader fsync count"
follower=$(( leader % 3 + 1 ))
metric_at_least "$follower" zchat_fsync_seconds_count 1 || fail "follower fsync count"
grep -q "^zchat_peer_lag_entries{peer=\"$follower\"}" "$WORK/metrics-$leader.txt" \
  || fail "leader shows no lag for peer $follower"
pass "one leader; users 2, queued 5 everywhere; proposals, commits and fsyncs counted"

echo "connect alice" | ZCHAT_PASSWORD=wrong-secret zc >/dev/null 2>&1 && fail "a wrong secret connected"
wait_until 5 "auth failure counted" metric_at_least "$leader" zchat_auth_failures_total 1
wait_until 5 "AUTH_FAILED counted" metric_at_least "$leader" 'zchat_requests_refused_total{code="AUTH_FAILED"}' 1
pass "a wrong secret shows in zchat_auth_failures_total and the refusals by code"

python3 - "$MBASE" <<'PY' || fail "the endpoint's bounds"
import socket, sys, urllib.request, urllib.error
port = int(sys.argv[1])
base = "http://127.0.0.1:%d" % port
def status(url, data=None):
    try:
        return urllib.request.urlopen(url, data=data, timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
assert status(base + "/other") == 404, "other path"
assert status(base + "/metrics", data=b"x=1") == 405, "POST"
s = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
except OSError:
    pass                                   # cut off while sending: also refused
reply = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
except OSError:
    pass
assert b" 200 " not in reply.split(b"\r\n", 1)[0], "a 100 KB request was served"
s.close()
assert status(base + "/metrics") == 200, "serves again after the oversized request"
PY
pass "404 for other paths, 405 for POST, a 100 KB request refused, then serving again"

# a crowd of idle connections to the endpoint: the chat goes on meanwhile
python3 - "$(( MBASE + leader - 1 ))" "$CLI" "$SERVERS" <<'PY' || fail "idle connections"
import socket, subprocess, sys
port, cli, servers = int(sys.argv[1]), sys.argv[2], sys.argv[3]
idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
r = subprocess.run([cli, "--servers", servers], input=b"send bob while crowded\n", timeout=20)
assert r.returncode == 0, "send failed while the endpoint was crowded"
for s in idle:
    s.close()
PY
wait_until 10 "endpoint serves after the crowd left" fetch "$leader"
metric_is "$leader" zchat_queued_messages 6 || fail "the send during the crowd is not counted"
pass "32 idle connections to /metrics: the send went through, the endpoint recovers"
