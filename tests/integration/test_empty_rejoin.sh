#!/usr/bin/env bash
# A replica whose data directory is gone (wiped, or never made durable before a power
# cut) restarts empty at term 0. It must not rejoin silently: it logs
# event=empty_data_but_cluster_has_history naming a peer's log, once. A brand-new
# cluster, where every replica starts empty, logs no such event. (Catching up after
# such a restart is the rejoin path, tested where it is fixed.)
source "$(dirname "$0")/lib.sh"
EVENT=event=empty_data_but_cluster_has_history
start_cluster 3
printf 'create alice\ncreate bob\nsend bob one\nsend bob two\n' | zc >/dev/null || fail "setup"
wait_until 15 "all replicas apply the setup" all_caught_up
if grep -h "$EVENT" "$WORK"/broker-*.log; then fail "a brand-new cluster warned of lost history"; fi
pass "a new cluster starts quietly"

leader=$(leader_id)
victim=$(( leader % 3 + 1 ))
kill_replica "$victim" KILL
rm -rf "$WORK/data-$victim"
start_replica "$victim"
wait_until 15 "replica $victim warns that it started empty" grep -q "$EVENT" "$WORK/broker-$victim.log"
line=$(grep "$EVENT" "$WORK/broker-$victim.log")
echo "$line"
[[ $line =~ peer_log_index=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] ||
  fail "the warning names no peer log: $line"
printf 'send bob three\n' | zc >/dev/null || fail "send after the restart"
leader_committed() { [ "$(status_field "$leader" commit)" -ge "$1" ]; }
wait_until 10 "the leader commits past the restart" leader_committed 6
[ "$(grep -c "$EVENT" "$WORK/broker-$victim.log")" = 1 ] || fail "warned more than once"
pass "a replica restarted with an empty directory says so, once"
