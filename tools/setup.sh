#!/usr/bin/env bash
# One set-up path for everything (make setup, make test, make lab). Idempotent: every step
# checks what is already there, so a second run takes seconds.
# Sources: Debian's apt mirror and PyPI only (no Galaxy, no container registry).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=tools/env.sh
source "$top/tools/env.sh"

log() { printf '[setup] %s\n' "$*"; }
t0=$(date +%s)

# --- 1. Debian packages ------------------------------------------------------------------
# vde2: vde_switch, the lab's VM-to-VM networks (unix sockets, no host IP address).
# golang-go + golang-github-vmware-govmomi-dev: tests/esxsim, the ESX simulator, built offline.
apt_packages=(docker.io debootstrap qemu-system-x86 qemu-utils rsync netcat-openbsd
              iproute2 openssh-client busybox-static cpio zstd e2fsprogs python3-venv unzip
              shellcheck vde2
              golang-go golang-github-vmware-govmomi-dev)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. Docker engine --------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    mkdir -p "$RDMA_CACHE"
    nohup /usr/sbin/dockerd >"$RDMA_CACHE/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { log "dockerd did not start, see $RDMA_CACHE/dockerd.log"; exit 1; }
fi

# --- 3. Python virtualenvs (from Debian's python: it uses the system CA store) -------------
# .venv: the development and test tools; .venv-lowest: the lowest ansible-core meta/runtime.yml
# claims, for the unit tests and ansible-test sanity on it (tests/static/test_static_lowest_core.py).
"$top/tools/venv.sh" "$RDMA_VENV" requirements-dev.txt
"$top/tools/venv.sh" "$RDMA_VENV_LOWEST" requirements-lowest.txt

# --- 4. Collections: this checkout as rdma.ha_storage, dependencies from the `ansible` wheel --
coll="$RDMA_COLLECTIONS/ansible_collections"
mkdir -p "$coll/rdma"
ln -sfn "$top" "$coll/rdma/ha_storage"
# community.docker: the Molecule docker driver; ansible.posix: profile_tasks timing in the lab scenario;
# community.vmware: the esx_initiator role's datastore, rescan and network tasks (galaxy.yml).
deps=(community/docker ansible/posix community/vmware)
need_deps=0
for d in "${deps[@]}"; do [[ -f "$coll/$d/MANIFEST.json" ]] || need_deps=1; done
if ((need_deps)); then
    log "collections ${deps[*]} from the ansible wheel (PyPI)"
    wheel_dir="$RDMA_CACHE/wheels"
    mkdir -p "$wheel_dir"
    wheels=("$wheel_dir"/ansible-12.*.whl)
    if [[ ! -f ${wheels[0]} ]]; then
        "$RDMA_VENV/bin/pip" download -q --no-deps -d "$wheel_dir" "$ANSIBLE_WHEEL_SPEC"
        wheels=("$wheel_dir"/ansible-12.*.whl)
    fi
    wheel=${wheels[-1]}
    tmp=$(mktemp -d)
    patterns=()
    for d in "${deps[@]}"; do patterns+=("ansible_collections/$d/*"); done
    unzip -q "$wheel" "${patterns[@]}" -d "$tmp"
    for d in "${deps[@]}"; do
        rm -rf "${coll:?}/$d"
        mkdir -p "$(dirname "$coll/$d")"
        mv "$tmp/ansible_collections/$d" "$coll/$d"
    done
    rm -rf "$tmp"
fi

# --- 5. ansible-test's pip bootstrap downloads get-pip from an unreachable host: a local
#        stand-in that uses ensurepip, then pip for the requested packages. Each ansible-test
#        asks for its own pip version (2.19: 24.2, 2.16: 23.1.2), so one copy per venv.
for venv in "$RDMA_VENV" "$RDMA_VENV_LOWEST"; do
    pip_version=$("$venv/bin/python" -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])')
    getpip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    if [[ ! -f "$getpip" ]]; then
        mkdir -p "$(dirname "$getpip")"
        cp tools/get_pip_standin.py "$getpip"
    fi
done

# --- 6. Container base images (debootstrap from the Debian mirror) and systemd variants ----
"$top/tools/images.sh"

log "ready in $(( $(date +%s) - t0 )) s"
