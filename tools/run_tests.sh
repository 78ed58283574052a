#!/usr/bin/env bash
# make test: one pytest session so that it ends with one summary line. Order matters: cheap
# checks first, the lab (which needs the whole machine) last; -x stops at the first failure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=tools/env.sh
source tools/env.sh
start=$(date +%s)
paths=()
for p in tests/static tests/unit tests/integration/test_esx_simulator.py tests/integration/test_molecule.py tests/integration/test_lab.py; do
    [[ -e $p ]] && paths+=("$p")
done
set +e
pytest -x -v -p no:cacheprovider --durations=15 -o testpaths= "${paths[@]}" "$@"
rc=$?
set -e
echo "make test: $(( $(date +%s) - start )) s of tests (set-up excluded)"
exit $rc
