#!/usr/bin/env bash
# docker-base-image.sh - make sure the image debian:bookworm-slim exists locally.
#
# Where a registry is reachable, `docker pull` gives it. Where none is (air-gapped
# build machines), the same Debian release is bootstrapped from the Debian mirror that
# apt on this host already uses, and imported as debian:bookworm-slim, so that
# docker/Dockerfile builds unchanged either way. Idempotent: does nothing when the
# image is already there. Needs root (debootstrap) only on the bootstrap path.
#
# Env: ZCHAT_BASE_IMAGE (default debian:bookworm-slim), ZCHAT_DEBIAN_MIRROR (override
# the mirror found in apt's sources), ZCHAT_NO_PULL=1 (skip the pull attempt).
set -euo pipefail

image="${ZCHAT_BASE_IMAGE:-debian:bookworm-slim}"
suite=bookworm
say() { echo "docker-base-image: $*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
    say "$image already present, nothing to do"
    exit 0
fi

if [ "${ZCHAT_NO_PULL:-0}" != 1 ]; then
    say "trying: docker pull $image"
    if timeout 60 docker pull "$image" >/dev/null 2>&1; then
        say "pulled $image"
        exit 0
    fi
    say "pull failed (no registry?); bootstrapping $image from a Debian mirror"
fi

# The first plain Debian archive URI apt is configured with (deb822 .sources or
# one-line .list), so that we go through whatever mirror this host can reach.
find_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
    done
}
mirror="${ZCHAT_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
    # Keep the main archive (…/debian), not -security or third-party repositories.
    mirror="$(find_mirror | grep -E '/debian/?$' | head -n1 || true)"
fi
if [ -z "$mirror" ]; then
    mirror=http://deb.debian.org/debian
    say "no Debian mirror found in apt sources; falling back to $mirror"
fi
say "mirror: $mirror"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap with apt-get"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

rootfs="$(mktemp -d "${TMPDIR:-/tmp}/zchat-rootfs.XXXXXX")"
cleanup() { $SUDO rm -rf --one-file-system "$rootfs"; }
trap cleanup EXIT

say "debootstrap --variant=minbase $suite $rootfs $mirror (takes a minute or two)"
$SUDO debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    say "debootstrap failed; last lines of its log:"
    tail -n 20 "$rootfs.log" >&2
    rm -f "$rootfs.log"
    exit 1
}
rm -f "$rootfs.log"

# Slim it the way the official -slim image is: no apt lists, caches, docs or man pages.
$SUDO rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
# debootstrap records the mirror it used; make sure apt inside the image uses it too.
echo "deb $mirror $suite main" | $SUDO tee "$rootfs/etc/apt/sources.list" >/dev/null

say "importing $rootfs as $image"
$SUDO tar --numeric-owner -C "$rootfs" -c . \
    | docker import --change 'CMD ["bash"]' - "$image" >/dev/null
say "done: $(docker image inspect --format '{{.Id}} {{.Size}} bytes' "$image")"
