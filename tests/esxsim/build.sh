#!/usr/bin/env bash
# Build esxsim (main.go and the other *.go here) offline against Debian's govmomi (golang-github-vmware-govmomi-dev, from
# tools/setup.sh): GOPATH mode, no module download. Usage: build.sh OUTPUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT}
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/esxsim"
cp "$here"/*.go "$gopath/src/esxsim/"
cd "$gopath/src/esxsim"
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS='' GOCACHE="${GOCACHE:-$HOME/.cache/go-build}" \
    go build -o "$out" .
