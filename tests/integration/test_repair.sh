#!/usr/bin/env bash
# A flipped bit in a record that a later sync mark proves durable is corruption: the
# broker refuses to start, on every restart, and points at --repair. With --repair it
# cuts the log at the damage, logs event=log_repaired with what it cut, and serves; a
# plain restart afterwards is clean. (One replica here, so what was cut is gone; in a
# cluster the leader sends it again.)
source "$(dirname "$0")/lib.sh"
port=$(pick_ports)
SERVERS=127.0.0.1:$port
data=$WORK/data

start_single "$port" --data "$data"
wait_until 10 "broker answers status" serving
for cmd in 'create alice' 'create bob' 'send bob one' 'send bob two'; do
  echo "$cmd" | zc >/dev/null || fail "$cmd"
done
kill_replica 1 TERM

# flip a bit in the body of entry 3 (create bob), which has sync marks after it
python3 - "$data/log-00000000000000000001.seg" <<'PY' || fail "could not damage entry 3"
import struct, sys
path = sys.argv[1]
image = bytearray(open(path, "rb").read())
off, entries, marks_after, target = 0, 0, 0, None
while off + 8 <= len(image):
    n = struct.unpack_from("<I", image, off)[0]
    if n == 0:
        break
    kind = image[off + 8]
    if kind == 0x93:
        entries += 1
        if entries == 3:
            target = off
    elif kind == 0x91 and target is not None:
        marks_after += 1
    off += 8 + n
if target is None or marks_after == 0:
    sys.exit(f"entry 3 at {target}, {marks_after} sync marks after it")
image[target + 12] ^= 0x04
open(path, "wb").write(image)
print(f"flipped a bit in entry 3 at byte offset {target}; {marks_after} sync mark(s) after it")
PY

for attempt in 1 2; do
  start_single "$port" --data "$data"
  rc=0; wait "${BROKER_PID[1]}" || rc=$?
  [ "$rc" != 0 ] || fail "broker started on a corrupt log (attempt $attempt)"
done
[ "$(grep -c 'event=data_unusable.*CRC mismatch.*refusing to start.*hint="zchat-broker --repair' "$WORK/broker-1.log")" = 2 ] ||
  fail "expected two refusals that name the damage and offer --repair"
pass "a damaged durable record stops the broker on every start, with a hint"

start_single "$port" --data "$data" --repair
wait_until 10 "repaired broker answers status" serving
line=$(grep 'event=log_repaired' "$WORK/broker-1.log") || fail "no log_repaired event"
echo "$line"
[[ $line == *'log-00000000000000000001.seg: corrupt record at byte offset'* ]] || fail "repair does not name file and offset"
[[ $line == *'the log now ends at index 2'* ]] || fail "repair does not say where the log ends"
users=$(echo list | zc --json)
echo "$users" | grep -q '"users":\["alice"\]' || fail "after the repair expected only alice: $users"
kill_replica 1 TERM
pass "--repair cuts at the damage, says what it cut, and serves"

start_single "$port" --data "$data"
wait_until 10 "broker answers status after the repair" serving
echo "create carol" | zc >/dev/null || fail "create carol after the repair"
[ "$(grep -c 'event=data_unusable' "$WORK/broker-1.log")" = 2 ] || fail "refused again after the repair"
pass "a plain restart after the repair is clean"
