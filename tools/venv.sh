#!/usr/bin/env bash
# tools/venv.sh DIR REQUIREMENTS: make DIR a virtualenv with the pinned REQUIREMENTS installed,
# built from Debian's python (/usr/bin/python3: its pip uses the system CA store). Idempotent:
# DIR/.req-hash records the file it was built from; a venv built from another version of the file
# (or none) is brought up to date, one that matches is left alone.
set -euo pipefail
dir=$1
req=$2
req_hash=$(sha256sum "$req" | cut -c1-16)
if [[ -x "$dir/bin/python" && "$(cat "$dir/.req-hash" 2>/dev/null)" == "$req_hash" ]]; then
    exit 0
fi
printf '[setup] virtualenv %s from %s\n' "$dir" "$req"
/usr/bin/python3 -m venv "$dir"
"$dir/bin/pip" install -q --upgrade pip
"$dir/bin/pip" install -q -r "$req"
echo "$req_hash" >"$dir/.req-hash"
