#!/usr/bin/env bash
# Container images for Molecule, built from Debian's mirror only (no registry can be pulled):
#   $RDMA_IMAGE_PREFIX/debian:12, :13            debootstrap minbase + python3, docker import
#   $RDMA_IMAGE_PREFIX/debian-systemd:12, :13    the above + systemd as PID 1 (tools/images/)
# An image is rebuilt only when its recipe (package list and release, or the Dockerfile) changes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/env.sh
source "$top/tools/env.sh"

log() { printf '[images] %s\n' "$*"; }

# The Debian mirror this machine's apt uses (deb822 sources first, then sources.list).
debian_mirror() {
    local uri
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
          awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
    [[ -n "$uri" ]] || uri=$(grep -hE '^deb +(\[[^]]*\] +)?https?://' /etc/apt/sources.list 2>/dev/null |
          sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}' | grep -E '/debian/?$' | head -n 1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

base_include=python3,python3-apt,ca-certificates
# What a base image is made of (the build function's own text, packages, codename): a change
# rebuilds it.
base_hash() { { declare -f build_base; echo "$base_include $1"; } | sha256sum | cut -c1-16; }

image_current() { # image label-value
    [[ "$(docker image inspect -f '{{ index .Config.Labels "rdma.recipe" }}' "$1" 2>/dev/null)" == "$2" ]]
}

build_base() { # version codename
    local image="$RDMA_IMAGE_PREFIX/debian:$1" hash
    hash=$(base_hash "$2")
    image_current "$image" "$hash" && return 0
    local root
    root=$(mktemp -d "$RDMA_CACHE/rootfs-$2.XXXX")
    log "debootstrap $2 from $(debian_mirror) -> $image"
    debootstrap --variant=minbase --include="$base_include" \
        "$2" "$root" "$(debian_mirror)" >"$RDMA_CACHE/debootstrap-$2.log" 2>&1 ||
        { log "debootstrap failed, see $RDMA_CACHE/debootstrap-$2.log"; rm -rf "$root"; return 1; }
    # Containers ship without apt lists (roles update the cache themselves); the lists folder gets
    # an old mtime so that the apt module's cache_valid_time does not take it for a fresh cache.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
    touch -d @0 "$root"/var/lib/apt/lists
    tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' \
        -c "LABEL rdma.recipe=$hash" - "$image" >/dev/null
    rm -rf "$root"
}

build_systemd() { # version
    local base="$RDMA_IMAGE_PREFIX/debian:$1" image="$RDMA_IMAGE_PREFIX/debian-systemd:$1"
    local hash
    hash="$(sha256sum <"$top/tools/images/Dockerfile.systemd" | cut -c1-16)-$(docker image inspect -f '{{.Id}}' "$base" | cut -c8-19)"
    image_current "$image" "$hash" && return 0
    log "systemd variant -> $image"
    DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" --label "rdma.recipe=$hash" \
        -t "$image" -f "$top/tools/images/Dockerfile.systemd" "$top/tools/images" \
        >"$RDMA_CACHE/image-systemd-$1.log" 2>&1 ||
        { cat "$RDMA_CACHE/image-systemd-$1.log"; return 1; }
}

mkdir -p "$RDMA_CACHE"
pids=()
build_base 12 bookworm & pids+=($!)
build_base 13 trixie & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
build_systemd 12
build_systemd 13
