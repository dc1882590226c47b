#!/usr/bin/env bash
# The fault-suite history checker catches a known lost message, duplicate, phantom,
# reorder, delivery after delete and impossible create pair, and passes a clean history.
set -euo pipefail
ZCHAT_SRC=${ZCHAT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
exec python3 "$ZCHAT_SRC/tests/fault/checker.py" --self-test
