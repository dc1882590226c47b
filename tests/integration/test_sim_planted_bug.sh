#!/usr/bin/env bash
# The simulator runs the shipped replica code, so a bug in replica_process is a bug it
# can see. Plant one in a copy of the tree (send a ready's messages, votes included,
# before its hard state and entries are durable), build zchat-sim from that copy, and
# require the simulator to fail it; the same seeds pass on the real code (sim_seeds).
# The simulator before this one kept its own copy of the ready loop: no seed could
# fail on a bug planted in broker/replica.c. Then two membership bugs in the core, for
# the membership runs (zchat-sim --members) to fail.
source "$(dirname "$0")/lib.sh"
copy=$WORK/tree
mkdir -p "$copy"
for part in CMakeLists.txt broker client replication schema tests; do
  cp -r "$ZCHAT_SRC/$part" "$copy/"
done
python3 - "$copy/broker/replica.c" <<'PY' || fail "the block to plant the bug in is gone from replica.c"
import re, sys
path = sys.argv[1]
src = open(path).read()
# the ready's order: early APPENDs, persist, then the other messages
right = re.compile(r"( +)if \(early\)\n +s_send_msgs \(self, &rd, now_ms, SEND_APPENDS\);\n"
                   r" +if \((s_persist \([^;]*\))\)\n +return -1;\n"
                   r" +s_send_msgs \(self, &rd, now_ms, early \? SEND_OTHERS : SEND_ALL\);")
found = right.findall(src)
if len(found) != 1:
    sys.exit(1)
indent, persist = found[0]
planted = (f"{indent}(void) early;\n{indent}s_send_msgs (self, &rd, now_ms, SEND_ALL);\n"
           f"{indent}if ({persist})\n{indent}    return -1;")
open(path, "w").write(right.sub(lambda m: planted, src))
PY
pass "planted: messages sent before the ready is durable"
cmake -S "$copy" -B "$copy/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 \
  || { tail -20 "$WORK/cmake.log"; fail "configure the planted copy"; }
cmake --build "$copy/build" --target zchat-sim -j2 >"$WORK/build.log" 2>&1 \
  || { tail -20 "$WORK/build.log"; fail "build zchat-sim from the planted copy"; }
rc=0
"$copy/build/tests/zchat-sim" --seeds 500 >"$WORK/sim.log" 2>&1 || rc=$?
tail -3 "$WORK/sim.log"
[ "$rc" -eq 1 ] || fail "zchat-sim exited $rc on the planted bug, expected 1 (a violation)"
grep -q 'FAILED at step' "$WORK/sim.log" || fail "no failing seed reported"
grep -q 'replay with: zchat-sim --seed' "$WORK/sim.log" || fail "no replay command printed"
pass "the simulator fails the planted bug: $(grep -c 'FAILED at step' "$WORK/sim.log") of 500 seeds"

# Two membership bugs, each planted in a fresh copy of the core, each to be failed by
# the simulator's membership runs (--members): a learner counted towards a commit,
# and a change proposed before the previous one is committed (two in flight: two
# configurations without a common majority).
plant_members_bug() {   # NAME FILE PYTHON-REPLACEMENT-OLD PYTHON-REPLACEMENT-NEW
  local name=$1 file=$2 tree=$WORK/tree-$1
  rm -rf "$tree" && mkdir -p "$tree"
  for part in CMakeLists.txt broker client replication schema tests; do cp -r "$ZCHAT_SRC/$part" "$tree/"; done
  python3 - "$tree/$file" "$3" "$4" <<'PY' || fail "the code to plant '$name' in is gone from $file"
import sys
path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
src = open(path).read()
if src.count(old) != 1:
    sys.exit(1)
open(path, "w").write(src.replace(old, new))
PY
  cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake-$name.log" 2>&1 \
    || fail "configure the copy with '$name'"
  cmake --build "$tree/build" --target zchat-sim -j2 >"$WORK/build-$name.log" 2>&1 \
    || { tail -20 "$WORK/build-$name.log"; fail "build zchat-sim with '$name'"; }
  rc=0
  "$tree/build/tests/zchat-sim" --members --seeds 1000 >"$WORK/sim-$name.log" 2>&1 || rc=$?
  tail -2 "$WORK/sim-$name.log"
  [ "$rc" -eq 1 ] || fail "zchat-sim --members exited $rc with '$name', expected 1"
  grep -q 'replay with: zchat-sim --seed [0-9]* --nodes 3 --members' "$WORK/sim-$name.log" \
    || fail "no replay command for '$name'"
  pass "the simulator fails '$name': $(grep -c 'FAILED at step' "$WORK/sim-$name.log") of 1000 membership seeds"
}
plant_members_bug "a learner counts towards a commit" replication/raft_replication.c \
  "        if (self->conf.members [i].voter)
            matches [n++] = id == self->cfg.id ? self->stable : self->peers [id].match;" \
  "        matches [n++] = id == self->cfg.id ? self->stable : self->peers [id].match;"
plant_members_bug "two changes in flight" replication/raft_members.c \
  "return self->conf_index <= self->commit && self->commit >= self->term_start_index" \
  "return self->commit >= self->term_start_index"
