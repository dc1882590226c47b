#!/usr/bin/env bash
# The one test command: installs what is missing (Debian bookworm), builds, and runs the
# whole ctest suite twice: a normal build, then AddressSanitizer + UBSan.
# Then each libFuzzer target runs ZCHAT_FUZZ_SECONDS (60). Usage: scripts/test.sh [--quick]
# Any failure stops the run with a non-zero status (set -e, pipefail).
#   --quick   skip the sanitizer pass and fuzzing (for a fast local loop)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)

bash scripts/deps.sh

step() { printf '\n==== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "format (clang-format --dry-run -Werror, .clang-format)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

step "build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
# ctest's own summary line, kept to print one closing line for the whole run.
run_ctest() {
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure --timeout 900 "$@") | tee "$dir/ctest.out"
  local total
  total=$(grep -oE 'out of [0-9]+' "$dir/ctest.out" | tail -n 1 | grep -oE '[0-9]+')
  passed=$(( passed + ${total:-0} ))
}
passed=0

step "tests (normal build)"
run_ctest build

if [ "$quick" = 1 ]; then echo "test.sh: $passed passed, 0 failed"; exit 0; fi

step "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZCHAT_SANITIZE=ON -DSIM_SEEDS=300 >/dev/null
cmake --build build-asan -j"$jobs"
step "tests (ASan + UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The compose test builds release images and the fault suite runs 3 minutes of real
# time: both ran in the normal pass.
run_ctest build-asan -E 'test_compose|test_faults'


step "fuzz (libFuzzer, ${ZCHAT_FUZZ_SECONDS:-60} s per target)"
bash scripts/fuzz.sh "${ZCHAT_FUZZ_SECONDS:-60}"
passed=$(( passed + $(ls tests/fuzz/fuzz_*.c | wc -l) ))
step "all tests passed"
echo "test.sh: $passed passed, 0 failed"
