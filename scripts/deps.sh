#!/usr/bin/env bash
# Installs the Debian bookworm packages zchat needs to build and test, if any is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev libedit-dev
      libpcre2-dev libcmocka-dev libsodium-dev libmicrohttpd-dev prometheus clang-format tcpdump tmux clang libclang-rt-14-dev iproute2 procps python3
      gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
