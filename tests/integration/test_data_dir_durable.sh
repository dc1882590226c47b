#!/usr/bin/env bash
# The broker creates --data DIR and its missing parents durably: under strace, every
# mkdir that creates one of them is followed by an fsync of its parent directory, and
# all of those come before the first fdatasync of a log segment (so before any entry
# can be acknowledged). Without the fsyncs, one power cut can lose the whole directory.
source "$(dirname "$0")/lib.sh"
if ! strace -o /dev/null true 2>/dev/null; then
  echo "SKIPPED: strace is missing or cannot trace here; test_data_dir_durable.sh did not run"
  exit 0
fi
port=$(pick_ports)
SERVERS=127.0.0.1:$port
data=$WORK/deep/er/data
# LeakSanitizer cannot run under ptrace: leaks are checked by every other test
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -f -y -qq -e trace=mkdir,mkdirat,fsync,fdatasync -o "$WORK/trace.log" \
  "$BROKER" --data "$data" "$port" >>"$WORK/broker-1.log" 2>&1 &
STRACE_PID=$!
STARTED_PIDS+=("$STRACE_PID")
wait_until 20 "broker answers status" bash -c "echo status | '$CLI' --servers $SERVERS >/dev/null"
printf 'create alice\n' | zc >/dev/null || fail "create alice"
broker_pid=$(pgrep -P "$STRACE_PID" -x zchat-broker) || fail "no broker under strace"
kill -TERM "$broker_pid"
wait "$STRACE_PID" || fail "broker did not exit cleanly"

python3 - "$WORK/trace.log" "$WORK" <<'PY' || fail "directory fsync order (trace kept in the logs)"
import os, re, sys
trace, work = sys.argv[1], sys.argv[2]
made, synced, first_seg_sync = [], {}, None
for n, line in enumerate(open(trace)):
    m = re.search(r'mkdir(?:at\(AT_FDCWD, )?\(?"([^"]+)".*\)\s+= 0$', line)
    if m and m.group(1).startswith(work):
        made.append((n, m.group(1)))
    m = re.search(r'\bfsync\(\d+<([^>]+)>\)\s+= 0$', line)
    if m:
        synced.setdefault(m.group(1), []).append(n)
    if first_seg_sync is None and re.search(r'fdatasync\(\d+<[^>]*/log-\d{20}\.seg>\)\s+= 0$', line):
        first_seg_sync = n
want = [work + "/deep", work + "/deep/er", work + "/deep/er/data"]
got = [p for _, p in made]
if got != want:
    sys.exit(f"created {got}, expected {want}")
if first_seg_sync is None:
    sys.exit("no fdatasync of a log segment in the trace")
for n, path in made:
    parent = os.path.dirname(path)
    after = [s for s in synced.get(parent, []) if n < s < first_seg_sync]
    if not after:
        sys.exit(f"mkdir {path} (line {n}) is not followed by an fsync of {parent} "
                 f"before the first segment fdatasync (line {first_seg_sync})")
    print(f"mkdir {path}: parent fsync'd at trace line {after[0]}")
PY
pass "every directory the broker creates has its parent fsync'd before the first entry is durable"
