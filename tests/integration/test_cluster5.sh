#!/usr/bin/env bash
# Five replicas tolerate two faults: kill -9 of the leader and one follower under load
# loses nothing; the two restart and catch up.
source "$(dirname "$0")/lib.sh"
start_cluster 5
# paced to last 7.5 s: unpaced, the load ends in under a second, before any fault
bench_bg five --senders 2 --receivers 2 --messages 15000 --rate 2000 --inflight 16 --size 200
wait_until 20 "load is flowing" bench_flowing
leader=$(leader_id)
other=$(( leader % 5 + 1 ))
under_load "kill -9 of leader $leader and follower $other"
kill_replica "$leader" KILL
kill_replica "$other" KILL
echo "killed $leader and $other"
bench_check five
pass "5 replicas survive 2 killed"
start_replica "$leader"
start_replica "$other"
wait_until 30 "all five caught up" all_caught_up
pass "both restart and catch up"
