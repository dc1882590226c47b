#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS
# (default 60) on its seed corpus. A crash fails the run and leaves the input in
# build-fuzz/crashes/: fix the bug, then add the input to tests/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
      -DZCHAT_FUZZ=ON -DZCHAT_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
mkdir -p build-fuzz/crashes
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus=tests/fuzz/corpus/${name#fuzz_}
  work=build-fuzz/corpus-${name}
  mkdir -p "$work"
  [ -d "$corpus" ] && cp -n "$corpus"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s"
  ./build-fuzz/tests/"$name" -max_total_time="$seconds" -print_final_stats=0 \
      -artifact_prefix=build-fuzz/crashes/"$name"- "$work" 2>&1 | tail -n 2
done
echo "fuzz: no crash in $(ls tests/fuzz/fuzz_*.c | wc -l) targets"
