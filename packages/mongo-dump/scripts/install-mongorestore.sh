#!/usr/bin/env bash
# Builds the stock mongorestore (and mongodump) from the mongo-tools Go module into $1 (default
# ~/.cache/org-actions/bin), for the mongorestore integration test. Debian 12 ships no mongo-tools
# package. mongo-tools' release tags (100.x.y) are not Go-module versions, so we ask for a pseudo-version
# of its master branch; the module proxy reachable here answers 403 for a pinned pseudo-version that is
# not cached yet and for the version list (which `go install pkg@version` needs), but serves `@master`,
# so we try the pin, fall back to `@master`, and build inside the downloaded module.
set -euo pipefail

MONGO_TOOLS_VERSION="v0.0.0-20260702221138-e4f25276abe9"
bin_dir="${1:-$HOME/.cache/org-actions/bin}"

if [[ -x "$bin_dir/mongorestore" ]]; then
  echo "mongorestore already in $bin_dir"
  exit 0
fi
command -v go >/dev/null || { echo "install-mongorestore: needs the Go toolchain (go) on PATH" >&2; exit 1; }

module_dir() {
  GOFLAGS=-mod=mod go mod download -json "github.com/mongodb/mongo-tools@$1" 2>/dev/null \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}
dir="$(module_dir "$MONGO_TOOLS_VERSION" || true)"
if [[ ! -d "$dir" ]]; then
  echo "install-mongorestore: ${MONGO_TOOLS_VERSION} not available, using mongo-tools@master" >&2
  dir="$(module_dir master || true)"
fi
[[ -d "$dir" ]] || { echo "install-mongorestore: could not download the mongo-tools Go module" >&2; exit 1; }
echo "building mongorestore from ${dir##*/}"

build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
cp -r "$dir/." "$build_dir"
chmod -R u+w "$build_dir"
mkdir -p "$bin_dir"
(cd "$build_dir" && go build -buildvcs=false -o "$bin_dir/mongorestore" ./mongorestore/main \
  && go build -buildvcs=false -o "$bin_dir/mongodump" ./mongodump/main)
echo "mongorestore and mongodump built into $bin_dir"
