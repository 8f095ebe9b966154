#!/usr/bin/env bash
# Builds the stock mongorestore (and mongodump) from the mongo-tools Go module into $1 (default
# ~/.cache/org-actions/bin), for the mongorestore integration test. Debian 12 ships no mongo-tools
# package. mongo-tools' release tags (100.x.y) are not Go-module versions, so we ask for a pseudo-version
# of one of its commits. The module proxy reachable here answers 403 for any version it has not cached
# and for the version list (which `go install pkg@version` needs), and which versions it has cached
# changes over time (on 2026-12-05 `@master` and the 2026-07 pin were refused), so we try the pins in
# order (a version that other public modules require, hence cached, first), then `@master`, and build
# inside the downloaded module.
set -euo pipefail

MONGO_TOOLS_VERSIONS=(
  "v0.0.0-20250715155915-887641268977" # 2025-07 master, required by public modules, served on 2026-12-05
  "v0.0.0-20260702221138-e4f25276abe9" # 2026-07 master, served in 2026-11
  "v0.0.0-20240724183527-6d4f001be3fc" # 2024-07 master, served on 2026-12-05
  "master"
)
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
dir=""
for version in "${MONGO_TOOLS_VERSIONS[@]}"; do
  dir="$(module_dir "$version" || true)"
  [[ -d "$dir" ]] && break
  echo "install-mongorestore: mongo-tools@$version is not served by the Go module proxy; trying the next" >&2
done
[[ -d "$dir" ]] || { echo "install-mongorestore: could not download the mongo-tools Go module (tried ${MONGO_TOOLS_VERSIONS[*]})" >&2; exit 1; }
echo "building mongorestore from ${dir##*/}"

build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT
cp -r "$dir/." "$build_dir"
chmod -R u+w "$build_dir"
mkdir -p "$bin_dir"
# Module zips carry vendor/modules.txt but not the vendored code, so dependencies come from the proxy.
rm -rf "$build_dir/vendor"
(cd "$build_dir" && go build -mod=mod -buildvcs=false -o "$bin_dir/mongorestore" ./mongorestore/main \
  && go build -mod=mod -buildvcs=false -o "$bin_dir/mongodump" ./mongodump/main)
echo "mongorestore and mongodump built into $bin_dir"
