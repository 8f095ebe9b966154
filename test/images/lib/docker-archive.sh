# Wraps a root filesystem tarball into a single-layer `docker load` archive. Sourced, never run.
# shellcheck shell=bash
# Every field is fixed (timestamps at the epoch, sorted tar entries), so the same rootfs gives the
# same image id on every machine and registry caches keyed on the base image stay valid across runs.

# Deterministic tar of DIR (contents only) to OUT.
deterministic_tar() {
  local dir=$1 out=$2
  shift 2
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime "$@" \
    -C "$dir" -cf "$out" .
}

# make_docker_archive ROOTFS_DIR IMAGE_REF CREATED_BY OUT_TAR
make_docker_archive() {
  local rootfs=$1 ref=$2 created_by=$3 out=$4 work arch diff_id config_id
  work=$(mktemp -d)
  mkdir -p "$work/archive/layer"
  deterministic_tar "$rootfs" "$work/archive/layer/layer.tar"
  diff_id=$(sha256sum "$work/archive/layer/layer.tar" | cut -d' ' -f1)
  mv "$work/archive/layer" "$work/archive/$diff_id"
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
  esac
  printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"%s"}]}' \
    "$arch" "$diff_id" "$created_by" >"$work/config.json"
  config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/archive/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$config_id" "$ref" "$diff_id" >"$work/archive/manifest.json"
  mkdir -p "$(dirname "$out")"
  deterministic_tar "$work/archive" "$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$work"
}
