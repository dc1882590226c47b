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
# sum_at_least NAME V: summed over the replicas (a counter of whoever led meanwhile:
# under load on this 2-core machine an election may move the leader mid-test)
sum_at_least() {
  local total=0 v i
  for i in 1 2 3; do v=$(metric "$i" "$1"); total=$(python3 -c "print(${total} + ${v:-0})"); done
  python3 -c "import sys; sys.exit(not $total >= $2)"
}
one_leader() {
  local leaders=0 i
  for i in 1 2 3; do [ "$(metric "$i" 'zchat_role{role="leader"}')" = 1 ] && leaders=$((leaders + 1)); done
  [ "$leaders" = 1 ]
}
leader_shows_lag() {   # the leader's page has a lag series for each follower
  local l f; l=$(leader_id) || return 1
  fetch "$l" >"$WORK/leader.txt" || return 1
  for f in 1 2 3; do
    [ "$f" = "$l" ] || grep -q "^zchat_peer_lag_entries{peer=\"$f\"}" "$WORK/leader.txt" || return 1
  done
}

printf 'create alice\ncreate bob\n' | zc >/dev/null || fail "create users"
for k in 1 2 3 4 5; do echo "send bob message $k" | zc >/dev/null || fail "send $k"; done

for i in 1 2 3; do
  fetch "$i" >"$WORK/metrics-$i.txt" || fail "GET /metrics on replica $i"
  promtool check metrics <"$WORK/metrics-$i.txt" || fail "promtool rejects replica $i's metrics"
done
! grep -l -e bob -e alice -e "$ZCHAT_PASSWORD" "$WORK"/metrics-*.txt || fail "metrics show a user name or secret"
pass "promtool check metrics accepts all three endpoints, naming no user and no secret"

wait_until 10 "exactly one replica says it leads" one_leader
for i in 1 2 3; do metric_is "$i" zchat_replica_id "$i" || fail "replica $i: id"; done
for i in 1 2 3; do
  wait_until 10 "replica $i applied the sends" metric_is "$i" zchat_queued_messages 5
  metric_is "$i" zchat_users 2 || fail "replica $i: users"
  metric_at_least "$i" zchat_applied_index 7 || fail "replica $i: applied index"
done
sum_at_least zchat_proposals_total 7 || fail "proposals"
sum_at_least zchat_commit_seconds_count 7 || fail "commit latency count"
for i in 1 2 3; do metric_at_least "$i" zchat_fsync_seconds_count 1 || fail "replica $i: fsync count"; done
wait_until 10 "the leader shows each follower's lag" leader_shows_lag
pass "one leader; users 2, queued 5 everywhere; proposals, commits and fsyncs counted"

echo "connect alice" | ZCHAT_PASSWORD=wrong-secret zc >/dev/null 2>&1 && fail "a wrong secret connected"
wait_until 5 "auth failure counted" sum_at_least zchat_auth_failures_total 1
wait_until 5 "AUTH_FAILED counted" sum_at_least 'zchat_requests_refused_total{code="AUTH_FAILED"}' 1
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
leader=$(leader_id)
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
wait_until 10 "the send during the crowd is counted" metric_is "$leader" zchat_queued_messages 6
pass "32 idle connections to /metrics: the send went through, the endpoint recovers"
