#!/usr/bin/env bash
# test_cli_script.sh - `zchat` with stdin not a terminal, against one real zchat-broker
# (single-replica mode) in a private temp directory: one result line per command in
# command order, exact text and JSON formats, local input checks, exit status, pushes
# to a connected session, exactly-once display across processes, session takeover.
# Waits poll for a condition with a deadline; the broker is killed by pid on exit.
set -u
BIN=${ZCHAT_BIN:-$(pwd)}
FAILS=0
fail () { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
for b in zchat-broker zchat; do
    if [ ! -x "$BIN/$b" ]; then
        echo "FAIL: $BIN/$b is missing: build it first (ZCHAT_BIN=$BIN)"
        exit 1
    fi
done

WORK=$(mktemp -d)
BPID=
cleanup () {
    exec 3>&- 4>&- 2>/dev/null
    for pid in $BPID $(jobs -p); do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/keys.sh"

# A port whose two successors are free too (the broker uses PORT..PORT+2).
port_free () { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((12000 + ($$ % 5000) * 3))
while ! { port_free "$PORT" && port_free $((PORT + 1)) && port_free $((PORT + 2)); }; do
    PORT=$((PORT + 3))
done
export ZCHAT_SERVERS=127.0.0.1:$PORT
(cd "$WORK" && exec "$BIN/zchat-broker" "$PORT") 2>"$WORK/broker.log" &
BPID=$!

# wait_until SECONDS COMMAND...: poll COMMAND until it succeeds or time runs out.
wait_until () {
    local end=$((SECONDS + $1)); shift
    until "$@"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.05
    done
}
broker_up () { echo status | "$BIN/zchat" --timeout 500 >/dev/null 2>&1; }
if ! wait_until 10 broker_up; then
    echo "FAIL: broker on port $PORT not serving after 10 s; its log:"; cat "$WORK/broker.log"
    exit 1
fi

# check NAME EXPECTED_RC EXPECTED_OUTPUT [zchat flags...] < input
check () {
    local name=$1 want_rc=$2 want=$3; shift 3
    local out rc
    out=$("$BIN/zchat" "$@" 2>"$WORK/stderr")
    rc=$?
    [ "$rc" = "$want_rc" ] || fail "$name: exit status $rc, expected $want_rc"
    [ "$out" = "$want" ] || fail "$name: output
--- got:
$out
--- expected:
$want"
}

check "create, list, send" 0 "ok: created alice
ok: created bob
users: alice bob
ok: sent to bob
ok: sent to bob" <<'EOF'
create alice
create bob
list
send bob hello, world
send bob  two  spaces, "quotes" \ and	tab é
EOF
[ -s "$WORK/stderr" ] && fail "stderr not empty in a clean run: $(cat "$WORK/stderr")"

check "server errors fail the run" 1 "error: USER_EXISTS: user 'bob' already exists
error: NO_SUCH_USER: user 'nobody' does not exist
ok: created carol" <<'EOF'
create bob
send nobody hi
create carol
EOF

LONG=$(head -c 801 /dev/zero | tr '\0' x)
check "bad input is caught locally, in order" 1 "error: UNKNOWN_COMMAND: unknown command 'frobnicate' (try 'help')
error: BAD_NAME: invalid name 'bad/name': names are 1-32 characters of A-Z a-z 0-9 _ . -
error: MISSING_FIELD: missing NAME: usage: delete NAME
error: MISSING_FIELD: missing TEXT: usage: send NAME TEXT...
error: TEXT_TOO_LONG: message too long: at most 800 bytes
error: UNKNOWN_COMMAND: too many arguments for 'create' (try 'help')
users: alice bob carol" <<EOF
frobnicate
create bad/name
delete
send bob
send bob $LONG
create x y

# comments and blank lines give no result
list
EOF

# Secrets in scripts: from a file or the environment; passwd takes the new one too.
printf 'first secret\n' >"$WORK/pw1"
printf 'second secret\n' >"$WORK/pw2"
check "create with --password-file" 0 "ok: created pia" --password-file "$WORK/pw1" <<<"create pia"
check "passwd with both files" 0 "ok: secret of pia changed" \
    --password-file "$WORK/pw1" --new-password-file "$WORK/pw2" <<<"passwd pia"
check "the old secret no longer works" 1 "error: AUTH_FAILED: wrong secret for user 'pia'" \
    --password-file "$WORK/pw1" <<<"delete pia"
check "passwd without a new secret is refused locally" 1 \
    "error: BAD_SECRET: passwd pia needs a new secret: give --new-password-file FILE or set ZCHAT_NEW_PASSWORD" \
    --password-file "$WORK/pw2" <<<"passwd pia"
check "the new secret works" 0 "ok: deleted pia" --password-file "$WORK/pw2" <<<"delete pia"

check "quit stops reading" 0 "ok: created dave" <<'EOF'
create dave
quit
create never
EOF
check "after quit nothing was sent" 0 "users: (none)" <<<"list ^never$"

# Pipelined: 60 commands in flight, results still in command order.
{
    for i in $(seq 1 60); do echo "create p$i"; done
    echo "list ^p[0-9]+$"
} >"$WORK/pipeline.in"
want=$(for i in $(seq 1 60); do echo "ok: created p$i"; done
       echo "users: $(for i in $(seq 1 60); do echo "p$i"; done | sort | tr '\n' ' ' | sed 's/ $//')")
check "pipelined results in order" 0 "$want" <"$WORK/pipeline.in"

out=$(printf 'create erin\nsend nobody x\nlist ^erin$\n' | "$BIN/zchat" --json \
      | sed -E 's/"epoch":[0-9]+/"epoch":EPOCH/')
want='{"type":"reply","command":"create","name":"erin","epoch":EPOCH}
{"type":"error","command":"send","code":"NO_SUCH_USER","message":"user '"'"'nobody'"'"' does not exist"}
{"type":"reply","command":"list","users":["erin"]}'
[ "$out" = "$want" ] || fail "json lines: got
$out
--- expected:
$want"

# Queued messages are delivered on connect, exactly as sent, and shown exactly once:
# the first session acks them, so a second connect shows nothing.
out=$(printf 'connect bob\n' | "$BIN/zchat" --json --wait 1)
echo "$out" | grep -Eq '^\{"type":"reply","command":"connect","name":"bob","epoch":[0-9]+,"mseq":2\}$' \
    || fail "json connect reply: $out"
echo "$out" | grep -Fq '"seq":1,' || fail "first message missing: $out"
echo "$out" | grep -Fq '"text":"hello, world"}' || fail "text of message 1: $out"
echo "$out" | grep -Fq '"text":"two  spaces, \"quotes\" \\ and\ttab é"}' \
    || fail "text of message 2 not exact: $out"
[ "$(echo "$out" | grep -c '"type":"message"')" = 2 ] || fail "expected 2 messages: $out"
out=$(printf 'connect bob\n' | "$BIN/zchat" --wait 0.5)
[ "$out" = "ok: connected as bob" ] || fail "acked messages shown again: $out"

# A connected session gets pushes as they happen; a second connect takes it over.
mkfifo "$WORK/rx.in"
"$BIN/zchat" <"$WORK/rx.in" >"$WORK/rx.out" 2>&1 &
RX=$!
exec 3>"$WORK/rx.in"
echo "connect carol" >&3
wait_until 10 grep -q "^ok: connected as carol$" "$WORK/rx.out" || fail "receiver did not connect"
check "send to a connected user" 0 "ok: sent to carol" <<<"send carol live, now"
wait_until 10 grep -Fqx "[carol] live, now" "$WORK/rx.out" \
    || fail "push not shown: $(cat "$WORK/rx.out")"
check "takeover" 0 "ok: connected as carol" <<<"connect carol"
wait_until 10 grep -q "^closed: session of carol ended: REPLACED" "$WORK/rx.out" \
    || fail "old session not told it was replaced: $(cat "$WORK/rx.out")"
exec 3>&-
wait "$RX" || fail "receiver exit status $?"

# Delete of a connected user closes its session.
mkfifo "$WORK/rx2.in"
"$BIN/zchat" <"$WORK/rx2.in" >"$WORK/rx2.out" 2>&1 &
RX=$!
exec 4>"$WORK/rx2.in"
echo "connect dave" >&4
wait_until 10 grep -q "^ok: connected as dave$" "$WORK/rx2.out" || fail "dave did not connect"
check "delete connected user" 0 "ok: deleted dave" <<<"delete dave"
wait_until 10 grep -q "^closed: session of dave ended: USER_DELETED" "$WORK/rx2.out" \
    || fail "deleted user's session not closed: $(cat "$WORK/rx2.out")"
exec 4>&-
wait "$RX"

check "no server: timeout error" 1 "error: TIMEOUT: no reply from the server (nothing heard at all: is ZCHAT_SERVER_KEY the cluster's server.cert? is the cluster up?)" \
    --servers 127.0.0.1:1 --timeout 300 <<<"create zed"

check "bad flags" 2 "" --wait never </dev/null

if [ "$FAILS" -ne 0 ]; then
    echo "broker log tail:"; tail -20 "$WORK/broker.log"
    echo "$FAILS check(s) failed"
    exit 1
fi
echo "all scripted-mode checks passed"
