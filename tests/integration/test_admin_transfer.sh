#!/usr/bin/env bash
# Operator leadership transfer and advertised client addresses: `zchat admin transfer
# [ID]` moves leadership (asked at a follower, it follows NOT_LEADER to the leader),
# answers with the new leader's advertised address, and needs the admin secret of
# --admin-secret-file: none given is refused locally, a wrong one is AUTH_FAILED and
# then THROTTLED for a second, a replica without the flag refuses with FORBIDDEN.
# Replicas talk to each other on 127.0.0.1 but advertise 127.0.0.2 to clients, which
# are given only 127.0.0.2 addresses.
source "$(dirname "$0")/lib.sh"
BASE=$(pick_ports)
cluster_init 3 "$BASE"
ADV=""
for i in 1 2 3; do ADV+="${ADV:+,}127.0.0.2:$(( BASE + 3 * (i - 1) ))"; done
SERVERS=$ADV
export ZCHAT_SERVERS=$SERVERS
echo "admin-$$-secret" >"$WORK/admin.secret"
for i in 1 2 3; do
  start_replica "$i" --admin-secret-file "$WORK/admin.secret" --advertise "127.0.0.2:$(( BASE + 3 * (i - 1) ))"
done
wait_until 15 "a leader" has_leader
adv_of() { echo "127.0.0.2:$(( BASE + 3 * ($1 - 1) ))"; }
own_role() {   # replica I's role by its own report, asked at its advertised address
  echo status | "$CLI" --servers "$(adv_of "$1")" --timeout 1000 --json 2>/dev/null | python3 -c '
import json,sys
for r in json.loads(sys.stdin.readline())["replicas"]:
    if r["id"]==int(sys.argv[1]): print(r["role"])' "$1"
}
is_leader() { [ "$(own_role "$1")" = leader ]; }

out=$(zc admin transfer 2>&1) && fail "admin transfer without a secret succeeded: $out"
echo "$out" | grep -q 'BAD_SECRET: admin commands need' || fail "no secret: $out"
out=$(ZCHAT_ADMIN_SECRET=wrong zc admin transfer 2>&1) && fail "wrong admin secret accepted: $out"
echo "$out" | grep -q AUTH_FAILED || fail "wrong secret: $out"
out=$(zc --admin-secret-file "$WORK/admin.secret" admin transfer 2>&1) && fail "no throttle: $out"
echo "$out" | grep -q THROTTLED || fail "right secret right after a wrong one: $out"
pass "admin transfer needs the admin secret; a wrong one is refused and throttled"
# the throttle lifts after a second; a members list (same admin gate, no side effect)
# says when
admin_list_ok() { zc --admin-secret-file "$WORK/admin.secret" admin members >/dev/null 2>&1; }
wait_until 5 "the admin throttle lifts" admin_list_ok

leader=$(leader_id)
target=$(( leader % 3 + 1 )); other=$(( target % 3 + 1 ))
[ "$other" != "$leader" ] || other=$(( other % 3 + 1 ))
t0=$(now_ms)
out=$("$CLI" --servers "$(adv_of "$other")" --admin-secret-file "$WORK/admin.secret" admin transfer "$target") \
  || fail "admin transfer $target: $out"
took=$(( $(now_ms) - t0 ))
[ "$out" = "ok: replica $target is the leader at $(adv_of "$target")" ] || fail "transfer reply: $out"
[ "$took" -lt 2000 ] || fail "admin transfer took $took ms"
wait_until 5 "replica $target leads by its own report" is_leader "$target"
echo "create after$$" | zc >/dev/null || fail "no write after the transfer"
pass "admin transfer $target asked at follower $other: '$out' in $took ms, writes go on"

out=$(ZCHAT_ADMIN_SECRET="admin-$$-secret" zc --json admin transfer) || fail "admin transfer (any): $out"
new=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["text"].split()[1])')
[ "$new" != "$target" ] || fail "admin transfer with no id kept the leader: $out"
wait_until 5 "replica $new leads" is_leader "$new"
pass "admin transfer with no id moves leadership to the most up-to-date follower ($target -> $new)"

out=$(ZCHAT_ADMIN_SECRET="admin-$$-secret" zc admin transfer 9 2>&1) && fail "transfer to 9: $out"
echo "$out" | grep -q 'NO_SUCH_REPLICA' || fail "transfer to 9: $out"
pass "admin transfer to a replica that does not exist: NO_SUCH_REPLICA"

# a replica started without --admin-secret-file refuses admin commands
SOLO=$(( BASE + 9 ))
"$BROKER" "$SOLO" --data "$WORK/solo" >>"$WORK/broker-solo.log" 2>&1 &
STARTED_PIDS+=("$!")
solo() { ZCHAT_ADMIN_SECRET="admin-$$-secret" "$CLI" --servers "127.0.0.1:$SOLO" "$@"; }
wait_until 10 "the single replica answers" solo <<<"status"
out=$(solo admin transfer 2>&1) && fail "admin command on a replica without an admin secret: $out"
echo "$out" | grep -q 'FORBIDDEN: admin commands are off' || fail "no admin secret file: $out"
pass "a replica without --admin-secret-file refuses admin commands (FORBIDDEN)"
