#!/usr/bin/env bash
# Three replicas on loopback: the example session; kill -9 of the leader while one
# client sends numbered messages and others are connected (every acknowledged message
# arrives exactly once, in order; nothing unsent appears); the killed replica restarts
# and catches up; each replica killed and restarted in turn under load; then all
# replicas killed and restarted with every user and queued message intact.
source "$(dirname "$0")/lib.sh"
start_cluster 3

out=$(printf 'create user2\ncreate user3\nlist\nsend user3 hello\n' | zc --json)
echo "$out" | grep -q '"users":\["user2","user3"\]' || fail "list on 3 replicas: $out"
out=$(echo "connect user3" | zc --json --wait 1)
echo "$out" | grep -q '"text":"hello"' || fail "connect user3 on 3 replicas: $out"
pass "example session on 3 replicas"

# kill -9 of the leader under load
# paced to last 10 s: unpaced, the load ends in under a second, before any fault
bench_bg failover --senders 2 --receivers 2 --messages 20000 --rate 2000 --inflight 16 --size 200
wait_until 20 "load is flowing" bench_flowing
leader=$(leader_id)
under_load "kill -9 of leader $leader"
kill_replica "$leader" KILL
echo "killed leader $leader"
bench_check failover
pass "leader kill -9 under load: nothing lost, duplicated or reordered"

start_replica "$leader"
wait_until 30 "replica $leader catches up" all_caught_up
pass "killed replica restarts and catches up"

# each replica in turn, under load (paced to last 15 s, through all three rounds). While
# messages flow the replicas never all stand at one commit index, so a restarted replica
# has caught up once it applied what the leader had committed after its restart; all
# three must stand at the same index once the load is over.
bench_bg rolling --senders 2 --receivers 2 --messages 30000 --rate 2000 --inflight 16 --size 200
for i in 1 2 3; do
  wait_until 20 "load is flowing" bench_flowing
  under_load "kill -9 of replica $i"
  kill_replica "$i" KILL
  start_replica "$i"
  target=$(leader_commit 15)
  wait_until 30 "replica $i catches up to $target" applied_at_least "$i" "$target"
  under_load "replica $i caught up to $target"
done
bench_check rolling
wait_until 30 "all three caught up" all_caught_up
pass "each replica killed and restarted in turn under load"

# all replicas down at once, then back
printf 'create dora\nsend dora survives everything\n' | zc >/dev/null || fail "setup dora"
for i in 1 2 3; do kill_replica "$i" KILL; done
for i in 1 2 3; do start_replica "$i"; done
wait_until 15 "a leader is elected after full restart" has_leader
out=$(echo "connect dora" | zc --json --wait 1)
echo "$out" | grep -q '"text":"survives everything"' || fail "message lost in full restart: $out"
echo list | zc --json | grep -q '"users":\[[^]]*"dora"' || fail "user lost in full restart"
pass "all replicas killed and restarted: data intact"
