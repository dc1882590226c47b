#!/usr/bin/env bash
# Minority and pause behaviour on three replicas: kill -STOP of the leader for several
# seconds (a new leader serves; after -CONT the old one steps down and nothing
# diverges), a lagging replica caught up by snapshot after the log was compacted past
# it, and a minority alone refusing writes with a clear error.
source "$(dirname "$0")/lib.sh"
start_cluster 3 --snapshot-entries 2000

# pause the leader
# paced to last 7.5 s: unpaced, the load ends in under a second, before any fault
bench_bg pause --senders 2 --receivers 2 --messages 15000 --rate 2000 --inflight 16 --size 200
wait_until 20 "load is flowing" bench_flowing
old=$(leader_id)
old_term=$(status_field "$old" term)
under_load "kill -STOP of leader $old"
kill_replica "$old" STOP
wait_until 15 "another replica leads" leader_is_not "$old"
under_load "another replica leads, $old paused"
kill_replica "$old" CONT
bench_check pause
wait_until 30 "everyone caught up after the pause" all_caught_up
[ "$(status_field "$old" role)" = follower ] || fail "old leader $old did not step down"
[ "$(status_field "$old" term)" -gt "$old_term" ] || fail "old leader kept its stale term"
pass "paused leader replaced, steps down after CONT, nothing diverges"

# catch-up by snapshot: replica misses more than the compaction interval
lag=$(( $(leader_id) % 3 + 1 ))
kill_replica "$lag" KILL
bench_bg behind --senders 2 --receivers 2 --messages 10000 --inflight 32 --size 100
bench_check behind
start_replica "$lag"
wait_until 60 "replica $lag catches up" all_caught_up
grep -q 'event=snapshot_installed' "$WORK/broker-$lag.log" || fail "replica $lag did not catch up by snapshot"
pass "replica behind the compacted log catches up by snapshot"

# a minority alone refuses writes
leader=$(leader_id)
for i in 1 2 3; do [ "$i" = "$leader" ] || { kill_replica "$i" KILL; break; }; done
for i in 1 2 3; do [ "$i" = "$leader" ] || kill_replica "$i" KILL; done
rc=0
out=$(echo "create lonely" | zc --json --timeout 3000) || rc=$?
echo "$out"
[ "$rc" != 0 ] || fail "a minority accepted a write"
echo "$out" | grep -qE '"code":"(UNAVAILABLE|TIMEOUT|NOT_LEADER)"' || fail "no clear error from a minority: $out"
pass "a minority refuses writes with a clear error"
