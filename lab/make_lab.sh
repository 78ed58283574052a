#!/usr/bin/env bash
# `make lab`: image (cached), boot storage-a, storage-b, initiator-1, run playbooks/site.yml and,
# once it exists, playbooks/failover_drill.yml; print what was deployed and verified, with times.
# The lab is left running (`make lab-down` stops it). Set-up (tools/setup.sh) is done by the Makefile.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/env.sh
source "$top/tools/env.sh"
cd "$top"
exec "$RDMA_VENV/bin/python" -m lab run "$@"
