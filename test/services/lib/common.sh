# Shared settings and helpers for test/services/{install,up,down}. Sourced, never run.
# shellcheck shell=bash disable=SC2034  # settings here are used by the scripts that source this file

SERVICES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$SERVICES_DIR/../.." && pwd)
IMAGES_DIR="$REPO_ROOT/test/images"

TOOL_CACHE="${ORG_ACTIONS_TOOL_CACHE:-$HOME/.cache/org-actions}"
TOOL_BIN="$TOOL_CACHE/bin"
IMAGE_CACHE="$TOOL_CACHE/images"
STATE_DIR="${SERVICES_STATE_DIR:-${TMPDIR:-/tmp}/org-actions-services}"
ENV_FILE="${SERVICES_ENV_FILE:-$SERVICES_DIR/.env}"

# Non-default ports, so a developer's own servers on the standard ports are never touched.
MYSQL_PORT="${SERVICES_MYSQL_PORT:-13306}"
# Oracle MySQL beside MariaDB, for the MySQL-flavour tests (see ORACLE_MYSQL_PREFIX).
ORACLE_MYSQL_PORT="${SERVICES_ORACLE_MYSQL_PORT:-13307}"
MONGO_PORT="${SERVICES_MONGO_PORT:-17017}"
# FerretDB serves TLS on its own port (mongod takes both on MONGO_PORT).
MONGO_TLS_PORT="${SERVICES_MONGO_TLS_PORT:-17018}"
S3_PORT="${SERVICES_S3_PORT:-19000}"
S3_CONSOLE_PORT="${SERVICES_S3_CONSOLE_PORT:-19001}"
REGISTRY_PORT="${SERVICES_REGISTRY_PORT:-15000}"
# Our dockerd gets its own bridge so it never shares docker0 (and its IP pool) with another daemon.
DOCKER_BRIDGE_CIDR="${SERVICES_DOCKER_BRIDGE_CIDR:-172.29.213.1/24}"
S3_REGION="${SERVICES_S3_REGION:-us-east-1}"

# Pinned tool versions (issue 2). MinIO's pinned commit may be missing from the Go proxy (403),
# in which case install falls back to the newest version the proxy serves and says so.
FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2
MINIO_MODULE=github.com/minio/minio
MINIO_PINNED_VERSION=v0.0.0-20251015172955-9e49d5e7a648 # commit 9e49d5e7a648, RELEASE.2025-10-15
MINIO_FALLBACK_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
ACTIONLINT_MODULE=github.com/rhysd/actionlint
ACTIONLINT_VERSION=v1.7.12
ACT_MODULE=github.com/nektos/act
ACT_VERSION=v0.2.87 # keep in step with actVersion in scripts/act/tools.ts
# The Node.js the end-to-end tests run the action bundles with: action.yml says `using: node24`, so
# GitHub runs them on its Node 24, not on the Node that runs vitest. From npm's node-linux-<arch> package
# (npm checks its sha512), into the tool cache as bin/node24.
ACTION_NODE_VERSION=24.22.3
# Oracle MySQL: bookworm and trixie have none; sid has the current LTS (9.7). Its packages need a newer
# glibc and libstdc++ than bookworm's, so install unpacks them with those libraries into this prefix and
# they run through that glibc's own loader: nothing of the system changes. Sid moves on: install takes
# what it has then, and `up` reports the version.
ORACLE_MYSQL_PREFIX="$TOOL_CACHE/oracle-mysql"
ORACLE_MYSQL_PACKAGES=(mysql-server-core mysql-client-core)

# oracle_mysql PROGRAM ARGS...: runs a program of the unpacked Oracle MySQL (mysqld, mysql, mysqladmin).
oracle_mysql() {
  local name=$1 path
  shift
  case "$name" in
    mysqld) path="$ORACLE_MYSQL_PREFIX/usr/sbin/mysqld" ;;
    *) path="$ORACLE_MYSQL_PREFIX/usr/bin/$name" ;;
  esac
  "$(oracle_mysql_loader)" --library-path "$(oracle_mysql_library_path)" "$path" "$@"
}
# The loader of the unpacked glibc, or nothing (never fails: callers test for an empty answer).
oracle_mysql_loader() { compgen -G "$ORACLE_MYSQL_PREFIX/usr/lib/$(uname -m)-linux-gnu/ld-linux*.so.*" | head -n 1 || true; }
oracle_mysql_library_path() {
  local triplet
  triplet="$(uname -m)-linux-gnu"
  echo "$ORACLE_MYSQL_PREFIX/usr/lib/$triplet:$ORACLE_MYSQL_PREFIX/lib/$triplet"
}

BASE_IMAGE_REPO=localhost/org-actions/busybox
DEBIAN_IMAGE_REF=localhost/org-actions/debian:bookworm
DEBIAN_IMAGE_TAR="$IMAGE_CACHE/debian-bookworm.tar"

log() { printf '[services] %s\n' "$*"; }
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }

# Runs "$@" and prints how long it took under LABEL.
timed() {
  local label=$1 start
  shift
  start=$(now)
  "$@"
  log "$label: done in $(since "$start")"
}

# A short stable id of the state dir: names the docker bridge and containerd namespace.
state_id() { printf '%s' "$STATE_DIR" | sha256sum | cut -c1-8; }

# The Go toolchain: PATH first, then the official tarball location.
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  elif [ -x /usr/lib/go/bin/go ]; then
    echo /usr/lib/go/bin/go
  fi
}

