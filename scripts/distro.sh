#!/usr/bin/env bash
# Test matrix: build and test the plugin on another Debian distribution, in a
# debootstrap chroot.
#
#   scripts/distro.sh SUITE [test|sanitize|bench|shell|prepare] [ARGS...]
#
#   SUITE    trixie (Orthanc 1.12.7, Python 3.13) or sid (Orthanc 1.13.0,
#            Python 3.14); bookworm works too (the host's own distribution).
#   prepare  only make (or reuse) the chroot
#   test     (default) copy the checkout in, build, run the C unit tests and
#            the integration + robustness suites against the distribution's
#            Orthanc; ARGS go to pytest (scripts/test.sh inside the chroot)
#   sanitize scripts/sanitize.sh ARGS (the suite against an ASan + UBSan build)
#            inside the chroot
#   bench    the benchmarks (bench/run.py ARGS, or bench/OTHER.py ARGS) inside
#            the chroot
#   shell    an interactive shell in the chroot, the checkout in /opy/src
#
# The chroot lives in $OPY_CHROOT_DIR/SUITE (default /var/lib/opy-chroots) and
# is reused by later runs while its package list is unchanged (a stamp file
# records it).  /proc and /dev are mounted while the script runs and
# unmounted on every exit path; services are kept from starting
# (policy-rc.d).  Needs root and debootstrap (installed when missing).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "$#" -ge 1 ] || usage
SUITE=$1; shift
ACTION=${1:-test}; [ "$#" -ge 1 ] && shift
case "$SUITE" in bookworm|trixie|sid) ;; *) usage ;; esac
case "$ACTION" in prepare|test|sanitize|bench|shell) ;; *) usage ;; esac

SRC=$(cd "$(dirname "$0")/.." && pwd)
BASE=${OPY_CHROOT_DIR:-/var/lib/opy-chroots}
ROOT=$BASE/$SUITE
MIRROR=${OPY_MIRROR:-http://deb.debian.org/debian}

# What the build and the tests need inside the chroot: scripts/deps.sh's
# list for that suite (one list for the host and the chroots).
read -r -a PACKAGES <<<"$(OPY_SUITE=$SUITE bash "$SRC/scripts/deps.sh" --list) ca-certificates"
STAMP_TEXT="opy-distro 1 $SUITE ${PACKAGES[*]}"

log() { printf 'distro.sh[%s]: %s\n' "$SUITE" "$*" >&2; }

# mounted, cleanup, mount_into, mount_all, in_root, copy_checkout, trust_host_cas
. "$SRC/scripts/chroot-lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

prepare() {
  if [ -f "$ROOT/.opy-stamp" ] && [ "$(cat "$ROOT/.opy-stamp")" = "$STAMP_TEXT" ]; then
    log "reusing $ROOT"
    mount_all
    trust_host_cas || true
    return
  fi
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get install -y -q debootstrap >/dev/null
  }
  if [ ! -f "$ROOT/.opy-base" ]; then
    log "debootstrap $SUITE into $ROOT"
    rm -rf "$ROOT.tmp"
    mkdir -p "$BASE"
    debootstrap --variant=minbase "$SUITE" "$ROOT.tmp" "$MIRROR" >"$BASE/$SUITE.debootstrap.log" 2>&1 || {
      tail -n 20 "$BASE/$SUITE.debootstrap.log" >&2; exit 1; }
    rm -rf "$ROOT"
    mv "$ROOT.tmp" "$ROOT"
    touch "$ROOT/.opy-base"
  fi
  # The registry's snapshot of sid has an expired Release file.
  if [ "$SUITE" = sid ]; then
    echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99opy-no-valid-until"
  fi
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  mount_all
  log "installing ${#PACKAGES[@]} packages"
  in_root apt-get update -q >/dev/null
  in_root apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" \
    >"$BASE/$SUITE.apt.log" 2>&1 || { tail -n 30 "$BASE/$SUITE.apt.log" >&2; exit 1; }
  trust_host_cas || true
  printf '%s' "$STAMP_TEXT" >"$ROOT/.opy-stamp"
}

copy_source() {
  # The checkout (tracked and untracked files, not the build folders) into
  # /opy/src; a fresh copy every run.
  copy_checkout "$ROOT/opy/src"
  # shared/ beside the checkout (the seed page and the references the tests
  # compare with), as on the host
  rm -rf "$ROOT/opy/shared"
  if [ -d "$SRC/../shared" ]; then
    cp -rL "$SRC/../shared" "$ROOT/opy/shared"
    chmod -R u+w "$ROOT/opy/shared"
  fi
}

prepare
[ "$ACTION" = prepare ] && exit 0
copy_source
case "$ACTION" in
  test)
    # deps.sh finds everything installed; the results stay in the chroot
    # (build/ under /opy/src) for inspection.
    # The fuzzers and the sanitized run are the host's (bookworm) part of
    # the matrix: OPY_FUZZ_RUN / OPY_SANITIZED_RUN=1 to run them here too.
    # OPY_EXTRA_CONFIG (JSON) is merged into every test server's configuration.
    # OPY_SDK_HEADER=FILE builds against that header instead of the suite's
    # own (copied into the chroot as /opy/sdk/orthanc/OrthancCPlugin.h).
    extra=()
    if [ -n "${OPY_SDK_HEADER:-}" ]; then
      rm -rf "$ROOT/opy/sdk" && mkdir -p "$ROOT/opy/sdk/orthanc"
      cp "$OPY_SDK_HEADER" "$ROOT/opy/sdk/orthanc/OrthancCPlugin.h"
      extra=(OPY_BUILD=build-sdk OPY_CMAKE_ARGS=-DORTHANC_SDK_HEADER=/opy/sdk/orthanc/OrthancCPlugin.h)
    fi
    in_root env OPY_DISTRO="$SUITE" OPY_FUZZ_RUN="${OPY_FUZZ_RUN:-0}" OPY_EXTRA_CONFIG="${OPY_EXTRA_CONFIG:-}" \
      OPY_SANITIZED_RUN="${OPY_SANITIZED_RUN:-0}" "${extra[@]}" \
      bash -c 'cd /opy/src && bash scripts/test.sh "$@"' test.sh "$@"
    ;;
  sanitize)
    in_root env OPY_DISTRO="$SUITE" OPY_EXTRA_CONFIG="${OPY_EXTRA_CONFIG:-}" \
      bash -c 'cd /opy/src && bash scripts/deps.sh >/dev/null && bash scripts/sanitize.sh "$@"' sanitize "$@"
    ;;
  bench)
    # the runner: bench/run.py, or the bench/*.py given first
    runner=bench/run.py
    if [[ "${1:-}" == bench/*.py ]]; then runner=$1; shift; fi
    in_root env OPY_DISTRO="$SUITE" OPY_RUNNER="$runner" bash -c 'cd /opy/src && bash scripts/deps.sh >/dev/null &&
      cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 >/dev/null &&
      /usr/bin/python3 "$OPY_RUNNER" "$@"' bench "$@"
    ;;
  shell)
    in_root bash -c 'cd /opy/src && exec bash -i'
    ;;
esac
