#!/usr/bin/env bash
# `zchat admin backup FILE` under load, then `zchat-broker --restore FILE` into a fresh
# 3-replica cluster: every user and queued message of the backup's log index is there
# and nothing else (a user created after the backup is absent; of the messages sent
# meanwhile, exactly a prefix in order). The backup needs the admin secret; a corrupt
# backup and a data directory that already holds data are refused; a restored replica
# restarted with --restore still given starts normally.
source "$(dirname "$0")/lib.sh"
echo "admin-$$-secret" >"$WORK/admin.secret"
start_cluster 3 --admin-secret-file "$WORK/admin.secret"
OLD_SERVERS=$SERVERS
admin() { zc --admin-secret-file "$WORK/admin.secret" "$@"; }

printf 'create alice\ncreate bob\ncreate carol\ncreate load\n' | zc >/dev/null || fail "create users"
for k in $(seq 1 30); do echo "send bob to bob $k"; done | zc >/dev/null || fail "sends to bob"
for k in $(seq 1 12); do echo "send carol to carol $k"; done | zc >/dev/null || fail "sends to carol"

out=$(zc admin backup "$WORK/none.snap" 2>&1) && fail "a backup without the admin secret succeeded: $out"
echo wrong >"$WORK/wrong.secret"
out=$(zc --admin-secret-file "$WORK/wrong.secret" admin backup "$WORK/none.snap" 2>&1) \
  && fail "a backup with a wrong admin secret succeeded"
echo "$out" | grep -q AUTH_FAILED || fail "a wrong admin secret was not AUTH_FAILED: $out"
[ ! -e "$WORK/none.snap" ] || fail "a refused backup left a file"
pass "backup refused without the admin secret, and with a wrong one"

# load: 300 messages to 'load', one CLI call each (bounded), while the backup runs
( for k in $(seq 1 300); do echo "send load load $k" | zc >>"$WORK/load.out" 2>&1 || exit 1; done ) &
LOAD=$!
STARTED_PIDS+=("$LOAD")
load_sent() { [ "$(grep -c "ok: sent" "$WORK/load.out" 2>/dev/null)" -ge "$1" ]; }
wait_until 20 "the load is flowing" load_sent 20
# a wrong secret refuses admin commands for a second: retry until accepted
wait_until 10 "admin backup" sh -c "\"$CLI\" --servers $SERVERS --admin-secret-file $WORK/admin.secret --json admin backup $WORK/backup.snap >$WORK/backup.json"
cat "$WORK/backup.json"
wait "$LOAD" || fail "the load's sends failed"
echo "create dave" | zc >/dev/null || fail "create dave after the backup"
[ "$(stat -c %a "$WORK/backup.snap")" = 600 ] || fail "the backup (every message, every hash) is not mode 600"
index=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["index"])' "$WORK/backup.json")
[ "$index" -gt 40 ] || fail "backup index $index is too small"
pass "backup under load at log index $index"

# a corrupt copy is refused
cp "$WORK/backup.snap" "$WORK/corrupt.snap"
python3 - "$WORK/corrupt.snap" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x40
open(p, "wb").write(b)
PY
"$BROKER" --id 1 --peers 127.0.0.1:1,127.0.0.1:4,127.0.0.1:7 --data "$WORK/corrupt-data" \
    --restore "$WORK/corrupt.snap" >"$WORK/corrupt.log" 2>&1 && fail "a corrupt backup was restored"
grep -q 'restore_failed.*CRC' "$WORK/corrupt.log" || { cat "$WORK/corrupt.log"; fail "no CRC reason given"; }
pass "a corrupt backup is refused with its reason"

# stop the old cluster, restore into fresh data directories
for i in 1 2 3; do kill_replica "$i" TERM; done
mkdir -p "$WORK/old" && mv "$WORK"/data-* "$WORK/old/"
cluster_init 3 "$(pick_ports)"
for i in 1 2 3; do start_replica "$i" --restore "$WORK/backup.snap"; done
wait_until 15 "the restored cluster elects a leader" has_leader
users=$(echo list | zc --json)
echo "$users" | grep -q '"users":\["alice","bob","carol","load"\]' || fail "restored users: $users"
pass "restored users: alice, bob, carol, load (dave, created after the backup, absent)"

got() {   # got USER: the texts USER receives, one per line
  echo "connect $1" | zc --json --wait 2 | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("type") == "message": print(m["text"])'
}
[ "$(got bob | tr '\n' ,)" = "$(for k in $(seq 1 30); do printf 'to bob %s,' "$k"; done)" ] || fail "bob's queue"
[ "$(got carol | tr '\n' ,)" = "$(for k in $(seq 1 12); do printf 'to carol %s,' "$k"; done)" ] || fail "carol's queue"
got load >"$WORK/load.got"
n=$(wc -l <"$WORK/load.got")
[ "$n" -ge 20 ] && [ "$n" -lt 300 ] || fail "load got $n messages, expected a strict prefix of 300"
[ "$(cat "$WORK/load.got")" = "$(for k in $(seq 1 "$n"); do echo "load $k"; done)" ] \
  || fail "load's messages are not exactly load 1..$n in order"
pass "queues restored exactly: bob 30, carol 12, load the first $n of 300 in order"

# writes go on after the restore, and a restart with --restore still given is normal
echo "send alice after restore" | zc >/dev/null || fail "send after restore"
kill_replica 1 TERM
start_replica 1 --restore "$WORK/backup.snap"
wait_until 15 "restarted replica 1 catches up" all_caught_up
grep -q restore_already_done "$WORK/broker-1.log" || fail "restart did not see its restore marker"
pass "the restored cluster takes writes; a restart with --restore still given starts normally"

# a data directory holding data is never overwritten
kill_replica 2 TERM
"$BROKER" --id 2 --peers "$PEERS" --data "$WORK/old/data-2" --restore "$WORK/backup.snap" \
    >"$WORK/nonempty.log" 2>&1 && fail "--restore over a data directory with data succeeded"
grep -q 'already holds data' "$WORK/nonempty.log" || { cat "$WORK/nonempty.log"; fail "no reason given"; }
pass "--restore refuses a data directory that already holds data"
