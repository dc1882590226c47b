#!/usr/bin/env bash
# A local three-replica cluster without Docker, for trying zchat by hand.
#   scripts/dev-cluster.sh start|stop|status|env|logs [N]
# Replicas listen on 127.0.0.1:7001, 7004, 7007 (each also uses the next two ports);
# data and logs go to ${ZCHAT_DEV_DIR:-./dev-cluster}. Set ZCHAT_DEV_REPLICAS=5 for five.
# CURVE keys: `start` makes whatever is missing in $ZCHAT_DEV_DIR/keys with zchat-keys
# (never overwriting a key) and prints the exports a shell needs to use the cluster;
# `eval "$(scripts/dev-cluster.sh env)"` prints only those.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ZCHAT_BIN:-$root/build}
dir=${ZCHAT_DEV_DIR:-$root/dev-cluster}
n=${ZCHAT_DEV_REPLICAS:-3}
base=${ZCHAT_DEV_PORT:-7001}
peers=""
for i in $(seq 1 "$n"); do peers+="${peers:+,}127.0.0.1:$(( base + 3 * (i - 1) ))"; done

case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac   # absolute: the exports work from anywhere
keys=$dir/keys
exports() {
  echo "export ZCHAT_SERVERS=$peers"
  echo "export ZCHAT_SERVER_KEY=$keys/server.cert"
}
alive() { [ -f "$dir/replica-$1.pid" ] && kill -0 "$(cat "$dir/replica-$1.pid")" 2>/dev/null; }

case "${1:-}" in
  start)
    [ -x "$bin/zchat-broker" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
    [ -x "$bin/zchat-keys" ] || { echo "no $bin/zchat-keys: build first" >&2; exit 1; }
    mkdir -p "$dir"
    # init only fills in missing keys; say only what it made
    "$bin/zchat-keys" init "$keys" --replicas "$n" | { grep -v '^zchat-keys: kept' || true; }
    for i in $(seq 1 "$n"); do
      if alive "$i"; then echo "replica $i already running (pid $(cat "$dir/replica-$i.pid"))"; continue; fi
      # huge pages for malloc's heap, as in docker/Dockerfile
      GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1} \
      "$bin/zchat-broker" --id "$i" --peers "$peers" --data "$dir/data-$i" --keys "$keys" >>"$dir/replica-$i.log" 2>&1 &
      echo $! >"$dir/replica-$i.pid"
      echo "replica $i started (pid $!), log $dir/replica-$i.log"
    done
    exports
    ;;
  env)
    [ -f "$keys/server.cert" ] || echo "# no $keys/server.cert yet: run $0 start" >&2
    exports
    ;;
  stop)
    for i in $(seq 1 "$n"); do
      if alive "$i"; then kill -TERM "$(cat "$dir/replica-$i.pid")"; echo "replica $i stopped"; fi
      rm -f "$dir/replica-$i.pid"
    done
    ;;
  status)
    for i in $(seq 1 "$n"); do
      if alive "$i"; then echo "replica $i: running (pid $(cat "$dir/replica-$i.pid"))"; else echo "replica $i: stopped"; fi
    done
    if [ -x "$bin/zchat" ]; then echo status | "$bin/zchat" --servers "$peers" --server-key "$keys/server.cert" || true; fi
    ;;
  logs)
    tail -n 50 "$dir/replica-${2:-1}.log"
    ;;
  *)
    echo "usage: $0 start|stop|status|env|logs [N]" >&2; exit 2 ;;
esac
