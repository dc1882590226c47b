#!/usr/bin/env bash
# kill -9 of a single replica and restart from its data directory: users and queued
# messages survive; a message the client acknowledged is not delivered again, one it
# never received is. Then ten kill -9 / restart cycles in a row lose nothing.
source "$(dirname "$0")/lib.sh"
port=$(pick_ports)
SERVERS=127.0.0.1:$port
restart() { start_single "$port"; wait_until 10 "broker answers status" serving; }
queued() { echo status | zc --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["queued"])'; }

restart
printf 'create alice\ncreate bob\nsend bob first\n' | zc >/dev/null || fail "setup"
out=$(echo "connect bob" | zc --json --wait 1)
echo "$out" | grep -q '"text":"first"' || fail "bob did not receive first"
wait_until 10 "bob's ack is committed (queue empty)" test "$(queued)" = 0
echo "send bob second, still queued" | zc >/dev/null || fail "send second"
[ "$(queued)" = 1 ] || fail "expected one queued message"

kill_replica 1 KILL
restart
users=$(echo list | zc --json)
echo "$users" | grep -q '"users":\["alice","bob"\]' || fail "users lost in restart: $users"
out=$(echo "connect bob" | zc --json --wait 1)
echo "$out"
echo "$out" | grep -q '"text":"second, still queued"' || fail "queued message lost in restart"
echo "$out" | grep -q '"text":"first"' && fail "acknowledged message delivered again"
pass "restart keeps users and queued messages; acked ones stay acked"

for i in $(seq 1 10); do
  echo "send alice round $i" | zc >/dev/null || fail "send round $i"
  kill_replica 1 KILL
  restart
done
out=$(echo "connect alice" | zc --json --wait 1)
[ "$(echo "$out" | grep -c '"type":"message"')" = 10 ] || fail "expected 10 messages after 10 restarts: $out"
for i in $(seq 1 10); do
  echo "$out" | grep -q "\"text\":\"round $i\"" || fail "round $i lost"
done
pass "ten kill -9 restarts in a row lose nothing"