# The main module version recorded in a Go binary ("" when absent or not a Go binary).
go_binary_version() {
  local binary=$1 module=$2 go
  go=$(find_go)
  [ -x "$binary" ] && [ -n "$go" ] || return 0
  "$go" version -m "$binary" 2>/dev/null | awk -v m="$module" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }'
}

# The real mongod, when present, is preferred over FerretDB.
find_mongod() { command -v mongod 2>/dev/null || true; }

# --- processes started by `up` -------------------------------------------------------------------
# Each service has $STATE_DIR/<name>/pid; the command line is checked too, so a recycled pid is
# never mistaken for our server (and never signalled by `down`).

service_pid() {
  local name=$1 pid
  [ -f "$STATE_DIR/$name/pid" ] || return 1
  pid=$(<"$STATE_DIR/$name/pid")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -f "$STATE_DIR/$name/exe" ] || return 1
  # /proc/<pid>/cmdline is NUL-separated; its first word must be the binary we started.
  [ "$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 1p)" = "$(<"$STATE_DIR/$name/exe")" ] || return 1
  # A server started through a loader (Oracle MySQL) also names its program: the loader alone runs other things too.
  if [ -f "$STATE_DIR/$name/program" ]; then
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$(<"$STATE_DIR/$name/program")" || return 1
  fi
  echo "$pid"
}

# Starts "$@" (binary given by absolute path) detached in its own session, logging to <name>/log.
start_service() {
  local name=$1
  shift
  mkdir -p "$STATE_DIR/$name"
  printf '%s' "$1" >"$STATE_DIR/$name/exe"
  printf '\n==== %s: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$STATE_DIR/$name/log"
  # fd 9 is the up/down lock: a server must not inherit (and hold) it.
  setsid "$@" >>"$STATE_DIR/$name/log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE_DIR/$name/pid"
}

# Polls CHECK... every 0.2s until it succeeds; fails after TIMEOUT seconds or when NAME's process died.
wait_ready() {
  local name=$1 timeout=$2 start
  shift 2
  start=$(now)
  while ! "$@" >/dev/null 2>&1; do
    # Only kill -0 here: until setsid has exec'd the server, the pid's command line is still bash's.
    if ! kill -0 "$(<"$STATE_DIR/$name/pid")" 2>/dev/null; then
      tail -n 30 "$STATE_DIR/$name/log" >&2 || true
      die "$name exited during startup; its log is $STATE_DIR/$name/log (last lines above)"
    fi
    if awk -v s="$start" -v e="$(now)" -v t="$timeout" 'BEGIN { exit !(e - s > t) }'; then
      tail -n 30 "$STATE_DIR/$name/log" >&2 || true
      die "$name not ready after ${timeout}s; its log is $STATE_DIR/$name/log (last lines above)"
    fi
    sleep 0.2
  done
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_in_use() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# A random secret of hex characters (safe in URLs and config files).
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# Reads a secret kept in the state dir, creating it on first use (mode 600).
state_secret() {
  local file="$STATE_DIR/secrets/$1" bytes=$2
  if [ ! -s "$file" ]; then
    mkdir -p "$STATE_DIR/secrets"
    chmod 700 "$STATE_DIR/secrets"
    (umask 077 && random_hex "$bytes" >"$file")
  fi
  cat "$file"
}

# mysql://user:secret@host -> mysql://user:***@host, for printing.
mask_url() { sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#' <<<"$1"; }

# --- base images ---------------------------------------------------------------------------------

busybox_image_ref() {
  local version
  version=$(/bin/busybox 2>/dev/null | sed -nE '1s/^BusyBox v([0-9][0-9.]*).*/\1/p')
  echo "$BASE_IMAGE_REPO:${version:-unknown}"
}

# The cached archive is named after the exact package version, so a busybox upgrade rebuilds it.
busybox_image_tar() {
  local version
  version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
  echo "$IMAGE_CACHE/busybox-static-$(tr -c 'A-Za-z0-9.\n' '_' <<<"$version").tar"
}

ensure_busybox_image_tar() {
  local tar ref
  tar=$(busybox_image_tar)
  ref=$(busybox_image_ref)
  if [ -s "$tar" ]; then
    log "base image $ref: cached at $tar"
  else
    timed "base image $ref built" "$IMAGES_DIR/busybox-static/build" "$tar" "$ref"
  fi
}

# A CA and a server certificate for TLS tests (`ssl-mode` in mysql:// URLs, `tls=true` in mongodb:// ones)
# in DIR, made once. The certificate names `localhost` only, so a check of the host name fails for
# 127.0.0.1 (and passes for localhost). server.pem holds certificate and key (mongod reads one file).
make_test_tls() {
  local tls=$1
  [ -f "$tls/server.pem" ] && return
  mkdir -p "$tls"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=org-actions test CA" \
      -keyout "$tls/ca-key.pem" -out "$tls/ca.pem"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server-key.pem" -out "$tls/server.csr"
    printf 'subjectAltName=DNS:localhost\n' >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial \
      -days 3650 -extfile "$tls/server.ext" -out "$tls/server-cert.pem"
    cat "$tls/server-cert.pem" "$tls/server-key.pem" >"$tls/server.pem"
  ) >"$tls/openssl.log" 2>&1 || die "could not create the test TLS certificates; see $tls/openssl.log"
  chmod 644 "$tls/ca.pem" "$tls/server-cert.pem"
}
