#!/usr/bin/env bash
# Fault-injection suite: replicas in network namespaces under a seeded schedule of
# kill -9 (one, leader, all), SIGSTOP pauses, isolation, one-way cuts and leader cuts,
# with a recorded client history checked for G1-G6 by tests/fault/checker.py.
# Needs root and `ip netns`; prints SKIPPED and passes otherwise.
# Length: 180 s of faults by default, ZCHAT_FAULT_SECONDS=N overrides, --long runs 900 s.
# ZCHAT_FAULT_SEED fixes the seed (printed by every run, to reproduce a failure).
set -euo pipefail
ZCHAT_SRC=${ZCHAT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZCHAT_BIN=${ZCHAT_BIN:-$ZCHAT_SRC/build}
export ZCHAT_SRC ZCHAT_BIN
SECONDS_OF_FAULTS=${ZCHAT_FAULT_SECONDS:-180}
[ "${1:-}" = "--long" ] && SECONDS_OF_FAULTS=900
exec bash "$ZCHAT_SRC/tests/fault/run.sh" --duration "$SECONDS_OF_FAULTS" --replicas "${ZCHAT_FAULT_REPLICAS:-3}"
