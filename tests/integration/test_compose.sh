#!/usr/bin/env bash
# test_compose.sh - the Docker packaging works end to end: docker-compose.yml builds the
# image and runs a three-replica cluster that serves chat, survives `docker kill` of its
# leader, lets the killed replica rejoin and catch up, and keeps users and queued
# messages across `down` + `up` (named volumes). Security as shipped: the one-shot keys
# service makes the CURVE keys on the first `up` and a later `up` keeps them; clients
# with the volume's server.cert (or a host CLI given a copy) get in, a client with no
# key, a wrong key or plain ZeroMQ does not. Membership: the spare zchat4 (profile
# spare, --join) is added with `zchat admin add`, votes, and is removed again.
#
# Skips (exit 0, loud line) when no Docker engine answers. Everything it creates lives
# in the compose project zchat-test-PID with its own published ports and image tag,
# and the EXIT trap removes exactly that project (containers, network, volumes) and
# that tag, never anything else.
#
# Env: ZCHAT_SRC (source tree), ZCHAT_COMPOSE_TIMEOUT_S (per-step deadline, default 90).
set -euo pipefail

ZCHAT_SRC=${ZCHAT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STEP_S=${ZCHAT_COMPOSE_TIMEOUT_S:-90}

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "SKIPPED: no Docker engine (docker info failed); test_compose.sh did not run" >&2
    echo "SKIPPED: no Docker engine"
    exit 0
fi
command -v python3 >/dev/null || { echo "FAIL: python3 is needed to read status JSON" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
else
    echo "SKIPPED: Docker engine found but neither 'docker compose' nor docker-compose"
    exit 0
fi

PROJECT=zchat-test-$$
PASSWORD=compose-secret-$$
export ZCHAT_IMAGE=zchat:test-$$
export ZCHAT_UNIT_TESTS=${ZCHAT_UNIT_TESTS:-0}   # ctest runs them outside the image
LOG=$(mktemp -d /tmp/zchat-compose.XXXXXX)
dc() { "${COMPOSE[@]}" -f "$ZCHAT_SRC/docker-compose.yml" --project-directory "$ZCHAT_SRC" \
           -p "$PROJECT" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)
pass() { echo "ok - $* ($(( ($(now_ms) - T0) / 1000 )) s)"; }

cleanup() {
    local rc=$?
    trap - EXIT
    if [ $rc -ne 0 ]; then
        echo "---- replica logs (last 40 lines each) ----" >&2
        for s in keys zchat1 zchat2 zchat3; do dc logs --no-color --tail 40 "$s" >&2 2>&1 || true; done
        for f in "$LOG"/*.out; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }; done
    fi
    dc --profile tools --profile bench --profile spare down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
    # Anything of this project compose did not remove (e.g. a run container left mid-way).
    local ids
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
    ids=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$ids" ] || docker network rm $ids >/dev/null 2>&1 || true
    ids=$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$ids" ] || docker volume rm $ids >/dev/null 2>&1 || true
    # --no-prune keeps the cached build layers for the next run.
    docker image rm --no-prune "$ZCHAT_IMAGE" >/dev/null 2>&1 || true
    rm -rf "$LOG"
    exit $rc
}
trap cleanup EXIT

# Free host ports for the published client and metrics ports (the spare zchat4 too).
port_free() { ! ss -ltnH 2>/dev/null | awk '{print $4}' | grep -qE ":$1\$"; }
for _ in $(seq 1 50); do
    base=$(( 10000 + (RANDOM * 7 + $$) % 22000 ))   # below the ephemeral range (32768+)
    if port_free $base && port_free $((base + 1)) && port_free $((base + 2)) \
       && port_free $((base + 3)) && port_free $((base + 4)) && port_free $((base + 5)) \
       && port_free $((base + 6)) && port_free $((base + 7)); then break; fi
done
export ZCHAT_PORT1=$base ZCHAT_PORT2=$((base + 1)) ZCHAT_PORT3=$((base + 2))
export ZCHAT_METRICS_PORT1=$((base + 3)) ZCHAT_METRICS_PORT2=$((base + 4)) ZCHAT_METRICS_PORT3=$((base + 5))
export ZCHAT_PORT4=$((base + 6)) ZCHAT_METRICS_PORT4=$((base + 7))

# wait_until SECONDS WHAT CMD...: polls CMD every 250 ms until it succeeds.
wait_until() {
    local secs=$1 what=$2; shift 2
    local deadline=$(( $(now_ms) + secs * 1000 ))
    until "$@" >/dev/null 2>&1; do
        [ "$(now_ms)" -lt $deadline ] || fail "timed out after $secs s waiting for: $what"
        sleep 0.25
    done
}

SERVICE_PORT=([1]=7001 [2]=7004 [3]=7007)
# The container of service $1 in this project (docker ps: far faster than compose ps).
cid() { docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
            --filter "label=com.docker.compose.service=$1" --filter "label=com.docker.compose.oneoff=False"; }

# client ARGS...: the zchat CLI in a throw-away container on the cluster network,
# commands on stdin. --no-deps: never (re)start a replica the test stopped on purpose.
# Users' secrets come from ZCHAT_PASSWORD (no terminal to ask on).
client() { dc run --rm -T --no-deps -e ZCHAT_PASSWORD="$PASSWORD" client "$@"; }
# in_keys CMD ARGS...: CMD in a client container, with the keys volume at /keys.
in_keys() { dc run --rm -T --no-deps --entrypoint "$1" client "${@:2}"; }

# status_of N: replica N's own status entry as "role term commit applied", asked with
# the CLI inside N's container (as the healthcheck does; much faster than a run).
status_of() {
    docker exec -i -e ZCHAT_SERVER_KEY=/keys/server.cert "$(cid "zchat$1")" \
        sh -c "echo status | timeout 5 zchat --json \
        --servers 127.0.0.1:${SERVICE_PORT[$1]}" 2>/dev/null | python3 -c '
import json, sys
me = int(sys.argv[1])
for line in sys.stdin:
    try: o = json.loads(line)
    except ValueError: continue
    for r in o.get("replicas", []):
        if r.get("id") == me:
            print(r["role"], r["term"], r["commit"], r["applied"]); sys.exit(0)
sys.exit(1)' "$1"
}

running() { [ "$(docker inspect -f '{{.State.Running}}' "$(cid "zchat$1")")" = true ]; }

# The id of the running replica that reports itself leader (highest term wins).
leader_id() {
    local best="" best_term=-1 n role term rest
    for n in 1 2 3; do
        running $n || continue
        read -r role term rest < <(status_of $n) || continue
        if [ "$role" = leader ] && [ "$term" -gt "$best_term" ]; then best=$n; best_term=$term; fi
    done
    [ -n "$best" ] || return 1
    echo "$best"
}

healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$(cid "$1")")" = healthy ]; }
all_healthy() { healthy zchat1 && healthy zchat2 && healthy zchat3; }

# see_message USER TEXT: connecting as USER shows TEXT (once the queue is delivered).
see_message() {
    local out
    out=$(printf 'connect %s\n' "$1" | client --wait 2 2>&1) || true
    echo "$out" >>"$LOG/see_message.out"
    grep -qF -- "$2" <<<"$out"
}
# send_ok USER TEXT: one send acknowledged by the cluster (exit status 0).
send_ok() { printf 'send %s %s\n' "$1" "$2" | client >>"$LOG/send.out" 2>&1; }

# ---------------------------------------------------------------- build and start
echo "# project $PROJECT, image $ZCHAT_IMAGE, host ports $ZCHAT_PORT1 $ZCHAT_PORT2 $ZCHAT_PORT3"
bash "$ZCHAT_SRC/scripts/docker-base-image.sh"
dc build >"$LOG/build.out" 2>&1 || { tail -n 40 "$LOG/build.out" >&2; fail "image build failed"; }
pass "image builds"
dc up -d >"$LOG/up.out" 2>&1 || { cat "$LOG/up.out" >&2; fail "compose up failed"; }
wait_until "$STEP_S" "all three replicas healthy" all_healthy
pass "three replicas up and healthy"

# ---------------------------------------------------------------- keys made on first up
state=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.Config.User}}' "$(cid keys)") \
    || fail "no container of the keys service"
[ "$state" = "exited 0 zchat" ] || fail "keys service: '$state', not 'exited 0 zchat'"
dc logs --no-color keys >"$LOG/keys1.out" 2>&1 || true
grep -q 'made /keys/server.cert_secret' "$LOG/keys1.out" \
    || fail "the first up did not make the server key: $(cat "$LOG/keys1.out")"
# (stderr apart: compose's own lines there name each run's container)
in_keys zchat-keys show /keys >"$LOG/show1.out" 2>"$LOG/show.err" \
    || fail "zchat-keys show /keys failed: $(cat "$LOG/show.err")"
for k in server replica-1 replica-2 replica-3; do
    grep -Eq "^$k .{40}\$" "$LOG/show1.out" || fail "no $k key in the volume: $(cat "$LOG/show1.out")"
done
# secrets mode 600 and the directory 700, all owned by zchat; the public half 644
perms=$(in_keys stat -c '%n %U %a' /keys /keys/members /keys/server.cert /keys/server.cert_secret \
            /keys/replica-1.cert_secret /keys/members/replica-1.cert 2>"$LOG/stat.err") \
    || fail "stat in the keys volume failed: $(cat "$LOG/stat.err")"
expect="/keys zchat 700
/keys/members zchat 700
/keys/server.cert zchat 644
/keys/server.cert_secret zchat 600
/keys/replica-1.cert_secret zchat 600
/keys/members/replica-1.cert zchat 644"
[ "$perms" = "$expect" ] || fail "keys volume owners/modes: $(echo $perms); expected: $(echo $expect)"
pass "the keys service made the cluster's keys in the volume (owner zchat, secrets 600)"

# The host CLI gets the public key as docker-compose.yml's header says.
in_keys cat /keys/server.cert >"$LOG/server.cert" 2>"$LOG/cat.err" \
    || fail "copying server.cert out of the volume failed: $(cat "$LOG/cat.err")"
grep -q '^    public-key = "' "$LOG/server.cert" || fail "server.cert copied out is not a certificate"
! grep -q $'\r' "$LOG/server.cert" || fail "server.cert copied out has CR bytes"
for n in 1 2 3; do
    user=$(docker inspect -f '{{.Config.User}}' "$(cid zchat$n)")
    [ "$user" = zchat ] || fail "replica $n runs as '$user', not zchat"
done
pass "replicas run as the unprivileged user zchat"
# The published ports reach the replicas from the host (when a host CLI is built).
if [ -x "${ZCHAT_BIN:-}/zchat" ]; then
    for p in "$ZCHAT_PORT1" "$ZCHAT_PORT2" "$ZCHAT_PORT3"; do
        out=$(echo status | ZCHAT_SERVER_KEY="$LOG/server.cert" ZCHAT_INSECURE= \
                  timeout 20 "$ZCHAT_BIN/zchat" --json --servers "127.0.0.1:$p" 2>&1) \
            && grep -q '"command":"status"' <<<"$out" \
            || fail "status through published port 127.0.0.1:$p failed: $out"
    done
    pass "published client ports answer a host CLI given the copied server.cert"
    for p in "$ZCHAT_METRICS_PORT1" "$ZCHAT_METRICS_PORT2" "$ZCHAT_METRICS_PORT3"; do
        python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
            "http://127.0.0.1:$p/metrics" >"$LOG/metrics-$p.txt" || fail "no metrics on 127.0.0.1:$p"
        if command -v promtool >/dev/null; then
            promtool check metrics <"$LOG/metrics-$p.txt" || fail "promtool rejects the metrics on $p"
        fi
        grep -q '^zchat_role{role="leader"}' "$LOG/metrics-$p.txt" || fail "metrics on $p lack zchat_role"
    done
    pass "each replica's metrics are published on the host and pass promtool"
    # A follower's NOT_LEADER names the leader by its advertised, published address: a
    # host CLI that knows only the follower reaches the leader at once (with the
    # compose-network name zchat2:7004 it would wait out a 1 s timeout per try).
    wait_until "$STEP_S" "a leader" leader_id
    lead=$(leader_id); follower=$(( lead % 3 + 1 ))
    fport=$(eval echo "\$ZCHAT_PORT$follower")
    t0=$(now_ms)
    out=$(echo list | ZCHAT_SERVER_KEY="$LOG/server.cert" ZCHAT_INSECURE= timeout 20 \
              "$ZCHAT_BIN/zchat" --json --timeout 3000 --servers "127.0.0.1:$fport" 2>&1) \
        || fail "list asked at follower zchat$follower (127.0.0.1:$fport) from the host failed: $out"
    took=$(( $(now_ms) - t0 ))
    [ "$took" -lt 900 ] || fail "list via follower zchat$follower took $took ms: the leader hint was not usable"
    pass "host CLI at follower zchat$follower follows NOT_LEADER to the advertised leader in $took ms"
fi

# ---------------------------------------------------------------- no key, no entry
# A wrong key: a real key pair, just not this cluster's.
wrong=$(docker run --rm --network none --entrypoint sh "$ZCHAT_IMAGE" -c \
            'zchat-keys init /tmp/k >/dev/null && zchat-keys show /tmp/k' | awk '$1 == "server" { print $2 }')
[ ${#wrong} = 40 ] || fail "could not make a second key pair: '$wrong'"
grep -qF -- "$wrong" "$LOG/show1.out" && fail "the 'wrong' key is the cluster's key"
# shut_out WHAT ENV...: status from a client container with ENV changed must fail on
# its own (the CLI's --timeout, not the outer timeout's 124) and print no status.
shut_out() {
    local what=$1 rc=0 out e envs=(); shift
    for e in "$@"; do envs+=(-e "$e"); done
    out=$(echo status | timeout 60 "${COMPOSE[@]}" -f "$ZCHAT_SRC/docker-compose.yml" \
              --project-directory "$ZCHAT_SRC" -p "$PROJECT" run --rm -T --no-deps "${envs[@]}" \
              client --json --timeout 3000 2>&1) || rc=$?
    echo "== $what: rc=$rc" >>"$LOG/shut_out.out"; echo "$out" >>"$LOG/shut_out.out"
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "client with $what: exit $rc (want a failure of its own): $out"
    ! grep -q '"replicas"' <<<"$out" || fail "client with $what got a status reply: $out"
}
shut_out "no server key" ZCHAT_SERVER_KEY=
shut_out "another cluster's key" ZCHAT_SERVER_KEY="$wrong"
shut_out "plain ZeroMQ (--insecure)" ZCHAT_INSECURE=1
if [ -x "${ZCHAT_BIN:-}/zchat" ]; then
    rc=0; echo status | ZCHAT_SERVER_KEY="$wrong" ZCHAT_INSECURE= timeout 30 "$ZCHAT_BIN/zchat" \
        --timeout 3000 --servers "127.0.0.1:$ZCHAT_PORT1" >>"$LOG/shut_out.out" 2>&1 || rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "host CLI with a wrong key: exit $rc"
fi
pass "no key, a wrong key or plain ZeroMQ: the cluster does not answer"

# ---------------------------------------------------------------- chat round trip
out=$(printf 'create alice\ncreate bob\nsend bob hi, there\n' | client 2>&1) \
    || fail "create/create/send failed: $out"
wait_until "$STEP_S" "bob receives 'hi, there'" see_message bob "hi, there"
pass "chat round trip through the client container"
dc run --rm -T --no-deps bench --messages 300 --senders 2 --receivers 2 >"$LOG/bench.out" 2>&1 \
    || fail "zchat-bench in the bench service failed: $(tail -n 5 "$LOG/bench.out")"
pass "bench service: 300 messages acked and delivered exactly once"

# ---------------------------------------------------------------- leader killed
wait_until "$STEP_S" "a leader" leader_id
old=$(leader_id)
docker kill "$(cid zchat$old)" >/dev/null
pass "killed the leader, zchat$old"
wait_until "$STEP_S" "send after failover" send_ok bob "after failover"
wait_until "$STEP_S" "bob receives 'after failover'" see_message bob "after failover"
! running "$old" || fail "zchat$old was restarted behind the test's back"
new=$(leader_id) || fail "no leader among the two survivors"
pass "chat works with zchat$old down; zchat$new leads"

# ---------------------------------------------------------------- rejoin and catch up
read -r _ _ commit _ < <(status_of "$new") || fail "no status from the leader"
dc start "zchat$old" >/dev/null 2>&1 || fail "compose start zchat$old failed"
caught_up() { local r t c a; read -r r t c a < <(status_of "$old") && [ "$a" -ge "$commit" ]; }
wait_until "$STEP_S" "zchat$old applies up to the leader's commit $commit" caught_up
wait_until "$STEP_S" "zchat$old healthy again" healthy "zchat$old"
pass "zchat$old restarted and caught up to commit $commit"

# ---------------------------------------------------------------- membership: the spare
admin() { dc run --rm -T --no-deps client --admin-secret-file /keys/admin.secret "$@"; }
dc --profile spare up -d zchat4 >"$LOG/up4.out" 2>&1 || { cat "$LOG/up4.out" >&2; fail "up zchat4"; }
wait_until "$STEP_S" "zchat4 (started with --join) healthy" healthy zchat4
out=$(echo "admin add 4 zchat4:7010" | admin 2>&1) || fail "admin add 4: $out"
voter4() { echo "admin members" | admin 2>/dev/null | grep -qE '^ *4 voter zchat4:7010 '; }
wait_until "$STEP_S" "zchat4 catches up and votes" voter4
wait_until "$STEP_S" "send with four voters" send_ok bob "four voters"
out=$(echo "admin remove 4" | admin 2>&1) || fail "admin remove 4: $out"
grep -q 'zchat4' <<<"$out" && fail "replica 4 still a member after remove: $out"
dc --profile spare stop --timeout 10 zchat4 >/dev/null 2>&1 || fail "stop zchat4"
code=$(docker inspect -f '{{.State.ExitCode}}' "$(cid zchat4)")
[ "$code" = 0 ] || fail "zchat4 exited with $code on SIGTERM, not 0"
dc --profile spare rm -f zchat4 >/dev/null 2>&1 || fail "rm zchat4"
wait_until "$STEP_S" "send after zchat4 left" send_ok bob "three again"
pass "compose: the spare zchat4 (--join) added with zchat admin add, voted, then removed"

# ---------------------------------------------------------------- down + up keeps data
wait_until "$STEP_S" "queue a message for alice" send_ok alice "kept across restarts"
# SIGTERM reaches the broker (exec-form entrypoint under tini) and it exits cleanly,
# well before the 10 s grace period would end in SIGKILL (exit 137).
dc stop --timeout 10 >/dev/null 2>&1 || fail "compose stop failed"
for n in 1 2 3; do
    code=$(docker inspect -f '{{.State.ExitCode}}' "$(cid zchat$n)")
    [ "$code" = 0 ] || fail "zchat$n exited with $code on SIGTERM, not 0"
done
pass "docker stop: every broker shuts down cleanly on SIGTERM"
dc down --timeout 10 >/dev/null 2>&1 || fail "compose down failed"
[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")" ] \
    || fail "containers left after down"
dc up -d >"$LOG/up2.out" 2>&1 || { cat "$LOG/up2.out" >&2; fail "second compose up failed"; }
wait_until "$STEP_S" "all three replicas healthy after down/up" all_healthy
in_keys zchat-keys show /keys >"$LOG/show2.out" 2>"$LOG/show.err" \
    || fail "zchat-keys show /keys failed after down/up: $(cat "$LOG/show.err")"
cmp -s "$LOG/show1.out" "$LOG/show2.out" \
    || fail "keys changed across down + up: $(diff "$LOG/show1.out" "$LOG/show2.out")"
dc logs --no-color keys >"$LOG/keys2.out" 2>&1 || true
grep -q 'kept /keys/server.cert_secret' "$LOG/keys2.out" && ! grep -q 'made ' "$LOG/keys2.out" \
    || fail "the second up's keys service did not just keep the keys: $(cat "$LOG/keys2.out")"
if [ -x "${ZCHAT_BIN:-}/zchat" ]; then
    echo status | ZCHAT_SERVER_KEY="$LOG/server.cert" ZCHAT_INSECURE= timeout 20 "$ZCHAT_BIN/zchat" \
        --servers "127.0.0.1:$ZCHAT_PORT1" >/dev/null 2>&1 \
        || fail "the host's copy of server.cert no longer works after down + up"
fi
pass "down + up keeps every key: the server key clients hold still works"
lists_both() { local o; o=$(echo list | client 2>&1) && grep -qw alice <<<"$o" && grep -qw bob <<<"$o"; }
wait_until "$STEP_S" "alice and bob listed after down/up" lists_both
wait_until "$STEP_S" "alice receives the queued message" see_message alice "kept across restarts"
pass "users and a queued message survive down + up (named volumes)"

# ---------------------------------------------------------------- teardown
dc --profile tools --profile bench --profile spare down -v --remove-orphans --timeout 10 >/dev/null 2>&1 \
    || fail "compose down -v failed"
[ -z "$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ] \
    || fail "volumes left after down -v"
pass "down -v removes containers, network and volumes"
echo "PASS: test_compose"
