#!/usr/bin/env bash
# Membership changes on a live cluster, under load (Raft thesis 4.1, one server at a
# time, a new member first a learner): `zchat admin add` brings in replica 4 started
# with --join (it catches up, then votes); `zchat admin replace 3 5 ...` swaps replica
# 3 for a new replica 5 without ever being a voter short; `zchat admin remove` of the
# leader hands leadership over. Throughout, zchat-bench sends with live receivers:
# no failed request, nothing lost, duplicated or reordered. Then: the members survive
# a restart of every replica (the configuration is in their logs and snapshots), the
# removed replica 3 cannot disturb the cluster, and bad changes are refused with the
# documented errors, changing nothing.
source "$(dirname "$0")/lib.sh"
BASE=$(pick_ports 15)   # replicas 1-5 use 3 ports each
cluster_init 3 "$BASE"
port_of() { echo $(( BASE + 3 * ($1 - 1) )); }
addr_of() { echo "127.0.0.1:$(port_of "$1")"; }
ALL_PEERS=""
for i in 1 2 3 4 5; do ALL_PEERS+="${ALL_PEERS:+,}$i=$(addr_of "$i")"; done
echo "admin-$$-secret" >"$WORK/admin.secret"
export ZCHAT_ADMIN_SECRET="admin-$$-secret"
FLAGS=(--admin-secret-file "$WORK/admin.secret" --snapshot-entries 2000)
for i in 1 2 3; do start_replica "$i" "${FLAGS[@]}"; done
wait_until 15 "a leader" has_leader

# start_new I: replica I joins with no configuration of its own (--join)
start_new() {
  local i=$1
  "$BROKER" --id "$i" --peers "$ALL_PEERS" --join --data "$WORK/data-$i" \
      --election-timeout 300 --heartbeat 30 "${FLAGS[@]}" >>"$WORK/broker-$i.log" 2>&1 &
  BROKER_PID[$i]=$!
  STARTED_PIDS+=("$!")
}
members() { echo "admin members" | zc 2>/dev/null; }
# is_member I ROLE: the leader's members list shows replica I as ROLE
is_member() { members | grep -qE "^ *$1 $2 "; }
not_member() { members >"$WORK/members.out" && ! grep -qE "^ *$1 (voter|learner)" "$WORK/members.out"; }

bench_bg members --senders 2 --receivers 2 --messages 12000 --rate 600 --inflight 16
wait_until 20 "the bench is flowing" bench_flowing

start_new 4
under_load "admin add 4"
out=$(echo "admin add 4 $(addr_of 4)" | zc) || fail "admin add 4: $out"
echo "$out" | grep -qE "^ *4 learner\(promoting\) " || fail "admin add 4 reply: $out"
wait_until 30 "replica 4 votes" is_member 4 voter
pass "admin add 4 under load: a learner, then a voter once caught up"

start_new 5
under_load "admin replace 3 5"
out=$(echo "admin replace 3 5 $(addr_of 5)" | zc 2>"$WORK/replace.err") \
  || fail "admin replace: $out $(cat "$WORK/replace.err")"
[ "$out" = "ok: admin replace: replica 3 replaced by 5 at $(addr_of 5)" ] || fail "replace: $out"
is_member 5 voter || fail "replica 5 is not a voter after replace: $(members)"
not_member 3 || fail "replica 3 still a member: $(cat "$WORK/members.out")"
pass "admin replace 3 5 under load: 5 votes, 3 is out ($(grep -c replace: "$WORK/replace.err") progress lines)"

leader=$(leader_id)
under_load "admin remove $leader (the leader)"
out=$(echo "admin remove $leader" | zc) || fail "admin remove $leader: $out"
wait_until 10 "a new leader" leader_is_not "$leader"
not_member "$leader" || fail "replica $leader still a member: $(cat "$WORK/members.out")"
pass "admin remove $leader (the leader): it handed over, $(leader_id) leads"
bench_check members
pass "the bench across three changes: 0 failed, 0 lost, 0 duplicated, 0 reordered"

# What is left: three voters, none of them 3 or the removed leader.
kill_replica 3
kill_replica "$leader"
mapfile -t LEFT < <(members | grep -oE '^ *[0-9]+ voter' | grep -oE '[0-9]+')
[ "${#LEFT[@]}" = 3 ] || fail "expected 3 voters, got: $(members)"
echo "create kept$$" | zc >/dev/null || fail "no write after the removed replicas stopped"
for i in "${LEFT[@]}"; do kill_replica "$i"; done
for i in "${LEFT[@]}"; do
  if [ "$i" -le 3 ]; then start_replica "$i" "${FLAGS[@]}"; else
    "$BROKER" --id "$i" --peers "$ALL_PEERS" --data "$WORK/data-$i" --election-timeout 300 \
        --heartbeat 30 "${FLAGS[@]}" >>"$WORK/broker-$i.log" 2>&1 &
    BROKER_PID[$i]=$!; STARTED_PIDS+=("$!")
  fi
done
SERVERS=$(for i in "${LEFT[@]}"; do printf '%s,' "$(addr_of "$i")"; done); SERVERS=${SERVERS%,}
wait_until 20 "the three left elect a leader after a full restart" has_leader
echo "list kept$$" | zc | grep -q "kept$$" || fail "user created before the restart is gone"
[ "$(members | grep -cE '^ *[0-9]+ voter')" = 3 ] || fail "members after restart: $(members)"
pass "every replica restarted: the configuration came back from their disks (${LEFT[*]})"

# Replica 3 restarted on its old disk still thinks it is a voter of the old cluster:
# it must neither disturb the leader nor be counted.
term_before=$(status_field "$(leader_id)" term)
start_replica 3 "${FLAGS[@]}"
for _ in $(seq 1 40); do echo "create probe$$-$RANDOM" | zc >/dev/null || fail "a write failed while removed replica 3 ran"; done
term_after=$(status_field "$(leader_id)" term)
[ "$term_after" = "$term_before" ] || fail "removed replica 3 changed the term: $term_before -> $term_after"
kill_replica 3
pass "a removed replica restarted on its old disk disturbs nothing (term stays $term_after)"

out=$(echo "admin add ${LEFT[0]} $(addr_of 3)" | zc 2>&1) && fail "adding a member again: $out"
echo "$out" | grep -q BAD_MEMBERS || fail "add existing: $out"
out=$(echo "admin remove 9" | zc 2>&1) && fail "removing a non-member: $out"
echo "$out" | grep -q NO_SUCH_REPLICA || fail "remove 9: $out"
out=$(echo "admin add 6 nowhere" | zc 2>&1) && fail "adding a bad address: $out"
echo "$out" | grep -q BAD_MEMBERS || fail "add bad address: $out"
out=$(echo "admin add 64 $(addr_of 3)" | zc 2>&1) && fail "adding id 64: $out"
echo "$out" | grep -q BAD_MEMBERS || fail "add 64: $out"
out=$(echo "admin add 6 $(addr_of 3)" | ZCHAT_ADMIN_SECRET=wrong zc 2>&1) && fail "wrong secret: $out"
echo "$out" | grep -q AUTH_FAILED || fail "wrong secret: $out"
three_members() { [ "$(members | grep -cE '^ *[0-9]+ (voter|learner)')" = 3 ]; }
wait_until 5 "the members list (admin commands refused for a second after a wrong secret)" three_members
pass "bad changes refused (BAD_MEMBERS, NO_SUCH_REPLICA, AUTH_FAILED), members unchanged"
