# shellcheck shell=bash
# Environment shared by the Makefile, tools/ scripts and tests. Source it; it sets nothing
# outside the checkout but variables.
RDMA_TOP=${RDMA_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RDMA_CACHE=${RDMA_CACHE:-$RDMA_TOP/.cache}
RDMA_VENV=${RDMA_VENV:-$RDMA_TOP/.venv}
# The second venv: the lowest ansible-core meta/runtime.yml claims (not on PATH; the tests call it)
RDMA_VENV_LOWEST=${RDMA_VENV_LOWEST:-$RDMA_TOP/.venv-lowest}
RDMA_COLLECTIONS=$RDMA_CACHE/collections
# ansible 12.x carries collections built for ansible-core 2.19 (the newest core for Python 3.11)
ANSIBLE_WHEEL_SPEC='ansible>=12,<13'
# Container images built by tools/images.sh
RDMA_IMAGE_PREFIX=rdma-ha-storage
export RDMA_TOP RDMA_CACHE RDMA_VENV RDMA_VENV_LOWEST RDMA_COLLECTIONS ANSIBLE_WHEEL_SPEC RDMA_IMAGE_PREFIX
export ANSIBLE_COLLECTIONS_PATH=$RDMA_COLLECTIONS
export PATH=$RDMA_VENV/bin:$PATH
# The lab's Ansible executor (docs/lab.md, "The lab's executor"): Ansible's own linear strategy by
# default; RDMA_LAB_STRATEGY=mitogen_linear runs the playbooks against the QEMU/TCG VMs (molecule/ha_pair,
# `make lab`, `make drill`, the bench) with Mitogen's, which pays a module run's Python start-up and
# imports once per VM. Opt-in: two of its lab scenario runs failed (docs/lab.md). Nothing else uses
# it. The plugins' path is for molecule/ha_pair; the lab tool finds them itself (lab/checks.py).
RDMA_LAB_STRATEGY=${RDMA_LAB_STRATEGY:-linear}
RDMA_LAB_STRATEGY_PLUGINS=$(echo "$RDMA_VENV"/lib/python3*/site-packages/ansible_mitogen/plugins/strategy)
export RDMA_LAB_STRATEGY RDMA_LAB_STRATEGY_PLUGINS
