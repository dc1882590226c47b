#!/usr/bin/env bash
# test_compose.sh - the Docker packaging works end to end: docker-compose.yml builds the
# image and runs a three-replica cluster that serves chat, survives `docker kill` of its
# leader, lets the killed replica rejoin and catch up, and keeps users and queued
# messages across `down` + `up` (named volumes).
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
        for s in zchat1 zchat2 zchat3; do dc logs --no-color --tail 40 "$s" >&2 2>&1 || true; done
        for f in "$LOG"/*.out; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 20 "$f" >&2; }; done
    fi
    dc --profile tools --profile bench down -v --remove-orphans --timeout 5 >/dev/null 2>&1 || true
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

# Three free host ports for the published client ports.
port_free() { ! ss -ltnH 2>/dev/null | awk '{print $4}' | grep -qE ":$1\$"; }
for _ in $(seq 1 50); do
    base=$(( 10000 + (RANDOM * 7 + $$) % 22000 ))   # below the ephemeral range (32768+)
    if port_free $base && port_free $((base + 1)) && port_free $((base + 2)); then break; fi
done
export ZCHAT_PORT1=$base ZCHAT_PORT2=$((base + 1)) ZCHAT_PORT3=$((base + 2))

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
client() { dc run --rm -T --no-deps client "$@"; }

# status_of N: replica N's own status entry as "role term commit applied", asked with
# the CLI inside N's container (as the healthcheck does; much faster than a run).
status_of() {
    docker exec -i "$(cid "zchat$1")" sh -c "echo status | timeout 5 zchat --json \
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
for n in 1 2 3; do
    user=$(docker inspect -f '{{.Config.User}}' "$(cid zchat$n)")
    [ "$user" = zchat ] || fail "replica $n runs as '$user', not zchat"
done
pass "replicas run as the unprivileged user zchat"
# The published ports reach the replicas from the host (when a host CLI is built).
if [ -x "${ZCHAT_BIN:-}/zchat" ]; then
    for p in "$ZCHAT_PORT1" "$ZCHAT_PORT2" "$ZCHAT_PORT3"; do
        out=$(echo status | timeout 20 "$ZCHAT_BIN/zchat" --json --servers "127.0.0.1:$p" 2>&1) \
            && grep -q '"command":"status"' <<<"$out" \
            || fail "status through published port 127.0.0.1:$p failed: $out"
    done
    pass "published client ports answer from the host"
fi

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
lists_both() { local o; o=$(echo list | client 2>&1) && grep -qw alice <<<"$o" && grep -qw bob <<<"$o"; }
wait_until "$STEP_S" "alice and bob listed after down/up" lists_both
wait_until "$STEP_S" "alice receives the queued message" see_message alice "kept across restarts"
pass "users and a queued message survive down + up (named volumes)"

# ---------------------------------------------------------------- teardown
dc --profile tools --profile bench down -v --remove-orphans --timeout 10 >/dev/null 2>&1 \
    || fail "compose down -v failed"
[ -z "$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ] \
    || fail "volumes left after down -v"
pass "down -v removes containers, network and volumes"
echo "PASS: test_compose"
