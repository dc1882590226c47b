#!/usr/bin/env bash
# The original example session on one replica (zchat-broker PORT): two clients;
# create user2 and user3, list, send user3 hello (queued until user3 connects), connect
# user3 receives it, then helloagain is pushed at once. Text with commas, spaces and
# non-ASCII UTF-8 arrives unchanged.
source "$(dirname "$0")/lib.sh"
port=$(pick_ports)
SERVERS=127.0.0.1:$port
start_single "$port"
wait_until 10 "broker answers status" serving

out=$(printf 'create user2\ncreate user3\nlist\nsend user3 hello\n' | zc --json)
echo "$out"
[ "$(echo "$out" | grep -c '"type":"reply"')" = 4 ] || fail "client 1: expected 4 replies"
echo "$out" | grep -q '"users":\["user2","user3"\]' || fail "list did not show user2 and user3"
[ -d "$WORK/zchat-data-$port" ] || fail "single-replica mode must keep data in ./zchat-data-PORT"
pass "create, list, send queued"

# client 2 connects as user3: the queued hello arrives, then helloagain at once
mkfifo "$WORK/c2.in"
zc --json --wait 2 <"$WORK/c2.in" >"$WORK/c2.out" 2>"$WORK/c2.err" &
client2=$!
STARTED_PIDS+=("$client2")
exec 7>"$WORK/c2.in"
echo "connect user3" >&7
wait_until 10 "user3 receives the queued hello" grep -q '"text":"hello"' "$WORK/c2.out"
pass "connect user3 receives the queued message"

text='hello again, with commas, spaces   and ünïcödé ✓ 你好'
printf 'send user3 %s\n' "$text" | zc --json | grep -q '"type":"reply"' || fail "send helloagain"
wait_until 10 "helloagain is pushed at once" grep -qF "\"text\":\"$text\"" "$WORK/c2.out"
pass "a message to a connected user is pushed at once, text unchanged"

[ "$(grep -c '"type":"message"' "$WORK/c2.out")" = 2 ] || fail "user3 saw a message twice"
exec 7>&-
wait "$client2" || fail "client 2 exited non-zero"
pass "example session"
