#!/usr/bin/env bash
# The one test command: installs what is missing (Debian bookworm), builds, and runs the
# whole ctest suite twice: a normal build, then AddressSanitizer + UBSan.
# Then the libFuzzer targets run briefly. Usage: scripts/test.sh [--quick]
#   --quick   skip the sanitizer pass and fuzzing (for a fast local loop)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)

bash scripts/deps.sh

step() { printf '\n==== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

step "build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
step "tests (normal build)"
(cd build && ctest --output-on-failure --timeout 900)

if [ "$quick" = 1 ]; then exit 0; fi

step "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZCHAT_SANITIZE=ON -DSIM_SEEDS=300 >/dev/null
cmake --build build-asan -j"$jobs"
step "tests (ASan + UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The compose test builds release images: it ran in the normal pass.
(cd build-asan && ctest --output-on-failure --timeout 900 -E 'test_compose')

step "fuzz (libFuzzer, ${ZCHAT_FUZZ_SECONDS:-30} s per target)"
bash scripts/fuzz.sh "${ZCHAT_FUZZ_SECONDS:-30}"
step "all tests passed"
