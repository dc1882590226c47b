#!/usr/bin/env bash
# test_cli_tty.sh - interactive `zchat` on a real terminal (a tmux pane) against one
# real zchat-broker: the prompt, `help`, the prompt naming the connected user, history
# recall with the Up arrow and its file, Ctrl-C dropping a partial line, and a message
# pushed while a partial line is typed appearing on screen with the partial line kept
# (and still executed correctly on Enter). Every wait polls the screen with a 10 s
# deadline. tmux runs on a private socket; only that server is killed.
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
command -v tmux >/dev/null || { echo "FAIL: tmux is not installed"; exit 1; }

WORK=$(mktemp -d)
TMUX_SOCK=zchat-test-$$
T () { tmux -L "$TMUX_SOCK" "$@"; }
BPID=
cleanup () {
    T kill-server 2>/dev/null
    [ -n "$BPID" ] && kill "$BPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
source "$(dirname "$0")/keys.sh"

port_free () { ! (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=$((27000 + ($$ % 1500) * 3))
while ! { port_free "$PORT" && port_free $((PORT + 1)) && port_free $((PORT + 2)); }; do
    PORT=$((PORT + 3))
done
export ZCHAT_SERVERS=127.0.0.1:$PORT
(cd "$WORK" && exec "$BIN/zchat-broker" "$PORT") 2>"$WORK/broker.log" &
BPID=$!

wait_until () {
    local end=$((SECONDS + $1)); shift
    until "$@"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.05
    done
}
broker_up () { echo status | "$BIN/zchat" --timeout 500 >/dev/null 2>&1; }
wait_until 10 broker_up || { echo "FAIL: broker not serving"; cat "$WORK/broker.log"; exit 1; }

mkdir "$WORK/home"
T -f /dev/null new-session -d -s zt -x 100 -y 30 \
    "env -u ZCHAT_PASSWORD HOME=$WORK/home ZCHAT_SERVERS=$ZCHAT_SERVERS TERM=screen $BIN/zchat; sleep 30"

screen () { T capture-pane -p -t zt; }
# The last non-empty line of the pane: where the prompt and typed input are.
last_line () { screen | sed '/^[[:space:]]*$/d' | tail -n 1 | sed 's/[[:space:]]*$//'; }
screen_has () { screen | grep -Fq -- "$1"; }
last_is () { [ "$(last_line)" = "$1" ]; }
expect_screen () {
    wait_until 10 screen_has "$1" || fail "$2: '$1' not on screen:
$(screen)"
}
expect_last () {
    wait_until 10 last_is "$1" || fail "$2: last line is '$(last_line)', expected '$1'"
}
keys () { T send-keys -t zt "$@"; }

expect_last "zchat>" "prompt"
keys "help" Enter
expect_screen "send NAME TEXT..." "help"
expect_last "zchat>" "prompt after help"

# With no secret given, it is asked for, twice for a new user, and never echoed.
keys "create alice" Enter
expect_last "secret for alice:" "create asks for the secret"
keys "hunter2" Enter
expect_last "again:" "create asks for it again"
keys "hunter2" Enter
expect_screen "ok: created alice" "create"
keys "connect alice" Enter
expect_last "secret for alice:" "connect asks for the secret"
keys "hunter2" Enter
expect_screen "ok: connected as alice" "connect"
screen_has "hunter2" && fail "the secret was echoed:
$(screen)"
expect_last "zchat(alice)>" "prompt names the connected user"

keys Up
expect_last "zchat(alice)> connect alice" "Up recalls the last command"
keys Up
expect_last "zchat(alice)> create alice" "Up again recalls the one before"
keys C-u
expect_last "zchat(alice)>" "line cleared"

# A message arrives while a partial line is typed.
keys "send nobody partial"
expect_last "zchat(alice)> send nobody partial" "partial line typed"
out=$(echo "send alice pushed while typing" | ZCHAT_PASSWORD=hunter2 "$BIN/zchat")
[ "$out" = "ok: sent to alice" ] || fail "scripted sender: $out"
expect_screen "[alice] pushed while typing" "pushed message shown"
expect_last "zchat(alice)> send nobody partial" "partial line kept after the push"
keys Enter
expect_screen "error: NO_SUCH_USER: user 'nobody' does not exist" "partial line still runs"

# Ctrl-C drops a partial line without running it.
keys "delete alice"
expect_last "zchat(alice)> delete alice" "typed before Ctrl-C"
keys C-c
expect_last "zchat(alice)>" "Ctrl-C gives a fresh prompt"
keys "list" Enter
expect_screen "users: alice" "alice not deleted by the dropped line"

keys "quit" Enter
# libedit stores lines vis(3)-encoded: a space is \040
wait_until 10 grep -Eqx 'connect(\\040| )alice' "$WORK/home/.zchat_history" \
    || fail "history file lacks 'connect alice': $(cat "$WORK/home/.zchat_history" 2>&1)"
grep -q hunter2 "$WORK/home/.zchat_history" && fail "the secret went into the history file"

if [ "$FAILS" -ne 0 ]; then
    echo "--- screen:"; screen
    echo "$FAILS check(s) failed"
    exit 1
fi
echo "all interactive checks passed"
