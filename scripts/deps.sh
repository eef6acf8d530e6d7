#!/usr/bin/env bash
# Install (from Debian's packages) everything the build and the tests need,
# on Debian 12 "bookworm", 13 "trixie" or unstable "sid" (the libclang
# bindings and clang are named by version on bookworm only).
# Packages already installed are skipped, so a second run is fast.
#
#   scripts/deps.sh           install what is missing
#   scripts/deps.sh --list    print the package list (scripts/distro.sh)
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

codename=${OPY_SUITE:-$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")}
case "$codename" in
  bookworm) CLANG=(python3-clang-14 clang-14 libclang-rt-14-dev) ;;
  *)        CLANG=(python3-clang clang libclang-rt-dev) ;;
esac

PACKAGES=(
  cmake gcc make pkg-config python3-dev
  orthanc orthanc-dev orthanc-python
  dcmtk procps
  python3-pydicom python3-pytest python3-pytest-xdist
  "${CLANG[@]}" python3-requests python3-numpy
  python3-pil python3-xlwt python3-xlrd mypy
  wrk
  debhelper dh-python dpkg-dev build-essential
)

if [ "${1:-}" = --list ]; then
  echo "${PACKAGES[*]}"
  exit 0
fi
# The host also makes the chroots of the test matrix (scripts/distro.sh).
PACKAGES+=(debootstrap)

# pyright, the typing stubs' second checker (tests/kit/test_kit_stubs.py),
# from the npm registry where npm is (the host; the chroots have none).
PYRIGHT_VERSION=1.1.414
PYRIGHT_DIR=/opt/opy-pyright
if command -v npm >/dev/null && [ ! -x "$PYRIGHT_DIR/node_modules/.bin/pyright" ]; then
  echo "deps: installing pyright $PYRIGHT_VERSION (npm) into $PYRIGHT_DIR"
  npm install --silent --no-audit --no-fund --prefix "$PYRIGHT_DIR" "pyright@$PYRIGHT_VERSION" >/dev/null ||
    echo "deps: npm could not install pyright: tests/kit/test_kit_stubs.py will fail" >&2
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != *'install ok installed'* ]]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "deps: installing ${missing[*]}"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive

# The orthanc package's postinst may try to start its system service. Keep
# services from starting while we install (standard policy-rc.d mechanism),
# but only if no policy is already in place.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi
cleanup() {
  if [ "$created_policy" -eq 1 ]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT

"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
