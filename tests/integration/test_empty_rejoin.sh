#!/usr/bin/env bash
# A replica whose data directory is gone (wiped, or never made durable before a power
# cut) restarts empty at term 0. It must not rejoin silently: it logs
# event=empty_data_but_cluster_has_history naming a peer's log, once. A brand-new
# cluster, where every replica starts empty, logs no such event. It catches up from
# the leader (which sends it everything again: its rejects name less than it once
# acked), and holds its votes (it may have voted in terms it no longer remembers)
# until it has heard every member's term; with a member down it follows and acks,
# so writes commit through it, but never votes.
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

# It may have voted in terms it no longer remembers: it holds its votes until it has
# heard every member's term, then votes from the term after the highest.
wait_until 15 "replica $victim holds its votes" grep -q "event=votes_held" "$WORK/broker-$victim.log"
wait_until 15 "replica $victim releases them after hearing everyone" \
  grep -q "event=votes_released" "$WORK/broker-$victim.log"
pass "the emptied replica held its votes until every member's term was known"

# Again, with the third replica down: the emptied one follows and acks (writes commit
# through it) but keeps holding, until the missing member is back.
other=$(( 6 - leader - victim ))
kill_replica "$other" KILL
kill_replica "$victim" KILL
rm -rf "$WORK/data-$victim"
: >"$WORK/broker-$victim.log"
start_replica "$victim"
wait_until 15 "replica $victim holds its votes" grep -q "event=votes_held" "$WORK/broker-$victim.log"
printf 'send bob four\nsend bob five\n' | zc >/dev/null || fail "writes with one replica down and one emptied"
victim_applied() { [ "$(own_field "$victim" applied)" -ge "$(status_field "$leader" commit)" ]; }
wait_until 15 "replica $victim catches up while holding" victim_applied
grep -q "event=votes_released" "$WORK/broker-$victim.log" && fail "released its votes without hearing replica $other"
start_replica "$other"
wait_until 15 "replica $victim releases its votes once replica $other is back" \
  grep -q "event=votes_released" "$WORK/broker-$victim.log"
pass "with a member down the emptied replica follows and acks but never votes; it votes once all are heard"
