#!/usr/bin/env bash
# The simulator runs the shipped replica code, so a bug in replica_process is a bug it
# can see. Plant one in a copy of the tree (send a ready's messages, votes included,
# before its hard state and entries are durable), build zchat-sim from that copy, and
# require the simulator to fail it; the same seeds pass on the real code (sim_seeds).
# The simulator before this one kept its own copy of the ready loop: no seed could
# fail on a bug planted in broker/replica.c.
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
