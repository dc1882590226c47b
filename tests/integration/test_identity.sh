#!/usr/bin/env bash
# Every data directory knows its cluster (the identity file: the cluster id new
# replicas derive from the cluster's server key, and a random incarnation), and status
# gossip carries both. Replica 3 of a running cluster is restarted on a data directory
# made by another cluster (same replica keys, another server key): its peers ignore
# it (foreign_peer), it sees every member say another cluster and holds its votes for
# good (stray_data, with the way back), and the cluster serves on, term unchanged.
# Then replica 3 gets an empty directory: its peers report the new incarnation under
# the old id (member_new_disk) and it catches up.
source "$(dirname "$0")/lib.sh"
start_cluster 3
echo "create before$$" | zc >/dev/null || fail "first write"

# another cluster: a copy of the keys with a new server key, a single replica 3
cp -r "$ZCHAT_KEYS" "$WORK/other-keys"
"$ZCHAT_BIN/zchat-keys" rotate "$WORK/other-keys" server >/dev/null || fail "zchat-keys rotate"
OTHER=$(pick_ports)
"$BROKER" --id 3 --peers "3=127.0.0.1:$OTHER" --keys "$WORK/other-keys" --data "$WORK/other-3" \
    >>"$WORK/broker-other.log" 2>&1 &
other_pid=$!; STARTED_PIDS+=("$other_pid")
other_serves() { echo status | ZCHAT_SERVER_KEY="$WORK/other-keys/server.cert" "$CLI" --servers "127.0.0.1:$OTHER" >/dev/null; }
wait_until 15 "the other cluster serves" other_serves
kill -KILL "$other_pid"; wait "$other_pid" 2>/dev/null || true
pass "another cluster made a data directory"

kill_replica 3
rm -rf "$WORK/data-3" && mv "$WORK/other-3" "$WORK/data-3"
SERVERS=${SERVERS%,*}   # replicas 1 and 2 answer for the cluster from now on
wait_until 10 "a leader among 1 and 2" leader_is_not 3
term=$(status_field "$(leader_id)" term)
start_replica 3
grep_logs() { grep -q "$2" "$WORK/broker-$1.log"; }
wait_until 10 "replica 3 finds it is the stray one" grep_logs 3 'event=stray_data'
wait_until 10 "replica 1 or 2 ignores replica 3" bash -c "grep -q 'event=foreign_peer level=error peer=3' '$WORK/broker-1.log' '$WORK/broker-2.log'"
for i in $(seq 1 20); do echo "create stray$$-$i" | zc >/dev/null || fail "write $i with the stray replica up"; done
[ "$(status_field "$(leader_id)" term)" = "$term" ] || fail "the stray replica changed the term"
pass "a data directory of another cluster: shut out by its peers, holds its votes, cluster serves on (term $term)"

kill_replica 3
rm -rf "$WORK/data-3"
start_replica 3
wait_until 15 "the peers report replica 3's new data directory" bash -c "grep -q 'event=member_new_disk level=warning peer=3' '$WORK/broker-1.log' '$WORK/broker-2.log'"
commit=$(leader_commit 5)
wait_until 20 "replica 3 catches up on its new directory" applied_at_least 3 "$commit"
pass "an empty directory under id 3: a new incarnation, reported by its peers; it catches up"
